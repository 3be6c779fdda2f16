// The one retry policy of every peer (the log, the registry): which failures and statuses are transient, and how
// long to wait before the next attempt (exponential backoff with equal jitter, at least what Retry-After asks).

/** Network failures worth another attempt. TLS verification failures and bad input are not among them. */
export const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'ENETUNREACH', 'ENETDOWN',
  'EHOSTUNREACH', 'EHOSTDOWN', 'EAI_AGAIN',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED',
  'ERR_HTTP2_GOAWAY_SESSION', 'ERR_HTTP2_SESSION_ERROR', 'ERR_HTTP2_STREAM_ERROR', 'ERR_HTTP2_STREAM_CANCEL',
  'ERR_HTTP2_INVALID_SESSION',
]);

/** 408, 429 and 5xx other than 501 (Not Implemented: Rekor's answer for a disabled API) are retried. */
export function retryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599 && status !== 501);
}

export function errorCodes(err: unknown): string[] {
  const codes: string[] = [];
  const visit = (e: unknown, depth: number): void => {
    if (depth > 3 || typeof e !== 'object' || e === null) return;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    if (e instanceof AggregateError) for (const sub of e.errors) visit(sub, depth + 1);
    visit((e as { cause?: unknown }).cause, depth + 1);
  };
  visit(err, 0);
  return codes;
}

/** A failure of the connection (not of the request) worth another attempt. */
export function isRetryableNetworkError(err: unknown): boolean {
  return errorCodes(err).some((c) => RETRYABLE_CODES.has(c));
}

/**
 * `Retry-After` as milliseconds from `nowMs`: delta-seconds or an HTTP-date (RFC 9110 10.2.3).
 * `undefined` when absent or unparsable; a date in the past gives 0.
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs = Date.now()): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = /^[A-Za-z]{3,9},? /.test(v) ? Date.parse(v) : Number.NaN; // IMF-fixdate / RFC 850 / asctime start with a day name
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

export const RETRY_DEFAULTS = {
  /** First backoff step; later ones double. */
  backoffBaseMs: 250,
  /** Largest backoff step. */
  backoffMaxMs: 8_000,
  /** Largest wait a `Retry-After` header can impose. */
  maxRetryAfterMs: 30_000,
} as const;

/** The wait after failed attempt `attempt` (1-based): "equal jitter", between half and all of the step. */
export function backoffMs(attempt: number, baseMs: number = RETRY_DEFAULTS.backoffBaseMs, maxMs: number = RETRY_DEFAULTS.backoffMaxMs): number {
  const step = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  return Math.round(step / 2 + Math.random() * (step / 2));
}

/** The wait before the next attempt: the backoff, or longer when the peer's `Retry-After` (capped) asks for it. */
export function retryDelayMs(attempt: number, retryAfterMs: number | undefined, o: { baseMs?: number; maxMs?: number; maxRetryAfterMs?: number } = {}): number {
  const delay = backoffMs(attempt, o.baseMs, o.maxMs);
  return retryAfterMs === undefined ? delay : Math.max(delay, Math.min(retryAfterMs, o.maxRetryAfterMs ?? RETRY_DEFAULTS.maxRetryAfterMs));
}
