// Pushes to an OCI registry: blobs (monolithic POST + PUT, skipped when present) and manifests. Used by the
// release scripts and test fixtures (and, next, a VSA pushed as a referrer).
import { GateError } from '../errors.ts';
import { header } from '../net/redirects.ts';
import { sha256Digest, type OciClient } from './client.ts';
import { repositoryName, type RepositoryRef } from './reference.ts';
import type { Descriptor } from './schemas.ts';

/** Uploads a blob (monolithic POST + PUT) unless the registry has it; returns its descriptor. */
export async function pushBlob(client: OciClient, repo: RepositoryRef, bytes: Buffer, mediaType = 'application/octet-stream'): Promise<Descriptor> {
  const digest = sha256Digest(bytes);
  const descriptor: Descriptor = { mediaType, digest, size: bytes.length };
  if (await client.blobExists(repo, digest, 'pull,push')) return descriptor;
  const what = `blob upload to ${repositoryName(repo)}`;
  const start = await client.send(repo, 'pull,push', { method: 'POST', path: 'blobs/uploads/', maxBytes: 64 * 1024, what });
  client.expectStatus(start, [202], what);
  const location = header(start, 'location');
  if (!location) throw new GateError('REGISTRY_MALFORMED', `${what}: the registry gave no upload Location`);
  const url = new URL(location, start.url);
  url.searchParams.set('digest', digest);
  const put = await client.send(repo, 'pull,push', {
    method: 'PUT',
    url,
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) },
    body: bytes,
    maxBytes: 64 * 1024,
    what,
  });
  client.expectStatus(put, [201], what);
  return descriptor;
}

/** PUTs a manifest under a tag, or under its own digest when no tag is given; returns its digest. */
export async function pushManifest(client: OciClient, repo: RepositoryRef, bytes: Buffer, mediaType: string, tag?: string): Promise<string> {
  const digest = sha256Digest(bytes);
  const reference = tag ?? digest;
  const what = `manifest ${client.refName(repo, reference)}`;
  const res = await client.send(repo, 'pull,push', {
    method: 'PUT',
    path: `manifests/${reference}`,
    headers: { 'content-type': mediaType },
    body: bytes,
    maxBytes: 64 * 1024,
    what,
  });
  client.expectStatus(res, [201], what);
  const stated = header(res, 'docker-content-digest')?.trim();
  if (stated && stated !== digest) {
    throw new GateError('REGISTRY_DIGEST_MISMATCH', `${what}: the registry stored it as ${stated}, not ${digest}`);
  }
  return digest;
}
