// Manifests and blobs of an OCI registry (distribution-spec v1.1): GET by tag or digest, every answer checked
// against its digest and read under a size cap. The auth flow is transport.ts's; referrers.ts lists referrers,
// push.ts uploads.
import { createHash } from 'node:crypto';
import { GateError } from '../errors.ts';
import { header } from '../net/redirects.ts';
import { repositoryName, type RepositoryRef } from './reference.ts';
import {
  schemaError,
  validateImageIndex,
  validateImageManifest,
  type ImageIndex,
  type ImageManifest,
} from './schemas.ts';
import { isDigest, parseJson, RegistryTransport, type Access, type RegistryOptions } from './transport.ts';

export const MEDIA_TYPES = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dsseEnvelope: 'application/vnd.dsse.envelope.v1+json',
  sigstoreBundleV03: 'application/vnd.dev.sigstore.bundle.v0.3+json',
  simpleSigning: 'application/vnd.dev.cosign.simplesigning.v1+json',
} as const;

export const IMAGE_MANIFEST_TYPES: readonly string[] = [MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest];
export const INDEX_TYPES: readonly string[] = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList];
export const ALL_MANIFEST_TYPES: readonly string[] = [...IMAGE_MANIFEST_TYPES, ...INDEX_TYPES];

export const DEFAULT_MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MAX_BLOB_BYTES = 16 * 1024 * 1024;

/** A manifest as fetched: its exact bytes, their digest (checked), and the parsed, schema-checked JSON. */
export type FetchedManifest =
  | { readonly kind: 'manifest'; readonly digest: string; readonly mediaType: string; readonly bytes: Buffer; readonly manifest: ImageManifest }
  | { readonly kind: 'index'; readonly digest: string; readonly mediaType: string; readonly bytes: Buffer; readonly index: ImageIndex };

const DIGEST_ALGORITHMS: Readonly<Record<string, { hexLength: number }>> = { sha256: { hexLength: 64 }, sha512: { hexLength: 128 } };

export function sha256Digest(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Checks `bytes` against `digest` (sha256 or sha512); REGISTRY_DIGEST_MISMATCH when they differ. */
export function verifyDigest(bytes: Buffer, digest: string, what: string): void {
  const colon = digest.indexOf(':');
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  const spec = DIGEST_ALGORITHMS[algorithm];
  if (colon < 0 || !spec || hex.length !== spec.hexLength || !/^[0-9a-f]+$/.test(hex)) {
    throw new GateError('REGISTRY_MALFORMED', `${what}: digest "${digest.slice(0, 200)}" is not sha256 or sha512 in lower-case hex`);
  }
  const actual = createHash(algorithm).update(bytes).digest('hex');
  if (actual !== hex) {
    throw new GateError('REGISTRY_DIGEST_MISMATCH', `${what}: the registry served bytes whose ${algorithm} is ${actual}, not the expected ${digest}`);
  }
}

function mediaTypeOf(contentType: string | undefined): string | undefined {
  return contentType?.split(';')[0]?.trim().toLowerCase() || undefined;
}

export class OciClient extends RegistryTransport {
  readonly maxManifestBytes: number;
  readonly maxBlobBytes: number;

  constructor(opts: RegistryOptions = {}) {
    super(opts);
    this.maxManifestBytes = opts.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
    this.maxBlobBytes = opts.maxBlobBytes ?? DEFAULT_MAX_BLOB_BYTES;
  }

  // ---------------------------------------------------------------- manifests

  /** GET a manifest or index by tag or digest; REGISTRY_NOT_FOUND when the registry does not have it. */
  async getManifest(repo: RepositoryRef, reference: string, accept: readonly string[] = ALL_MANIFEST_TYPES): Promise<FetchedManifest> {
    const m = await this.tryGetManifest(repo, reference, accept);
    if (!m) throw new GateError('REGISTRY_NOT_FOUND', `manifest ${this.refName(repo, reference)} not found`);
    return m;
  }

  /**
   * GET a manifest or index by tag or digest; undefined on 404. By digest the bytes must hash to it; by
   * tag they must hash to the `Docker-Content-Digest` the registry states, if it states one.
   */
  async tryGetManifest(repo: RepositoryRef, reference: string, accept: readonly string[] = ALL_MANIFEST_TYPES): Promise<FetchedManifest | undefined> {
    const what = `manifest ${this.refName(repo, reference)}`;
    const res = await this.send(repo, 'pull', {
      method: 'GET',
      path: `manifests/${reference}`,
      headers: { accept: accept.join(', ') },
      maxBytes: this.maxManifestBytes,
      what,
    });
    if (res.status === 404) return undefined;
    this.expectStatus(res, [200], what);
    const bytes = res.body;
    let digest: string;
    if (isDigest(reference)) {
      verifyDigest(bytes, reference, what);
      digest = reference;
    } else {
      digest = sha256Digest(bytes);
    }
    const stated = header(res, 'docker-content-digest');
    if (stated !== undefined && stated !== '') verifyDigest(bytes, stated.trim(), `${what} (Docker-Content-Digest)`);
    return parseManifest(bytes, digest, mediaTypeOf(header(res, 'content-type')), accept, what);
  }

  /**
   * The digest a tag names: computed from the manifest's bytes (GET, not HEAD, so that the answer is
   * checked against the bytes rather than taken from a header).
   */
  async resolveTag(repo: RepositoryRef, tag: string): Promise<string> {
    return (await this.getManifest(repo, tag)).digest;
  }

  // ---------------------------------------------------------------- blobs

  /** GET a blob; its bytes must hash to `digest` and, if given, be `expectedSize` long. */
  async getBlob(repo: RepositoryRef, digest: string, opts: { expectedSize?: number; maxBytes?: number } = {}): Promise<Buffer> {
    const what = `blob ${repositoryName(repo)}@${digest}`;
    const cap = opts.maxBytes ?? this.maxBlobBytes;
    if (opts.expectedSize !== undefined && opts.expectedSize > cap) {
      throw new GateError('RESPONSE_TOO_LARGE', `${what} is ${opts.expectedSize} bytes, larger than the ${cap}-byte cap`);
    }
    // With a size from the descriptor, nothing beyond it is read.
    const size = opts.expectedSize;
    const res = await this.send(repo, 'pull', { method: 'GET', path: `blobs/${digest}`, maxBytes: size ?? cap, what }).catch((err: unknown) => {
      if (size !== undefined && err instanceof GateError && err.code === 'RESPONSE_TOO_LARGE') {
        throw new GateError('REGISTRY_DIGEST_MISMATCH', `${what}: the registry served more than the ${size} bytes the descriptor says`);
      }
      throw err;
    });
    if (res.status === 404) throw new GateError('REGISTRY_NOT_FOUND', `${what} not found`);
    this.expectStatus(res, [200], what);
    if (opts.expectedSize !== undefined && res.body.length !== opts.expectedSize) {
      throw new GateError('REGISTRY_DIGEST_MISMATCH', `${what}: the registry served ${res.body.length} bytes, the descriptor says ${opts.expectedSize}`);
    }
    verifyDigest(res.body, digest, what);
    return res.body;
  }

  async blobExists(repo: RepositoryRef, digest: string, access: Access = 'pull'): Promise<boolean> {
    const what = `blob ${repositoryName(repo)}@${digest}`;
    const res = await this.send(repo, access, { method: 'HEAD', path: `blobs/${digest}`, maxBytes: 0, what });
    if (res.status === 404) return false;
    this.expectStatus(res, [200], what);
    return true;
  }

}

function parseManifest(bytes: Buffer, digest: string, contentType: string | undefined, accept: readonly string[], what: string): FetchedManifest {
  const json = parseJson(bytes, what);
  const declared = typeof json === 'object' && json !== null && typeof (json as { mediaType?: unknown }).mediaType === 'string'
    ? ((json as { mediaType: string }).mediaType)
    : undefined;
  // The manifest's own mediaType wins; an OCI manifest may omit it, then the Content-Type tells.
  let mediaType = declared ?? contentType;
  if (mediaType === undefined || !ALL_MANIFEST_TYPES.includes(mediaType)) {
    // Without either, the shape decides (OCI allows omitting mediaType).
    if (mediaType === undefined || mediaType === 'application/json' || mediaType === 'application/octet-stream') {
      mediaType = typeof json === 'object' && json !== null && 'manifests' in json ? MEDIA_TYPES.ociIndex : MEDIA_TYPES.ociManifest;
    } else {
      throw new GateError('REGISTRY_MALFORMED', `${what} has media type ${mediaType}, not one of ${ALL_MANIFEST_TYPES.join(', ')}`);
    }
  }
  if (!accept.includes(mediaType)) {
    throw new GateError('REGISTRY_MALFORMED', `${what} is a ${mediaType}, expected ${accept.join(' or ')}`);
  }
  if (INDEX_TYPES.includes(mediaType)) {
    if (!validateImageIndex(json)) throw new GateError('REGISTRY_MALFORMED', `${what}: ${schemaError(validateImageIndex)}`);
    return { kind: 'index', digest, mediaType, bytes, index: json };
  }
  if (!validateImageManifest(json)) throw new GateError('REGISTRY_MALFORMED', `${what}: ${schemaError(validateImageManifest)}`);
  return { kind: 'manifest', digest, mediaType, bytes, manifest: json };
}

