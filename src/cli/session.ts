import { GateError, errorMessage, exitCodeFor } from '../errors.ts';
import { createHttp, type Http } from '../net/http.ts';
import { createRekorClient, type RekorClient } from '../rekor/client.ts';
import { loadTrust, type Trust } from '../trust/index.ts';
import { parseRekorUrl, readCaCert, resolveTrustFiles } from './inputs.ts';
import { printable } from '../text.ts';
import { VERSION } from './version.ts';

export type LogArgs = {
  rekorUrl: string;
  trustedRoot?: string;
  rekorPublicKey?: string;
  trustDir?: string;
  tufCacheDir?: string;
  caCert?: string;
  timeout: number;
  offline?: boolean;
};

export type LogNeeds = { readonly certificateAuthorities?: boolean };

/** The log to talk to and what to trust about it, set up once from the flags. */
export type LogSession = {
  readonly rekorUrl: string;
  readonly trust: Trust;
  readonly http: Http;
  readonly rekor: RekorClient;
  readonly caCertPem?: string;
  readonly timeoutMs: number;
  /** A client for another base URL of a trusted log (an --entry-url), sharing the connection pool. */
  clientFor(baseUrl: string): RekorClient;
  close(): Promise<void>;
};

export function seconds(value: number, flag: string, { positive = false } = {}): number {
  if (!Number.isFinite(value) || value < 0 || (positive && value === 0)) {
    throw new GateError('USAGE', `--${flag} must be a number of seconds ${positive ? '> 0' : '>= 0'}, got ${value}`);
  }
  return value;
}

export async function openLog(args: LogArgs, needs: LogNeeds = {}): Promise<LogSession> {
  const rekorUrl = parseRekorUrl(args.rekorUrl);
  const timeoutMs = seconds(args.timeout, 'timeout', { positive: true }) * 1000;
  const files = resolveTrustFiles(args);
  const caCertPem = readCaCert(files.caCert);
  const trust = await loadTrust({
    trustedRootPath: files.trustedRoot,
    rekorPublicKeyPath: files.rekorPublicKey,
    tufCacheDir: args.tufCacheDir,
    offline: args.offline ?? false,
    needCertificateAuthorities: needs.certificateAuthorities ?? false,
  });
  const http = createHttp({ timeoutMs, caCertPem, userAgent: `rekor-gate/${VERSION}` });
  return {
    rekorUrl,
    trust,
    http,
    rekor: createRekorClient(rekorUrl, http),
    caCertPem,
    timeoutMs,
    clientFor: (baseUrl) => createRekorClient(baseUrl, http),
    close: () => http.close(),
  };
}

/** One line on stderr for an error (never a stack trace); returns its exit code. */
export function reportError(err: unknown): number {
  const code = exitCodeFor(err);
  const tag = err instanceof GateError ? err.code : 'INTERNAL';
  process.stderr.write(`rekor-gate: ${code === 2 ? 'usage error' : 'error'} [${tag}]: ${printable(errorMessage(err))}\n`);
  return code;
}
