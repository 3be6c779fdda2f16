import { GateError, errorMessage, exitCodeFor } from '../errors.ts';
import { createBudget, LOG_BUDGET, type Budget } from '../net/budget.ts';
import { createHttp, type Http } from '../net/http.ts';
import { createPool, type Pool } from '../net/pool.ts';
import { createRekorClient, type RekorClient } from '../rekor/client.ts';
import { loadTrust, type Trust } from '../trust/index.ts';
import { parseLogUrl, parseRekorUrl, readCaCert, resolveTrustFiles } from './inputs.ts';
import { printable } from '../text.ts';
import { VERSION } from './version.ts';

export type LogArgs = {
  rekorUrl: string;
  trustedRoot?: string;
  rekorPublicKey?: string;
  trustDir?: string;
  tufCacheDir?: string;
  tufMirror?: string;
  tufRoot?: string;
  trustedRootDigest?: string;
  caCert?: string;
  timeout: number;
  offline?: boolean;
};

/** The largest --timeout: ten minutes per request is already generous (and Node's timers overflow past 2^31-1 ms). */
export const MAX_TIMEOUT_SECONDS = 600;
/** The largest --wait: a day (Chains signs within minutes of the build). */
export const MAX_WAIT_SECONDS = 86_400;

export type LogNeeds = { readonly certificateAuthorities?: boolean };

/** The log to talk to and what to trust about it, set up once from the flags. */
export type LogSession = {
  readonly rekorUrl: string;
  readonly trust: Trust;
  readonly http: Http;
  readonly rekor: RekorClient;
  readonly caCertPem?: string;
  readonly timeoutMs: number;
  /** What the run has taken from the log (bytes, entries), under LOG_BUDGET. */
  readonly budget: Budget;
  /** A client for another base URL of a trusted log (an --entry-url), sharing the connection pool. */
  clientFor(baseUrl: string): RekorClient;
  /** The run's connection pool, shared with the registry client. */
  readonly pool: Pool;
  close(): Promise<void>;
};

export function seconds(value: number, flag: string, { positive = false, max = Number.POSITIVE_INFINITY } = {}): number {
  if (!Number.isFinite(value) || value < 0 || (positive && value === 0)) {
    throw new GateError('USAGE', `--${flag} must be a number of seconds ${positive ? '> 0' : '>= 0'}, got ${value}`);
  }
  if (value > max) {
    throw new GateError('USAGE', `--${flag} ${value} is more than the maximum of ${max} seconds (it is in seconds, not milliseconds)`);
  }
  return value;
}

/** --timeout in milliseconds, checked. */
export function timeoutMsOf(timeout: number): number {
  return seconds(timeout, 'timeout', { positive: true, max: MAX_TIMEOUT_SECONDS }) * 1000;
}

export async function openLog(args: LogArgs, needs: LogNeeds = {}, signal?: AbortSignal): Promise<LogSession> {
  const rekorUrl = parseRekorUrl(args.rekorUrl);
  const timeoutMs = timeoutMsOf(args.timeout);
  const files = resolveTrustFiles(args);
  const caCertPem = readCaCert(files.caCert);
  const trust = await loadTrust({
    trustedRootPath: files.trustedRoot,
    rekorPublicKeyPath: files.rekorPublicKey,
    tufCacheDir: args.tufCacheDir,
    // The same rule as the log's URL: https, or plain http to a loopback host only.
    tufMirror: args.tufMirror === undefined ? undefined : parseLogUrl(args.tufMirror, '--tuf-mirror').toString().replace(/\/+$/, ''),
    tufRoot: files.tufRoot,
    trustedRootDigest: args.trustedRootDigest,
    timeoutMs,
    caCertPem,
    offline: args.offline ?? false,
    needCertificateAuthorities: needs.certificateAuthorities ?? false,
  });
  const budget = createBudget({ peer: `the log ${rekorUrl}`, ...LOG_BUDGET });
  // One connection pool per run: the log's client and the registry's (verify-command.ts) share it.
  const pool = createPool({ timeoutMs, ...(caCertPem === undefined ? {} : { caCertPem }) });
  const http = createHttp({ timeoutMs, pool, userAgent: `rekor-gate/${VERSION}`, budget, ...(signal ? { signal } : {}) });
  return {
    rekorUrl,
    trust,
    http,
    rekor: createRekorClient(rekorUrl, http, { budget }),
    caCertPem,
    timeoutMs,
    budget,
    clientFor: (baseUrl) => createRekorClient(baseUrl, http, { budget }),
    pool,
    close: () => pool.close(),
  };
}

/** One line on stderr for an error (never a stack trace); returns its exit code. */
export function reportError(err: unknown): number {
  const code = exitCodeFor(err);
  const tag = err instanceof GateError ? err.code : 'INTERNAL';
  process.stderr.write(`rekor-gate: ${code === 2 ? 'usage error' : 'error'} [${tag}]: ${printable(errorMessage(err))}\n`);
  return code;
}
