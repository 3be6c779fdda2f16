import { setTimeout as sleep } from 'node:timers/promises';
import { request, type Dispatcher } from './undici.ts';
import { GateError, errorMessage } from '../errors.ts';
import { isLoopbackHostname } from './loopback.ts';
import type { Pool } from './pool.ts';
import { parseRetryAfter, retryableStatus, retryDelayMs } from './retry.ts';

/**
 * The registry's requests, on the run's pool (pool.ts): plain HTTP only to loopback hosts, HTTPS with
 * certificate verification elsewhere; bodies read under a byte cap; redirects followed by hand so that each hop
 * is checked the same way and the Authorization never follows a redirect to another origin; transient
 * failures of idempotent requests retried by the one retry policy (retry.ts). Statuses are returned to the
 * caller, which knows what a 401 or a 404 means; connection failures become REGISTRY_UNREACHABLE.
 */

export type HttpConfig = {
  readonly dispatcher: Pool;
  /** Per attempt, whole: connect, headers and the entire body (a body dripped slowly still ends here). */
  readonly timeoutMs: number;
  /** Aborts every request in flight and any later one (the run's deadline); its reason is thrown. */
  readonly signal?: AbortSignal | undefined;
  /** Extra attempts for GET/HEAD after a connection failure or a transient status (retry.ts). */
  readonly retries: number;
  readonly userAgent: string;
};

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH';

export type HttpRequest = {
  readonly method: HttpMethod;
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent only to the request's own origin (dropped on a redirect elsewhere). */
  readonly authorization?: string;
  readonly body?: Buffer | string;
  /** Cap on a 2xx body; a larger one is RESPONSE_TOO_LARGE. */
  readonly maxBytes: number;
  /** Names the thing fetched in error messages, e.g. `manifest 127.0.0.1:5000/app:v1`. */
  readonly what: string;
  /** Names the registry host in error messages. */
  readonly host: string;
};

export type HttpResponse = {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
  /** The URL that answered (after redirects). */
  readonly url: URL;
};

const MAX_REDIRECTS = 5;
const ERROR_BODY_CAP = 64 * 1024;
/** Plain HTTP is allowed to loopback hosts only (as container tools treat them as insecure registries). */
export function assertTransportAllowed(url: URL, what: string): void {
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && isLoopbackHostname(url.hostname)) return;
  throw new GateError(
    'REGISTRY_INSECURE',
    `${what}: refusing ${url.protocol.replace(':', '')} to ${url.host}: plain HTTP is allowed only for loopback hosts, HTTPS is required elsewhere`,
  );
}

export function header(res: Pick<HttpResponse, 'headers'>, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  if (Array.isArray(v)) return v.join(', ');
  return v;
}

export function headerValues(res: Pick<HttpResponse, 'headers'>, name: string): string[] {
  const v = res.headers[name.toLowerCase()];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** A URL printable in messages: no userinfo, no query (token requests carry scopes and accounts there). */
export function safeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

function unreachable(req: HttpRequest, url: URL, err: unknown): GateError {
  const code = (err as { code?: unknown }).code;
  const detail = typeof code === 'string' ? `${code}: ${errorMessage(err)}` : errorMessage(err);
  return new GateError('REGISTRY_UNREACHABLE', `registry ${req.host} unreachable (${req.what}, ${req.method} ${safeUrl(url)}): ${detail}`, { cause: err });
}

/** Aborts a body we will not read (undici then emits an AbortError, which nobody needs to hear). */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => {});
  body.destroy();
}

async function readCapped(body: Dispatcher.ResponseData['body'], cap: number, onTooLarge: (() => never) | undefined): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    if (total + buf.length > cap) {
      discard(body);
      if (onTooLarge) onTooLarge();
      chunks.push(buf.subarray(0, cap - total));
      total = cap;
      break;
    }
    chunks.push(buf);
    total += buf.length;
  }
  return Buffer.concat(chunks, total);
}

/** The error an aborted run's signal carries (a GateError naming the deadline). */
function runAborted(signal: AbortSignal): GateError {
  const r: unknown = signal.reason;
  return r instanceof GateError ? r : new GateError('REGISTRY_UNREACHABLE', `the run was stopped: ${errorMessage(r)}`);
}

/** Thrown into an attempt whose whole-request deadline passed. */
class AttemptTimeout extends Error {
  readonly code = 'UND_ERR_REQUEST_TIMEOUT';
  constructor(ms: number) {
    super(`the whole request (connect, headers and body) did not finish within ${ms} ms`);
    this.name = 'AttemptTimeout';
  }
}

async function once(cfg: HttpConfig, req: HttpRequest, url: URL, sendAuth: boolean): Promise<HttpResponse> {
  if (cfg.signal?.aborted) throw runAborted(cfg.signal);
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new AttemptTimeout(cfg.timeoutMs)), cfg.timeoutMs);
  try {
    return await onceWithin(cfg, req, url, sendAuth, cfg.signal ? AbortSignal.any([ac.signal, cfg.signal]) : ac.signal);
  } catch (err) {
    if (cfg.signal?.aborted) throw runAborted(cfg.signal);
    if (ac.signal.aborted && !(err instanceof GateError)) throw unreachable(req, url, ac.signal.reason);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

async function onceWithin(cfg: HttpConfig, req: HttpRequest, url: URL, sendAuth: boolean, signal: AbortSignal): Promise<HttpResponse> {
  assertTransportAllowed(url, req.what);
  const headers: Record<string, string> = { 'user-agent': cfg.userAgent, ...req.headers };
  if (sendAuth && req.authorization !== undefined) headers['authorization'] = req.authorization;
  let res: Dispatcher.ResponseData;
  try {
    res = await request(url, {
      dispatcher: cfg.dispatcher,
      method: req.method,
      headers,
      ...(req.body !== undefined ? { body: req.body } : {}),
      headersTimeout: cfg.timeoutMs,
      bodyTimeout: cfg.timeoutMs,
      signal,
    });
  } catch (err) {
    throw unreachable(req, url, signal.aborted ? signal.reason : err);
  }
  const ok = res.statusCode >= 200 && res.statusCode < 300;
  const tooLarge = (): never => {
    throw new GateError('RESPONSE_TOO_LARGE', `${req.what} is larger than the ${req.maxBytes}-byte cap`);
  };
  try {
    if (ok) {
      const length = Number(res.headers['content-length']);
      if (req.method !== 'HEAD' && Number.isFinite(length) && length > req.maxBytes) {
        discard(res.body);
        tooLarge();
      }
    }
    const body = req.method === 'HEAD'
      ? (await res.body.dump(), Buffer.alloc(0))
      : await readCapped(res.body, ok ? req.maxBytes : ERROR_BODY_CAP, ok ? tooLarge : undefined);
    return { status: res.statusCode, headers: res.headers, body, url };
  } catch (err) {
    if (err instanceof GateError) throw err;
    throw unreachable(req, url, signal.aborted ? signal.reason : err);
  }
}

/** One request, following redirects (GET/HEAD only) and retrying transient failures (GET/HEAD only). */
export async function httpRequest(cfg: HttpConfig, req: HttpRequest): Promise<HttpResponse> {
  const idempotent = req.method === 'GET' || req.method === 'HEAD';
  const attempts = idempotent ? 1 + Math.max(0, cfg.retries) : 1;
  let last: unknown;
  let retryAfterMs: number | undefined;
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (attempt > 0) {
      await sleep(retryDelayMs(attempt, retryAfterMs), undefined, cfg.signal ? { signal: cfg.signal } : {}).catch(() => {
        throw runAborted(cfg.signal as AbortSignal);
      });
    }
    retryAfterMs = undefined;
    try {
      const res = await follow(cfg, req);
      if (idempotent && retryableStatus(res.status) && attempt + 1 < attempts) {
        last = res;
        retryAfterMs = parseRetryAfter(res.headers['retry-after']);
        continue;
      }
      return res;
    } catch (err) {
      if (!(err instanceof GateError) || err.code !== 'REGISTRY_UNREACHABLE' || cfg.signal?.aborted) throw err;
      last = err;
    }
  }
  if (last instanceof Error) throw last;
  return last as HttpResponse;
}

async function follow(cfg: HttpConfig, req: HttpRequest): Promise<HttpResponse> {
  const origin = req.url.origin;
  let url = req.url;
  for (let hop = 0; ; hop++) {
    const res = await once(cfg, req, url, url.origin === origin);
    const location = header(res, 'location');
    const redirect = [301, 302, 303, 307, 308].includes(res.status) && location !== undefined;
    if (!redirect || (req.method !== 'GET' && req.method !== 'HEAD')) return res;
    if (hop >= MAX_REDIRECTS) {
      throw new GateError('REGISTRY_UNREACHABLE', `registry ${req.host}: more than ${MAX_REDIRECTS} redirects for ${req.what}`);
    }
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw new GateError('REGISTRY_MALFORMED', `registry ${req.host} redirected ${req.what} to an invalid location`);
    }
    url = next;
  }
}
