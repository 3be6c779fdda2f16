import { loadTrust, type Trust } from '../trust/index.ts';
import { TRUST_FLAGS } from './hints.ts';
import { parseLogUrl, resolveTrustFiles } from './log-flags.ts';
import { openTransport, type LogTransport } from './transport.ts';

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

export type LogNeeds = { readonly certificateAuthorities?: boolean };

/** The log to talk to and what to trust about it, set up once from the flags. */
export type LogSession = LogTransport & { readonly trust: Trust };

/**
 * The log and its trust, set up once from the flags. `transport` is the run's own when it has already sent
 * requests (verify's search leaves before the trust is loaded); otherwise one is opened here.
 */
export async function openLog(args: LogArgs, needs: LogNeeds = {}, signal?: AbortSignal, transport?: LogTransport): Promise<LogSession> {
  const t = transport ?? openTransport(args, signal);
  try {
    const files = resolveTrustFiles(args);
    const trust = await loadTrust({
      trustedRootPath: files.trustedRoot,
      rekorPublicKeyPath: files.rekorPublicKey,
      tufCacheDir: args.tufCacheDir,
      // The same rule as the log's URL: https, or plain http to a loopback host only.
      tufMirror: args.tufMirror === undefined ? undefined : parseLogUrl(args.tufMirror, '--tuf-mirror').toString().replace(/\/+$/, ''),
      tufRoot: files.tufRoot,
      trustedRootDigest: args.trustedRootDigest,
      timeoutMs: t.timeoutMs,
      caCertPem: t.caCertPem,
      offline: args.offline ?? false,
      needCertificateAuthorities: needs.certificateAuthorities ?? false,
      names: TRUST_FLAGS,
    });
    return { ...t, trust };
  } catch (err) {
    await t.close();
    throw err;
  }
}
