// What the registry holds beside an image, as fetched (shaped, digests checked, not verified), and which fetch
// failures are the content's fault (skipped with a note) rather than the registry's reachability.
import { GateError } from '../errors.ts';
import type { CosignBundleAnnotation } from './schemas.ts';

/**
 * Attestation evidence found in a registry beside an image, fetched and shaped (digests and sizes
 * checked) but not verified: binding and verification are the verifier's job.
 *
 * `location` names the content fetched, as `host/repository@digest` (the DSSE layer blob for `att-tag`,
 * the referrer manifest for `referrer-bundle`), the way `crane blob` / `crane manifest` address them.
 */
export type RegistryEvidence = AttTagEvidence | SigTagEvidence | ReferrerBundleEvidence;

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
  /** cosign's `predicateType` annotation, informational only (the statement inside the envelope is authoritative). */
  readonly predicateType?: string;
  /** `<host>/<repo>:sha256-<hex>.att` */
  readonly tag: string;
  readonly manifestDigest: string;
  readonly layerDigest: string;
  readonly annotations: Readonly<Record<string, string>>;
};

/** A simple signing layer of cosign's `sha256-<hex>.sig` manifest (an image signature, not yet verified). */
export type SigTagEvidence = {
  readonly source: 'sig-tag';
  readonly location: string;
  /** The layer's bytes: the signed payload, exactly as served. */
  readonly payload: Buffer;
  /** `dev.cosignproject.cosign/signature`: the base64 signature over the payload ('' when absent). */
  readonly signature: string;
  readonly certificatePem?: string;
  readonly chainPem?: string;
  /** `dev.sigstore.cosign/rfc3161timestamp`, as served (not read: the SET's integrated time judges the signer). */
  readonly rfc3161Timestamp?: string;
  readonly cosignBundle?: CosignBundleAnnotation;
  readonly annotationError?: GateError;
  /** `<host>/<repo>:sha256-<hex>.sig` */
  readonly tag: string;
  readonly manifestDigest: string;
  readonly layerDigest: string;
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

/** What a registry's content (not its reachability) got wrong. */
export function isContentFault(err: unknown): boolean {
  return err instanceof GateError && ['REGISTRY_NOT_FOUND', 'REGISTRY_MALFORMED', 'REGISTRY_DIGEST_MISMATCH', 'RESPONSE_TOO_LARGE', 'HTTP_STATUS'].includes(err.code);
}
