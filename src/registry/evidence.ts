import type { ImageDigest } from '../digest.ts';
import { OciClient } from './client.ts';
import type { RegistryOptions } from './transport.ts';
import { fetchAttTagEvidence, fetchSigTagEvidence } from './cosign-layout.ts';
import type { ImageRef } from './reference.ts';
import { fetchReferrerBundles } from './referrers.ts';
import type { RegistryEvidence } from './evidence-types.ts';

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
 * layers of the cosign `.att` tag, the simple signing layers of its `.sig` tag (with `what.signatures`), then the Sigstore bundles attached as referrers. Only `ref`'s registry
 * and repository are used. An absent tag or no referrers is no evidence ([]); a registry that denies
 * access, is unreachable, or serves content that does not match its digest or size cap fails the call.
 * `note` hears what was left out (layers or referrers over their caps).
 */
export async function fetchRegistryEvidence(
  ref: ImageRef,
  digest: ImageDigest,
  opts: EvidenceOptions = {},
  note?: (m: string) => void,
  what: { readonly signatures?: boolean } = {},
): Promise<RegistryEvidence[]> {
  return withClient(opts, async (client) => {
    const att = await fetchAttTagEvidence(client, ref, digest, note);
    // The .sig tag is read only when a signature is asked for: present gates send the requests they always sent.
    const sig = what.signatures ? await fetchSigTagEvidence(client, ref, digest, note) : [];
    const referrers = await fetchReferrerBundles(client, ref, digest, note);
    return [...att, ...sig, ...referrers];
  });
}
