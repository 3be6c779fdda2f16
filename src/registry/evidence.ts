import type { ImageDigest } from '../digest.ts';
import type { GateError } from '../errors.ts';
import { OciClient, type RegistryOptions } from './client.ts';
import { fetchAttTagEvidence } from './cosign-layout.ts';
import type { ImageRef } from './reference.ts';
import { fetchReferrerBundles } from './referrers.ts';
import type { CosignBundleAnnotation } from './schemas.ts';

/**
 * Attestation evidence found in a registry beside an image, fetched and shaped (digests and sizes
 * checked) but not verified: binding and verification are the verifier's job.
 *
 * `location` names the content fetched, as `host/repository@digest` (the DSSE layer blob for `att-tag`,
 * the referrer manifest for `referrer-bundle`), the way `crane blob` / `crane manifest` address them.
 */
export type RegistryEvidence = AttTagEvidence | ReferrerBundleEvidence;

/** A DSSE envelope layer of cosign's `sha256-<hex>.att` manifest (what Tekton Chains and `cosign attest` push). */
export type AttTagEvidence = {
  readonly source: 'att-tag';
  readonly location: string;
  /** The layer's bytes, exactly as served (their sha256 is `layerDigest`). */
  readonly envelopeBytes: Buffer;
  /** Parsed `dev.sigstore.cosign/bundle` annotation (Rekor SET + payload), when present. */
  readonly cosignBundle?: CosignBundleAnnotation;
  /** Why the `dev.sigstore.cosign/bundle` annotation could not be read (the layer then points at no entry). */
  readonly annotationError?: GateError;
  /** `dev.sigstore.cosign/certificate` (PEM), keyless signing. */
  readonly certificatePem?: string;
  /** `dev.sigstore.cosign/chain` (PEM), keyless signing. */
  readonly chainPem?: string;
  /** cosign's `predicateType` annotation, informational only (the statement inside the envelope is authoritative). */
  readonly predicateType?: string;
  /** `<host>/<repo>:sha256-<hex>.att` */
  readonly tag: string;
  readonly manifestDigest: string;
  readonly layerDigest: string;
  readonly annotations: Readonly<Record<string, string>>;
};

/** A Sigstore bundle attached to the image as an OCI 1.1 referrer (`cosign attest --new-bundle-format`). */
export type ReferrerBundleEvidence = {
  readonly source: 'referrer-bundle';
  readonly location: string;
  /** The parsed bundle JSON (shape not checked here: @sigstore/bundle does that). */
  readonly bundle: unknown;
  /** The bundle layer's bytes, exactly as served. */
  readonly bundleBytes: Buffer;
  readonly artifactType: string;
  /** How the referrer was listed: the referrers API or the referrers tag schema. */
  readonly via: 'api' | 'tag-schema';
  readonly manifestDigest: string;
  readonly layerDigest: string;
};

/** Options of the two entry points: a client to reuse (not closed), or the options to make one. */
export type EvidenceOptions = RegistryOptions & { readonly client?: OciClient | undefined };

async function withClient<T>(opts: EvidenceOptions, fn: (client: OciClient) => Promise<T>): Promise<T> {
  if (opts.client) return fn(opts.client);
  const client = new OciClient(opts);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/**
 * The digest an image reference names: its `@digest` when it has one (no request), else the digest of
 * the manifest its tag (default `latest`) names, computed from the manifest's bytes.
 */
export async function resolveDigest(ref: ImageRef, opts: EvidenceOptions = {}): Promise<string> {
  if (ref.digest !== undefined) return ref.digest;
  return withClient(opts, (client) => client.resolveTag(ref, ref.tag ?? 'latest'));
}

/**
 * All attestation evidence the registry holds for the image `digest` in `ref`'s repository: the DSSE
 * layers of the cosign `.att` tag, then the Sigstore bundles attached as referrers. Only `ref`'s registry
 * and repository are used. An absent tag or no referrers is no evidence ([]); a registry that denies
 * access, is unreachable, or serves content that does not match its digest or size cap fails the call.
 * `note` hears what was left out (layers or referrers over their caps).
 */
export async function fetchRegistryEvidence(ref: ImageRef, digest: ImageDigest, opts: EvidenceOptions = {}, note?: (m: string) => void): Promise<RegistryEvidence[]> {
  return withClient(opts, async (client) => {
    const att = await fetchAttTagEvidence(client, ref, digest, note);
    const referrers = await fetchReferrerBundles(client, ref, digest, note);
    return [...att, ...referrers];
  });
}
