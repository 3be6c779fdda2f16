import { createHash } from 'node:crypto';
import { GateError } from '../errors.ts';
import {
  basicAuthorization,
  credentialsFor,
  parseWwwAuthenticate,
  type Challenge,
  type Credentials,
  type DockerConfig,
} from './auth.ts';
import { isLoopbackHostname } from '../net/loopback.ts';
import { createPool, type Pool } from '../net/pool.ts';
import {
  assertTransportAllowed,
  header,
  headerValues,
  httpRequest,
  safeUrl,
  type HttpConfig,
  type HttpMethod,
  type HttpResponse,
} from '../net/redirects.ts';
import { apiHost, hostnameOf, repositoryName, type RepositoryRef } from './reference.ts';
import {
  schemaError,
  validateImageIndex,
  validateImageManifest,
  validateTokenResponse,
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
} from './schemas.ts';

/**
 * A small OCI distribution client (distribution-spec v1.1) on undici, limited to what rekor-gate needs:
 * manifests (GET/HEAD by tag or digest), blobs, the referrers API with the referrers tag schema as
 * fallback, and pushes (blobs, manifests, tags). Every fetched manifest and blob is checked against its
 * digest and read under a size cap. Auth: anonymous, basic, and the bearer-token flow announced by
 * `WWW-Authenticate`, with credentials from a Docker config.
 */

export const MEDIA_TYPES = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dsseEnvelope: 'application/vnd.dsse.envelope.v1+json',
  sigstoreBundleV03: 'application/vnd.dev.sigstore.bundle.v0.3+json',
} as const;

export const IMAGE_MANIFEST_TYPES: readonly string[] = [MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest];
export const INDEX_TYPES: readonly string[] = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList];
export const ALL_MANIFEST_TYPES: readonly string[] = [...IMAGE_MANIFEST_TYPES, ...INDEX_TYPES];

export const DEFAULT_MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MAX_BLOB_BYTES = 16 * 1024 * 1024;
export const DEFAULT_TIMEOUT_MS = 30_000;

export type RegistryOptions = {
  /** Parsed Docker config (see `loadDockerConfig`); anonymous access when absent or without an entry. */
  readonly dockerConfig?: DockerConfig | undefined;
  /** Explicit credentials per registry host (`host[:port]`), taking precedence over the Docker config. */
  readonly credentials?: Readonly<Record<string, Credentials>> | undefined;
  /** Per request attempt, whole (connect, headers and the entire body); default 30 s. */
  readonly timeoutMs?: number | undefined;
  /** Aborts every request in flight and any later one (the run's deadline). */
  readonly signal?: AbortSignal | undefined;
  readonly maxManifestBytes?: number | undefined;
  readonly maxBlobBytes?: number | undefined;
  /** Extra attempts for idempotent requests on transient failures; default 2. */
  readonly retries?: number | undefined;
  /**
   * Scheme choice: by default plain HTTP for loopback registries (localhost, 127.0.0.0/8, ::1) and HTTPS
   * for all others. `true` asks for plain HTTP and is refused (REGISTRY_INSECURE) for a non-loopback
   * host; `false` asks for HTTPS even on loopback.
   */
  readonly plainHttp?: boolean | undefined;
  /** Extra trusted CA certificate(s) (PEM) for HTTPS registries, used when no dispatcher is given. */
  readonly ca?: string | Buffer | undefined;
  /** The run's connection pool (net/pool.ts; tests may pass any undici dispatcher); the client then does not close it. */
  readonly dispatcher?: Pool | undefined;
  readonly userAgent?: string | undefined;
};

/** A manifest as fetched: its exact bytes, their digest (checked), and the parsed, schema-checked JSON. */
export type FetchedManifest =
  | { readonly kind: 'manifest'; readonly digest: string; readonly mediaType: string; readonly bytes: Buffer; readonly manifest: ImageManifest }
  | { readonly kind: 'index'; readonly digest: string; readonly mediaType: string; readonly bytes: Buffer; readonly index: ImageIndex };

export type Referrers = {
  /** How they were found: the referrers API, or the referrers tag schema (`<alg>-<hex>` tag naming an index). */
  readonly via: 'api' | 'tag-schema';
  readonly descriptors: Descriptor[];
};

type Access = 'pull' | 'pull,push';

type HostAuth =
  | { readonly scheme: 'basic' }
  | { readonly scheme: 'bearer'; readonly realm: URL; readonly service: string | undefined };

const DIGEST_ALGORITHMS: Readonly<Record<string, { hexLength: number }>> = { sha256: { hexLength: 64 }, sha512: { hexLength: 128 } };
const REFERRERS_MAX_PAGES = 16;
const TOKEN_MAX_BYTES = 1024 * 1024;
const DEFAULT_TOKEN_TTL_S = 60;

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

function isDigest(reference: string): boolean {
  return /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(reference);
}

function mediaTypeOf(contentType: string | undefined): string | undefined {
  return contentType?.split(';')[0]?.trim().toLowerCase() || undefined;
}

export class OciClient {
  readonly #http: HttpConfig;
  readonly #ownsDispatcher: boolean;
  readonly #opts: RegistryOptions;
  readonly maxManifestBytes: number;
  readonly maxBlobBytes: number;
  /** Per registry host: the auth scheme learnt from its last challenge. */
  readonly #hostAuth = new Map<string, HostAuth>();
  /** Bearer tokens by host + scope. */
  readonly #tokens = new Map<string, { token: string; expiresAt: number }>();

  constructor(opts: RegistryOptions = {}) {
    this.#opts = opts;
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxManifestBytes = opts.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
    this.maxBlobBytes = opts.maxBlobBytes ?? DEFAULT_MAX_BLOB_BYTES;
    this.#ownsDispatcher = opts.dispatcher === undefined;
    this.#http = {
      dispatcher: opts.dispatcher ?? createPool({ timeoutMs, ...(opts.ca === undefined ? {} : { caCertPem: opts.ca.toString() }) }),
      timeoutMs,
      signal: opts.signal,
      retries: opts.retries ?? 2,
      userAgent: opts.userAgent ?? 'rekor-gate',
    };
  }

  async close(): Promise<void> {
    if (this.#ownsDispatcher) await this.#http.dispatcher.close();
  }

  /** `http(s)://host[:port]` for a registry name (Docker Hub's API host for `docker.io`). */
  baseUrl(registry: string): URL {
    const host = apiHost(registry);
    const loopback = isLoopbackHostname(hostnameOf(host));
    const plain = this.#opts.plainHttp ?? loopback;
    const url = new URL(`${plain ? 'http' : 'https'}://${host}`);
    assertTransportAllowed(url, `registry ${registry}`);
    return url;
  }

  // ---------------------------------------------------------------- manifests

  /** GET a manifest or index by tag or digest; REGISTRY_NOT_FOUND when the registry does not have it. */
  async getManifest(repo: RepositoryRef, reference: string, accept: readonly string[] = ALL_MANIFEST_TYPES): Promise<FetchedManifest> {
    const m = await this.tryGetManifest(repo, reference, accept);
    if (!m) throw new GateError('REGISTRY_NOT_FOUND', `manifest ${this.#refName(repo, reference)} not found`);
    return m;
  }

  /**
   * GET a manifest or index by tag or digest; undefined on 404. By digest the bytes must hash to it; by
   * tag they must hash to the `Docker-Content-Digest` the registry states, if it states one.
   */
  async tryGetManifest(repo: RepositoryRef, reference: string, accept: readonly string[] = ALL_MANIFEST_TYPES): Promise<FetchedManifest | undefined> {
    const what = `manifest ${this.#refName(repo, reference)}`;
    const res = await this.#send(repo, 'pull', {
      method: 'GET',
      path: `manifests/${reference}`,
      headers: { accept: accept.join(', ') },
      maxBytes: this.maxManifestBytes,
      what,
    });
    if (res.status === 404) return undefined;
    this.#expectStatus(res, [200], what);
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

  /** HEAD a manifest: the registry's stated digest, media type and size (nothing fetched, nothing checked). */
  async headManifest(repo: RepositoryRef, reference: string, accept: readonly string[] = ALL_MANIFEST_TYPES): Promise<Descriptor | undefined> {
    const what = `manifest ${this.#refName(repo, reference)}`;
    const res = await this.#send(repo, 'pull', {
      method: 'HEAD',
      path: `manifests/${reference}`,
      headers: { accept: accept.join(', ') },
      maxBytes: 0,
      what,
    });
    if (res.status === 404) return undefined;
    this.#expectStatus(res, [200], what);
    const digest = header(res, 'docker-content-digest')?.trim() || (isDigest(reference) ? reference : undefined);
    if (digest === undefined) throw new GateError('REGISTRY_MALFORMED', `${what}: HEAD answer states no Docker-Content-Digest`);
    return {
      mediaType: mediaTypeOf(header(res, 'content-type')) ?? '',
      digest,
      size: Number(header(res, 'content-length') ?? 0),
    };
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
    const res = await this.#send(repo, 'pull', { method: 'GET', path: `blobs/${digest}`, maxBytes: size ?? cap, what }).catch((err: unknown) => {
      if (size !== undefined && err instanceof GateError && err.code === 'RESPONSE_TOO_LARGE') {
        throw new GateError('REGISTRY_DIGEST_MISMATCH', `${what}: the registry served more than the ${size} bytes the descriptor says`);
      }
      throw err;
    });
    if (res.status === 404) throw new GateError('REGISTRY_NOT_FOUND', `${what} not found`);
    this.#expectStatus(res, [200], what);
    if (opts.expectedSize !== undefined && res.body.length !== opts.expectedSize) {
      throw new GateError('REGISTRY_DIGEST_MISMATCH', `${what}: the registry served ${res.body.length} bytes, the descriptor says ${opts.expectedSize}`);
    }
    verifyDigest(res.body, digest, what);
    return res.body;
  }

  async blobExists(repo: RepositoryRef, digest: string, access: Access = 'pull'): Promise<boolean> {
    const what = `blob ${repositoryName(repo)}@${digest}`;
    const res = await this.#send(repo, access, { method: 'HEAD', path: `blobs/${digest}`, maxBytes: 0, what });
    if (res.status === 404) return false;
    this.#expectStatus(res, [200], what);
    return true;
  }

  // ---------------------------------------------------------------- push

  /** Uploads a blob (monolithic POST + PUT) unless the registry has it; returns its descriptor. */
  async pushBlob(repo: RepositoryRef, bytes: Buffer, mediaType = 'application/octet-stream'): Promise<Descriptor> {
    const digest = sha256Digest(bytes);
    const descriptor: Descriptor = { mediaType, digest, size: bytes.length };
    if (await this.blobExists(repo, digest, 'pull,push')) return descriptor;
    const what = `blob upload to ${repositoryName(repo)}`;
    const start = await this.#send(repo, 'pull,push', { method: 'POST', path: 'blobs/uploads/', maxBytes: 64 * 1024, what });
    this.#expectStatus(start, [202], what);
    const location = header(start, 'location');
    if (!location) throw new GateError('REGISTRY_MALFORMED', `${what}: the registry gave no upload Location`);
    const url = new URL(location, start.url);
    url.searchParams.set('digest', digest);
    const put = await this.#send(repo, 'pull,push', {
      method: 'PUT',
      url,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) },
      body: bytes,
      maxBytes: 64 * 1024,
      what,
    });
    this.#expectStatus(put, [201], what);
    return descriptor;
  }

  /** PUTs a manifest under a tag, or under its own digest when no tag is given; returns its digest. */
  async pushManifest(repo: RepositoryRef, bytes: Buffer, mediaType: string, tag?: string): Promise<string> {
    const digest = sha256Digest(bytes);
    const reference = tag ?? digest;
    const what = `manifest ${this.#refName(repo, reference)}`;
    const res = await this.#send(repo, 'pull,push', {
      method: 'PUT',
      path: `manifests/${reference}`,
      headers: { 'content-type': mediaType },
      body: bytes,
      maxBytes: 64 * 1024,
      what,
    });
    this.#expectStatus(res, [201], what);
    const stated = header(res, 'docker-content-digest')?.trim();
    if (stated && stated !== digest) {
      throw new GateError('REGISTRY_DIGEST_MISMATCH', `${what}: the registry stored it as ${stated}, not ${digest}`);
    }
    return digest;
  }

  // ---------------------------------------------------------------- referrers

  /**
   * The manifests whose `subject` is `digest`, filtered to `artifactType` when given. Uses the referrers
   * API (following `Link: rel="next"` pages); where the registry lacks it (404), the referrers tag schema.
   */
  async listReferrers(repo: RepositoryRef, digest: string, artifactType?: string): Promise<Referrers> {
    const colon = digest.indexOf(':');
    if (colon < 0) throw new GateError('REGISTRY_MALFORMED', `referrers of ${repositoryName(repo)}: "${digest}" is not a digest`);
    const keep = (d: Descriptor): boolean => artifactType === undefined || d.artifactType === artifactType;

    const first = this.baseUrl(repo.registry);
    first.pathname = `/v2/${repo.repository}/referrers/${digest}`;
    if (artifactType !== undefined) first.searchParams.set('artifactType', artifactType);
    let url: URL | undefined = first;
    const descriptors: Descriptor[] = [];
    for (let page = 0; url !== undefined; page++) {
      const what = `referrers of ${repositoryName(repo)}@${digest}`;
      if (page >= REFERRERS_MAX_PAGES) throw new GateError('RESPONSE_TOO_LARGE', `${what}: more than ${REFERRERS_MAX_PAGES} pages`);
      const res = await this.#send(repo, 'pull', { method: 'GET', url, headers: { accept: MEDIA_TYPES.ociIndex }, maxBytes: this.maxManifestBytes, what });
      if (page === 0 && [404, 400, 405, 501].includes(res.status)) {
        return { via: 'tag-schema', descriptors: await this.#referrersByTag(repo, digest, keep) };
      }
      this.#expectStatus(res, [200], what);
      const index = parseJson(res.body, what);
      if (!validateImageIndex(index)) throw new GateError('REGISTRY_MALFORMED', `${what}: ${schemaError(validateImageIndex)}`);
      descriptors.push(...index.manifests.filter(keep));
      url = nextLink(res, url);
      if (url !== undefined && url.origin !== first.origin) {
        throw new GateError('REGISTRY_MALFORMED', `${what}: next page is on another origin (${safeUrl(url)})`);
      }
    }
    return { via: 'api', descriptors };
  }

  async #referrersByTag(repo: RepositoryRef, digest: string, keep: (d: Descriptor) => boolean): Promise<Descriptor[]> {
    const tag = digest.replace(':', '-');
    const m = await this.tryGetManifest(repo, tag, [MEDIA_TYPES.ociIndex]);
    if (!m) return [];
    if (m.kind !== 'index') {
      throw new GateError('REGISTRY_MALFORMED', `referrers tag ${this.#refName(repo, tag)} names a ${m.mediaType}, not an OCI index`);
    }
    return m.index.manifests.filter(keep);
  }

  // ---------------------------------------------------------------- transport and auth

  #refName(repo: RepositoryRef, reference: string): string {
    return `${repositoryName(repo)}${isDigest(reference) ? '@' : ':'}${reference}`;
  }

  #expectStatus(res: HttpResponse, ok: readonly number[], what: string): void {
    if (ok.includes(res.status)) return;
    const host = res.url.host;
    if (res.status >= 500 || res.status === 429) {
      throw new GateError('REGISTRY_UNREACHABLE', `registry ${host} failed: HTTP ${res.status} for ${what}`);
    }
    throw new GateError('HTTP_STATUS', `registry ${host} answered HTTP ${res.status} for ${what}${registryErrorCode(res.body)}`);
  }

  #credentials(registry: string): Credentials | undefined {
    return this.#opts.credentials?.[registry] ?? credentialsFor(this.#opts.dockerConfig, registry);
  }

  /** A request to the registry's `/v2/<repo>/<path>` (or an absolute URL it gave), with auth. */
  async #send(
    repo: RepositoryRef,
    access: Access,
    req: { method: HttpMethod; path?: string; url?: URL; headers?: Record<string, string>; body?: Buffer; maxBytes: number; what: string },
  ): Promise<HttpResponse> {
    const base = this.baseUrl(repo.registry);
    const url = req.url ?? new URL(`/v2/${repo.repository}/${req.path ?? ''}`, base);
    const host = repo.registry;
    const scope = `repository:${repo.repository}:${access}`;
    const creds = this.#credentials(host);
    const attempt = (authorization: string | undefined): Promise<HttpResponse> =>
      httpRequest(this.#http, {
        method: req.method,
        url,
        ...(req.headers ? { headers: req.headers } : {}),
        ...(authorization !== undefined && url.origin === base.origin ? { authorization } : {}),
        ...(req.body !== undefined ? { body: req.body } : {}),
        maxBytes: req.maxBytes,
        what: req.what,
        host,
      });

    let authorization = await this.#authorization(host, scope, creds, undefined, false);
    let res = await attempt(authorization);
    if (res.status === 401) {
      const challenges = parseWwwAuthenticate(headerValues(res, 'www-authenticate'));
      const bearer = challenges.find((c) => c.scheme === 'bearer');
      const basic = challenges.find((c) => c.scheme === 'basic');
      if (bearer) {
        const realm = bearer.params['realm'];
        if (!realm) throw this.#denied(repo, res.status, 'its Bearer challenge names no realm');
        let realmUrl: URL;
        try {
          realmUrl = new URL(realm);
        } catch {
          throw new GateError('REGISTRY_MALFORMED', `registry ${host}: token realm "${realm.slice(0, 200)}" is not a URL`);
        }
        this.#hostAuth.set(host, { scheme: 'bearer', realm: realmUrl, service: bearer.params['service'] });
      } else if (basic) {
        this.#hostAuth.set(host, { scheme: 'basic' });
      } else {
        throw this.#denied(repo, res.status, 'no usable WWW-Authenticate challenge');
      }
      const again = await this.#authorization(host, scope, creds, bearer, true);
      if (again === undefined) {
        throw this.#denied(repo, res.status, creds ? undefined : `no credentials for ${host} in the Docker config`);
      }
      authorization = again;
      res = await attempt(authorization);
      if (res.status === 401) {
        throw this.#denied(repo, res.status, creds ? 'the credentials were not accepted' : `anonymous access refused and no credentials for ${host} in the Docker config`);
      }
    }
    if (res.status === 403) throw this.#denied(repo, res.status, undefined);
    return res;
  }

  #denied(repo: RepositoryRef, status: number, why: string | undefined): GateError {
    return new GateError('REGISTRY_DENIED', `registry denied access to ${repositoryName(repo)} (HTTP ${status}${why ? `: ${why}` : ''})`);
  }

  /** The Authorization header for a request, per what the host asked for (undefined: anonymous). */
  async #authorization(host: string, scope: string, creds: Credentials | undefined, challenge: Challenge | undefined, fresh: boolean): Promise<string | undefined> {
    const state = this.#hostAuth.get(host);
    if (creds?.kind === 'registry-token') return state ? `Bearer ${creds.token}` : undefined;
    if (!state) return undefined;
    if (state.scheme === 'basic') {
      if (creds?.kind === 'basic') return basicAuthorization(creds.username, creds.password);
      return undefined;
    }
    const scopes = [scope];
    const asked = challenge?.params['scope'];
    if (asked) for (const s of asked.split(' ')) if (s && !scopes.includes(s)) scopes.push(s);
    const key = `${host}\n${state.realm.href}\n${state.service ?? ''}\n${scopes.join(' ')}`;
    const cached = this.#tokens.get(key);
    if (!fresh && cached && cached.expiresAt > Date.now()) return `Bearer ${cached.token}`;
    const { token, ttlS } = await this.#fetchToken(host, state.realm, state.service, scopes, creds);
    this.#tokens.set(key, { token, expiresAt: Date.now() + Math.max(0, ttlS - 5) * 1000 });
    return `Bearer ${token}`;
  }

  /** Distribution token flow: GET realm?service&scope (basic auth when we have credentials), or the OAuth2 refresh-token POST. */
  async #fetchToken(host: string, realm: URL, service: string | undefined, scopes: string[], creds: Credentials | undefined): Promise<{ token: string; ttlS: number }> {
    const what = `token for ${host} from ${safeUrl(realm)}`;
    assertTransportAllowed(realm, what);
    let res: HttpResponse;
    if (creds?.kind === 'identity-token') {
      const form = new URLSearchParams();
      form.set('grant_type', 'refresh_token');
      if (service) form.set('service', service);
      form.set('scope', scopes.join(' '));
      form.set('client_id', 'rekor-gate');
      form.set('refresh_token', creds.token);
      res = await httpRequest(this.#http, {
        method: 'POST',
        url: realm,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
        maxBytes: TOKEN_MAX_BYTES,
        what,
        host,
      });
    } else {
      const url = new URL(realm);
      if (service) url.searchParams.set('service', service);
      for (const s of scopes) url.searchParams.append('scope', s);
      if (creds?.kind === 'basic') url.searchParams.set('account', creds.username);
      res = await httpRequest(this.#http, {
        method: 'GET',
        url,
        ...(creds?.kind === 'basic' ? { authorization: basicAuthorization(creds.username, creds.password) } : {}),
        maxBytes: TOKEN_MAX_BYTES,
        what,
        host,
      });
    }
    if (res.status === 401 || res.status === 403) {
      throw new GateError('REGISTRY_DENIED', `registry denied access to ${host}: its token server refused ${creds ? 'the credentials' : 'anonymous access'} (HTTP ${res.status})`);
    }
    this.#expectStatus(res, [200], what);
    const json = parseJson(res.body, what);
    if (!validateTokenResponse(json)) throw new GateError('REGISTRY_MALFORMED', `${what}: ${schemaError(validateTokenResponse)}`);
    const token = (json.token || json.access_token) as string;
    return { token, ttlS: json.expires_in ?? DEFAULT_TOKEN_TTL_S };
  }
}

function parseJson(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new GateError('REGISTRY_MALFORMED', `${what} is not valid JSON`);
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

/** RFC 8288 `Link: <url>; rel="next"`, resolved against the current page. */
function nextLink(res: HttpResponse, current: URL): URL | undefined {
  for (const value of headerValues(res, 'link')) {
    for (const part of value.split(/,(?=\s*<)/)) {
      const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
      if (m && /(?:^|;)\s*rel\s*=\s*"?next"?\s*(?:;|$)/i.test(m[2] as string)) {
        try {
          return new URL(m[1] as string, current);
        } catch {
          return undefined;
        }
      }
    }
  }
  return undefined;
}

/** Distribution's error body `{"errors":[{"code":...}]}` reduced to its codes (for messages). */
function registryErrorCode(body: Buffer): string {
  try {
    const json = JSON.parse(body.toString('utf8')) as { errors?: { code?: unknown }[] };
    const codes = (json.errors ?? []).map((e) => e.code).filter((c): c is string => typeof c === 'string' && /^[A-Z_]{1,64}$/.test(c));
    return codes.length ? ` (${codes.join(', ')})` : '';
  } catch {
    return '';
  }
}
