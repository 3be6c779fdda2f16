// The log's HTTP client: one request with retries (retry.ts), per-attempt and per-request deadlines, the run's
// deadline (its signal), size caps and the run's byte budget; non-2xx statuses thrown unless the caller lists them.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { request as undiciRequest, type Dispatcher } from './undici.ts';
import { GateError } from '../errors.ts';
import type { Budget } from './budget.ts';
import { serverMessage } from './error-body.ts';
import { createPool, type Pool } from './pool.ts';
import { errorCodes, isRetryableNetworkError, parseRetryAfter, retryableStatus, retryDelayMs, RETRY_DEFAULTS } from './retry.ts';

/** What `onRetry` is told before each wait. */
export type RetryInfo = {
  readonly url: string;
  readonly method: string;
  /** The attempt that just failed, 1-based. */
  readonly attempt: number;
  /** How long the client waits before the next attempt. */
  readonly delayMs: number;
  /** Why the attempt failed: `HTTP 503: <server message>`, `ECONNRESET: ...`, `timed out after 30000 ms`. */
  readonly reason: string;
  readonly status?: number;
};

export type HttpOptions = {
  /** Per attempt: connect + headers + the whole body. */
  readonly timeoutMs: number;
  /** Retries after the first attempt. Default 3. */
  readonly retries?: number;
  /** Cap on a response body, unless a request sets its own. Default 16 MiB. */
  readonly maxBytes?: number;
  /** An extra CA (PEM, one or more certificates) trusted besides the default store (which includes NODE_EXTRA_CA_CERTS). */
  readonly caCertPem?: string;
  readonly userAgent?: string;
  readonly onRetry?: (info: RetryInfo) => void;
  /** Bound on one logical request, all attempts and waits included. Default max(2 x timeoutMs, 30 s). */
  readonly totalBudgetMs?: number;
  /** Connections per origin. Default 16. */
  readonly connections?: number;
  /** The run's connection pool (pool.ts), shared with the registry; not closed by close(). Default: a pool of its own. */
  readonly pool?: Pool;
  /** First backoff step; later ones double, with jitter. Default 250 ms. */
  readonly backoffBaseMs?: number;
  /** Largest backoff step. Default 8 s. */
  readonly backoffMaxMs?: number;
  /** Largest wait a `Retry-After` header can impose. Default 30 s. */
  readonly maxRetryAfterMs?: number;
  /** Counts the bytes of every response handed back (a run's total from this peer). */
  readonly budget?: Pick<Budget, 'takeBytes'>;
  /** Aborts every request in flight and any later one (the run's deadline); its reason is thrown. */
  readonly signal?: AbortSignal;
};

export type HttpRequestOptions = {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  /** Overrides the client's cap for this response. */
  readonly maxBytes?: number;
  /** Statuses handed back to the caller instead of thrown (e.g. 401 for a registry's auth challenge, 404). */
  readonly acceptStatus?: readonly number[];
};

export type JsonRequestOptions = Omit<HttpRequestOptions, 'body' | 'acceptStatus'> & {
  /** Sent as JSON (`Content-Type: application/json`). */
  readonly body?: unknown;
};

export type HttpResponse = {
  readonly status: number;
  /** Lower-cased names. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
};

export type Http = {
  /** Resolves with a 2xx response (or one in `acceptStatus`); throws GateError NETWORK / HTTP_STATUS / RESPONSE_TOO_LARGE. */
  request(url: string | URL, opts?: HttpRequestOptions): Promise<HttpResponse>;
  /**
   * `request` with `Accept: application/json`, parsed. The value is NOT checked: validate it with ajv before use.
   * Throws RESPONSE_MALFORMED when the body is not JSON.
   */
  json<T = unknown>(url: string | URL, opts?: JsonRequestOptions): Promise<T>;
  close(): Promise<void>;
};

const DEFAULTS = {
  retries: 3,
  maxBytes: 16 * 1024 * 1024,
  userAgent: 'rekor-gate',
} as const;
/** How much of an error response is read for its message. */
const ERROR_BODY_BYTES = 64 * 1024;


/** Statuses returned to the caller: 2xx and those it listed. */
function handedBack(status: number, ro: HttpRequestOptions): boolean {
  return (status >= 200 && status < 300) || (ro.acceptStatus?.includes(status) ?? false);
}


/** Thrown inside an attempt whose own deadline passed. */
class AttemptTimeout extends Error {
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
    this.name = 'AttemptTimeout';
  }
}


function describe(err: unknown): string {
  if (err instanceof AttemptTimeout) return err.message;
  const code = errorCodes(err)[0];
  let msg = err instanceof Error ? err.message : String(err);
  if (!msg && err instanceof AggregateError) {
    msg = err.errors.map((e: unknown) => (e instanceof Error ? e.message : String(e))).join('; ');
  }
  return code && !msg.includes(code) ? `${code}: ${msg}` : msg || 'unknown error';
}

/** The error an aborted run's signal carries (a GateError naming the deadline), or one saying it was aborted. */
function runAborted(signal: AbortSignal): GateError {
  const r: unknown = signal.reason;
  return r instanceof GateError ? r : new GateError('NETWORK', `the run was stopped: ${describe(r)}`);
}

function isRetryableError(err: unknown): boolean {
  return err instanceof AttemptTimeout || isRetryableNetworkError(err);
}


function headerMap(headers: Dispatcher.ResponseData['headers']): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}

/** One keep-alive undici Agent behind retries, timeouts and size caps. TLS certificates are always verified. */
export function createHttp(opts: HttpOptions): Http {
  const timeoutMs = opts.timeoutMs;
  if (!(timeoutMs > 0)) throw new GateError('USAGE', `HTTP timeout must be positive, got ${timeoutMs}`);
  const retries = opts.retries ?? DEFAULTS.retries;
  const defaultMaxBytes = opts.maxBytes ?? DEFAULTS.maxBytes;
  const totalBudgetMs = opts.totalBudgetMs ?? Math.max(2 * timeoutMs, 30_000);
  const backoffBaseMs = opts.backoffBaseMs ?? RETRY_DEFAULTS.backoffBaseMs;
  const backoffMaxMs = opts.backoffMaxMs ?? RETRY_DEFAULTS.backoffMaxMs;
  const maxRetryAfterMs = opts.maxRetryAfterMs ?? RETRY_DEFAULTS.maxRetryAfterMs;
  const userAgent = opts.userAgent ?? DEFAULTS.userAgent;

  const agent = opts.pool ?? createPool({ timeoutMs, ...(opts.caCertPem === undefined ? {} : { caCertPem: opts.caCertPem }), ...(opts.connections === undefined ? {} : { connections: opts.connections }) });

  type Attempt =
    | { kind: 'response'; res: HttpResponse; statusText: string }
    | { kind: 'failed'; err: unknown };

  async function attempt(url: string, ro: HttpRequestOptions, method: string, ms: number, cap: number): Promise<Attempt> {
    const ac = new AbortController();
    const signal = opts.signal ? AbortSignal.any([ac.signal, opts.signal]) : ac.signal;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ac.abort(new AttemptTimeout(ms));
    }, ms);
    let data: Dispatcher.ResponseData | undefined;
    try {
      data = await undiciRequest(url, {
        dispatcher: agent,
        method: method as Dispatcher.HttpMethod,
        headers: { 'user-agent': userAgent, ...ro.headers },
        body: ro.body ?? null,
        signal,
      });
      const status = data.statusCode;
      const wanted = handedBack(status, ro);
      const headers = headerMap(data.headers);
      const body = await readBody(data, url, method, wanted ? cap : ERROR_BODY_BYTES, wanted);
      return { kind: 'response', res: { status, headers, body }, statusText: data.statusText };
    } catch (err) {
      data?.body.destroy();
      if (err instanceof GateError) throw err;
      if (opts.signal?.aborted) throw runAborted(opts.signal);
      return { kind: 'failed', err: timedOut ? new AttemptTimeout(ms) : err };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Reads at most `cap` bytes. Over the cap: RESPONSE_TOO_LARGE when `strict`, else the first `cap` bytes. */
  async function readBody(data: Dispatcher.ResponseData, url: string, method: string, cap: number, strict: boolean): Promise<Buffer> {
    const tooLarge = (what: string) =>
      new GateError('RESPONSE_TOO_LARGE', `${method} ${url}: response body ${what} exceeds the ${cap}-byte limit`);
    const declared = Number(data.headers['content-length']);
    if (strict && Number.isFinite(declared) && declared > cap) {
      data.body.destroy();
      throw tooLarge(`of ${declared} bytes (Content-Length)`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of data.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      // Counted as it arrives, so that answers in flight together stop at the run's cap, not after it.
      if (strict && opts.budget) {
        try {
          opts.budget.takeBytes(chunk.length, `${method} ${url}`);
        } catch (err) {
          data.body.destroy();
          throw err;
        }
      }
      if (size > cap) {
        data.body.destroy();
        if (strict) throw tooLarge('read so far');
        chunks.push(chunk.subarray(0, chunk.length - (size - cap)));
        return Buffer.concat(chunks);
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks, size);
  }

  async function request(target: string | URL, ro: HttpRequestOptions = {}): Promise<HttpResponse> {
    const url = typeof target === 'string' ? target : target.href;
    const method = (ro.method ?? 'GET').toUpperCase();
    const cap = ro.maxBytes ?? defaultMaxBytes;
    const deadline = performance.now() + totalBudgetMs;
    const giveUp = (attempts: number, last: string, why: string, cause?: unknown) =>
      new GateError(
        'NETWORK',
        `${method} ${url} failed after ${attempts} attempt${attempts === 1 ? '' : 's'} (${why}); last error: ${last}`,
        { cause },
      );

    for (let n = 1; ; n++) {
      if (opts.signal?.aborted) throw runAborted(opts.signal);
      const remaining = Math.floor(deadline - performance.now());
      const out = await attempt(url, ro, method, Math.max(1, Math.min(timeoutMs, remaining)), cap);
      let reason: string;
      let status: number | undefined;
      let retryAfterMs: number | undefined;
      let cause: unknown;
      if (out.kind === 'response') {
        const { res } = out;
        if (handedBack(res.status, ro)) return res;
        const msg = serverMessage(res.body);
        reason = `HTTP ${res.status}${out.statusText ? ` ${out.statusText}` : ''}${msg ? `: ${msg}` : ''}`;
        if (!retryableStatus(res.status)) {
          throw new GateError('HTTP_STATUS', `${method} ${url} returned ${reason}`, { status: res.status });
        }
        status = res.status;
        retryAfterMs = parseRetryAfter(res.headers['retry-after']);
      } else {
        cause = out.err;
        reason = describe(out.err);
        if (!isRetryableError(out.err)) {
          throw new GateError('NETWORK', `${method} ${url} failed: ${reason}`, { cause });
        }
      }
      if (n > retries) throw giveUp(n, reason, 'retries exhausted', cause);
      const delayMs = retryDelayMs(n, retryAfterMs, { baseMs: backoffBaseMs, maxMs: backoffMaxMs, maxRetryAfterMs });
      if (performance.now() + delayMs >= deadline) {
        throw giveUp(n, reason, `the ${totalBudgetMs} ms time budget does not allow another attempt`, cause);
      }
      opts.onRetry?.({ url, method, attempt: n, delayMs, reason, ...(status === undefined ? {} : { status }) });
      await sleep(delayMs, undefined, opts.signal ? { signal: opts.signal } : {}).catch(() => {
        throw runAborted(opts.signal as AbortSignal);
      });
    }
  }

  async function json<T = unknown>(target: string | URL, jo: JsonRequestOptions = {}): Promise<T> {
    const { body, headers, ...rest } = jo;
    const res = await request(target, {
      ...rest,
      headers: {
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    try {
      return JSON.parse(res.body.toString('utf8')) as T;
    } catch (err) {
      const url = typeof target === 'string' ? target : target.href;
      throw new GateError(
        'RESPONSE_MALFORMED',
        `${(jo.method ?? 'GET').toUpperCase()} ${url}: response (HTTP ${res.status}, ${res.body.length} bytes) is not JSON: ${describe(err)}`,
        { cause: err },
      );
    }
  }

  return {
    request,
    json,
    close: async () => {
      if (!opts.pool) await agent.close();
    },
  };
}
