// The flags that name the log and what to trust about it: the log's URL, the trusted root and key files, the
// extra CA. Kept apart from the policy flags (inputs.ts) so that the log's first request can leave before the
// policy's modules (keys, RE2) are loaded.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { GateError } from '../errors.ts';
import { isLoopbackHostname } from '../net/loopback.ts';

/** A file a flag names, read whole; an unreadable one is `code` naming the flag and the file. */
export function readText(file: string, flag: string, code: 'BAD_KEY' | 'BAD_TRUST_ROOT' | 'USAGE'): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new GateError(code, `${flag} ${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

export type TrustFlags = { trustedRoot?: string; rekorPublicKey?: string; trustDir?: string; caCert?: string; tufRoot?: string };

/**
 * `--trust-dir` (a mounted Secret or ConfigMap) stands for the files it holds: trusted_root.json, rekor.pub,
 * ca.crt, and root.json (a TUF repository's initial root, for --tuf-mirror). Explicit flags win.
 */
export function resolveTrustFiles(f: TrustFlags): { trustedRoot?: string; rekorPublicKey?: string; caCert?: string; tufRoot?: string } {
  const inDir = (name: string): string | undefined => {
    if (!f.trustDir) return undefined;
    const p = path.join(f.trustDir, name);
    return existsSync(p) ? p : undefined;
  };
  if (f.trustDir && !existsSync(f.trustDir)) throw new GateError('USAGE', `--trust-dir ${f.trustDir} does not exist`);
  const out = {
    trustedRoot: f.trustedRoot ?? inDir('trusted_root.json'),
    rekorPublicKey: f.rekorPublicKey ?? inDir('rekor.pub'),
    caCert: f.caCert ?? inDir('ca.crt'),
    tufRoot: f.tufRoot ?? inDir('root.json'),
  };
  if (f.trustDir && !out.trustedRoot && !out.rekorPublicKey && !out.tufRoot && !f.trustedRoot && !f.rekorPublicKey) {
    throw new GateError('USAGE', `--trust-dir ${f.trustDir} holds none of trusted_root.json, rekor.pub, root.json`);
  }
  return out;
}

export function readCaCert(file: string | undefined): string | undefined {
  return file ? readText(file, '--ca-cert', 'USAGE') : undefined;
}

/**
 * A log URL: HTTPS, or plain HTTP to a loopback host only (as container tools allow insecure registries);
 * no credentials in it (they would travel into messages and Tekton results); no trailing slash.
 */
export function parseLogUrl(input: string, flag: string): URL {
  let u: URL;
  try {
    u = new URL(input);
  } catch {
    throw new GateError('USAGE', `${flag} is not a URL`);
  }
  if (u.username !== '' || u.password !== '') throw new GateError('USAGE', `${flag} must not carry credentials (user:password@)`);
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && isLoopbackHostname(u.hostname))) {
    throw new GateError('USAGE', `${flag} ${u.href} must be https (plain http only to a loopback host)`);
  }
  return u;
}

export function parseRekorUrl(input: string): string {
  return parseLogUrl(input, '--rekor-url').toString().replace(/\/+$/, '');
}
