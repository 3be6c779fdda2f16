// The log's side of a run without its trust: the URL, one connection pool, the HTTP layer with the run's caps,
// and the Rekor client. It loads no verification code, so `verify` can send the search before the verifier,
// the trusted root and the policy are loaded (verify-command.ts); session.ts adds the trust.
import { createBudget, LOG_BUDGET, type Budget } from '../net/budget.ts';
import { createHttp, type Http } from '../net/http.ts';
import { createPool, type Pool } from '../net/pool.ts';
import { createRekorClient, type RekorClient } from '../rekor/client.ts';
import { runCaps } from './memory.ts';
import { parseRekorUrl, readCaCert, resolveTrustFiles, type TrustFlags } from './log-flags.ts';
import { timeoutMsOf } from './timeouts.ts';
import { VERSION } from './version.ts';

export type TransportArgs = TrustFlags & { rekorUrl: string; timeout: number };

export type LogTransport = {
  readonly rekorUrl: string;
  readonly http: Http;
  readonly rekor: RekorClient;
  readonly caCertPem?: string;
  readonly timeoutMs: number;
  /** What the run has taken from the log (bytes, entries), under LOG_BUDGET's entries and the run's byte cap (memory.ts). */
  readonly budget: Budget;
  /** A client for another base URL of a trusted log (an --entry-url), sharing the connection pool. */
  clientFor(baseUrl: string): RekorClient;
  /** The run's connection pool, shared with the registry client. */
  readonly pool: Pool;
  /** Closes the pool (once; later calls wait for the same close). */
  close(): Promise<void>;
};

export function openTransport(args: TransportArgs, signal?: AbortSignal): LogTransport {
  const rekorUrl = parseRekorUrl(args.rekorUrl);
  const timeoutMs = timeoutMsOf(args.timeout);
  const caCertPem = readCaCert(resolveTrustFiles(args).caCert);
  const caps = runCaps();
  const budget = createBudget({ peer: `the log ${rekorUrl}`, maxEntries: LOG_BUDGET.maxEntries, maxBytes: caps.runBytes });
  // One connection pool per run: the log's client and the registry's share it.
  const pool = createPool({ timeoutMs, ...(caCertPem === undefined ? {} : { caCertPem }) });
  const http = createHttp({ timeoutMs, pool, maxBytes: caps.responseBytes, userAgent: `rekor-gate/${VERSION}`, budget, ...(signal ? { signal } : {}) });
  let closed: Promise<void> | undefined;
  return {
    rekorUrl,
    http,
    rekor: createRekorClient(rekorUrl, http, { budget }),
    ...(caCertPem === undefined ? {} : { caCertPem }),
    timeoutMs,
    budget,
    clientFor: (baseUrl) => createRekorClient(baseUrl, http, { budget }),
    pool,
    close: () => (closed ??= pool.close()),
  };
}
