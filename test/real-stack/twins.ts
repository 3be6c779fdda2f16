import { MEDIA_TYPES, type OciClient } from '../../src/registry/client.ts';
import { pushBlob, pushManifest } from '../../src/registry/push.ts';
import type { RepositoryRef } from '../../src/registry/reference.ts';
import { pushAtt, pushBundleReferrer, pushReferrersTag } from '../fixtures/oci-content.ts';

/**
 * Tampered twins of real artifacts: an image copied byte for byte into another repository (same digest),
 * beside an altered copy of what the real cosign attached to it (its `.att` envelope or its bundle referrer).
 */

export type Envelope = { payloadType: string; payload: string; signatures: { keyid?: string; sig: string }[] };
export type AttLayer = { envelope: Envelope; annotations: Record<string, string> };

/** One byte of the payload changed (a letter of the statement's text flipped in case: still JSON). */
export function changePayloadByte(env: Envelope): Envelope {
  const p = Buffer.from(env.payload, 'base64');
  const at = p.indexOf('tekton.dev');
  if (at < 0) throw new Error('the payload has no "tekton.dev" to change');
  p[at] = 0x54; // 't' -> 'T'
  return { ...env, payload: p.toString('base64') };
}

/** The signatures of another genuine envelope in place of this one's. */
export function swapSignatures(other: Envelope): (env: Envelope) => Envelope {
  return (env) => ({ ...env, signatures: other.signatures });
}

/** Copies an image manifest and its blobs from one repository to another (pushed by digest: the same digest). */
export async function copyImage(client: OciClient, from: RepositoryRef, to: RepositoryRef, digest: string): Promise<void> {
  const m = await client.getManifest(from, digest);
  if (m.kind !== 'manifest') throw new Error(`${digest} is an index`);
  for (const d of [m.manifest.config, ...m.manifest.layers]) await pushBlob(client, to, await client.getBlob(from, d.digest), d.mediaType);
  await pushManifest(client, to, m.bytes, m.mediaType);
}

/** The DSSE envelopes of an image's cosign `.att` tag, with each layer's annotations. */
export async function attEnvelopes(client: OciClient, repo: RepositoryRef, digest: string): Promise<AttLayer[]> {
  const m = await client.getManifest(repo, `${digest.replace(':', '-')}.att`);
  if (m.kind !== 'manifest') throw new Error('the .att tag names an index');
  const out: AttLayer[] = [];
  for (const l of m.manifest.layers) {
    if (l.mediaType !== MEDIA_TYPES.dsseEnvelope) continue;
    out.push({ envelope: JSON.parse((await client.getBlob(repo, l.digest)).toString('utf8')) as Envelope, annotations: { ...l.annotations } });
  }
  return out;
}

/** Attaches `.att` layers (altered envelopes, the genuine annotations) under an image digest's tag in `to`. */
export async function pushAttTwin(client: OciClient, to: RepositoryRef, forDigest: string, layers: AttLayer[]): Promise<void> {
  for (const l of layers) await pushAtt(client, to, forDigest, [Buffer.from(JSON.stringify(l.envelope))], l.annotations);
}

export type Bundle = { dsseEnvelope?: Envelope } & Record<string, unknown>;

/** The Sigstore bundles attached to an image as referrers (through the referrers tag schema: docker-registry 2.8 has no referrers API). */
export async function referrerBundles(client: OciClient, repo: RepositoryRef, digest: string): Promise<Bundle[]> {
  const idx = await client.getManifest(repo, digest.replace(':', '-'));
  if (idx.kind !== 'index') throw new Error('the referrers tag names no index');
  const out: Bundle[] = [];
  for (const d of idx.index.manifests) {
    const m = await client.getManifest(repo, d.digest);
    if (m.kind !== 'manifest') continue;
    for (const l of m.manifest.layers) {
      if (l.mediaType === MEDIA_TYPES.sigstoreBundleV03) out.push(JSON.parse((await client.getBlob(repo, l.digest)).toString('utf8')) as Bundle);
    }
  }
  return out;
}

/** Attaches bundles as referrers of an image digest in `to` (its manifest must already be there). */
export async function pushReferrerTwin(client: OciClient, to: RepositoryRef, digest: string, bundles: Bundle[]): Promise<void> {
  const m = await client.getManifest(to, digest);
  const subject = { mediaType: m.mediaType, digest, size: m.bytes.length };
  const descriptors = [];
  for (const b of bundles) descriptors.push((await pushBundleReferrer(client, to, subject, b)).descriptor);
  await pushReferrersTag(client, to, digest, descriptors);
}
