// The registry's auth flow over net/redirects.ts: anonymous, basic, and the bearer-token flow a
// `WWW-Authenticate` challenge announces (credentials from a Docker config), tokens cached per host and scope;
// denials and failures as REGISTRY_* errors. client.ts (manifests, blobs), referrers.ts and push.ts build on it.
import { GateError } from '../errors.ts';
import { isLoopbackHostname } from '../net/loopback.ts';
import { createPool, type Pool } from '../net/pool.ts';
import {
  assertTransportAllowed,
  headerValues,
  httpRequest,
  safeUrl,
  type HttpConfig,
  type HttpMethod,
  type HttpResponse,
} from '../net/redirects.ts';
import {
  basicAuthorization,
  credentialsFor,
  parseWwwAuthenticate,
  type Challenge,
  type Credentials,
  type DockerConfig,
} from './auth.ts';
import { apiHost, hostnameOf, repositoryName, type RepositoryRef } from './reference.ts';
import { schemaError, validateTokenResponse } from './schemas.ts';

const DEFAULT_TIMEOUT_MS = 30_000;

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

export type Access = 'pull' | 'pull,push';

type HostAuth =
  | { readonly scheme: 'basic' }
  | { readonly scheme: 'bearer'; readonly realm: URL; readonly service: string | undefined };

const TOKEN_MAX_BYTES = 1024 * 1024;
const DEFAULT_TOKEN_TTL_S = 60;

export function isDigest(reference: string): boolean {
  return /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(reference);
}

export function parseJson(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new GateError('REGISTRY_MALFORMED', `${what} is not valid JSON`);
  }
}

export class RegistryTransport {
  readonly #http: HttpConfig;
  readonly #ownsDispatcher: boolean;
  readonly #opts: RegistryOptions;
  /** Per registry host: the auth scheme learnt from its last challenge. */
  readonly #hostAuth = new Map<string, HostAuth>();
  /** Bearer tokens by host + scope. */
  readonly #tokens = new Map<string, { token: string; expiresAt: number }>();

  constructor(opts: RegistryOptions = {}) {
    this.#opts = opts;
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
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

  refName(repo: RepositoryRef, reference: string): string {
    return `${repositoryName(repo)}${isDigest(reference) ? '@' : ':'}${reference}`;
  }

  expectStatus(res: HttpResponse, ok: readonly number[], what: string): void {
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
  async send(
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
    this.expectStatus(res, [200], what);
    const json = parseJson(res.body, what);
    if (!validateTokenResponse(json)) throw new GateError('REGISTRY_MALFORMED', `${what}: ${schemaError(validateTokenResponse)}`);
    const token = (json.token || json.access_token) as string;
    return { token, ttlS: json.expires_in ?? DEFAULT_TOKEN_TTL_S };
  }
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
