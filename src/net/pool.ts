// One connection pool per run (an undici Agent), shared by the log's client and the registry's: keep-alive
// connections, TLS always verified against Node's store plus the extra CA (tls.ts), timeouts per attempt.
import { Agent, type Dispatcher } from './undici.ts';
import { tlsCaList } from './tls.ts';

/** A connection pool (tests may pass any undici Dispatcher). */
export type Pool = Dispatcher;

export type PoolOptions = {
  /** Connect, headers and body timeouts (per attempt). */
  readonly timeoutMs: number;
  /** An extra CA (PEM) trusted besides the default store (which includes NODE_EXTRA_CA_CERTS). */
  readonly caCertPem?: string;
  /** Connections per origin. Default 16. */
  readonly connections?: number;
};

export function createPool(o: PoolOptions): Pool {
  // Without `ca`, Node's default store applies (bundled roots + NODE_EXTRA_CA_CERTS). Passing `ca` replaces
  // that store, so an extra CA is appended to the default certificates rather than given alone.
  const ca = tlsCaList(o.caCertPem);
  return new Agent({
    connections: o.connections ?? 16,
    keepAliveTimeout: 10_000,
    headersTimeout: o.timeoutMs,
    bodyTimeout: o.timeoutMs,
    connect: { timeout: o.timeoutMs, rejectUnauthorized: true, ...(ca ? { ca } : {}) },
  });
}
