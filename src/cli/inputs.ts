import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { GateError } from '../errors.ts';
import { isLoopbackHostname } from '../net/loopback.ts';
import { parseTrustedKeys } from '../trust/public-keys.ts';
import { exact, regexp, type Matcher } from '../policy/matcher.ts';
import { combinePolicies } from '../policy/combine.ts';
import type { KeylessSigner, Policy } from '../policy/policy.ts';
import type { TrustedKey } from '../trust/public-keys.ts';

export type PolicyFlags = {
  key?: string[];
  keyDir?: string;
  publicKey?: string[];
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
  certificateOidcIssuerRegexp?: string;
  predicateType?: string[];
};

function readText(file: string, flag: string, code: 'BAD_KEY' | 'BAD_TRUST_ROOT' | 'USAGE'): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new GateError(code, `${flag} ${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/**
 * The public key files of `--key-dir` (a mounted Secret, as Chains' `signing-secrets` holds `cosign.pub`): every
 * regular file named *.pub or *.pem, sorted; hidden entries (a Secret volume's `..data` links) are skipped. A
 * directory with none is an error, never "trust nothing more".
 */
export function keyDirFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new GateError('USAGE', `--key-dir ${dir} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const files = names
    .filter((n) => !n.startsWith('.') && /\.(pub|pem)$/.test(n))
    .sort()
    .map((n) => path.join(dir, n))
    .filter((f) => statSync(f, { throwIfNoEntry: false })?.isFile() === true);
  if (files.length === 0) throw new GateError('BAD_KEY', `--key-dir ${dir} holds no *.pub or *.pem public key file`);
  return files;
}

/** The one file of a directory flag that stands for a file (a mounted ConfigMap or Secret). */
function fileInDir(dir: string, names: readonly string[], flag: string): string {
  if (!existsSync(dir)) throw new GateError('USAGE', `${flag} ${dir} does not exist`);
  const found = names.map((n) => path.join(dir, n)).filter((f) => existsSync(f));
  if (found.length !== 1) {
    throw new GateError('USAGE', `${flag} ${dir} must hold exactly one of ${names.join(', ')} (found ${found.length})`);
  }
  return found[0]!;
}

export type DirFlags = { policy?: string; policyDir?: string; vsa?: string; vsaDir?: string; vsaKey?: string; vsaKeyDir?: string };

/**
 * The directory forms of --policy, --vsa and --vsa-key, which a Tekton step passes as a workspace's path (an
 * unbound optional workspace's path is empty, and an empty variable is unset): resolved to the file each names.
 */
export function resolveDirFlags(f: DirFlags): { policy?: string; vsa?: string; vsaKey?: string } {
  return {
    policy: f.policy ?? (f.policyDir ? fileInDir(f.policyDir, ['policy.yaml', 'policy.yml', 'policy.json'], '--policy-dir') : undefined),
    vsa: f.vsa ?? (f.vsaDir ? path.join(f.vsaDir, 'vsa.json') : undefined),
    vsaKey: f.vsaKey ?? (f.vsaKeyDir ? fileInDir(f.vsaKeyDir, ['vsa.key'], '--vsa-key-dir') : undefined),
  };
}

/** Comma- or whitespace-separated lists (as an env var or a Tekton param carries them), flattened. */
export function splitList(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(/[\s,]+/)).filter((v) => v.length > 0);
}

function oneOf(exactValue: string | undefined, re: string | undefined, name: string): Matcher | undefined {
  if (exactValue && re) throw new GateError('USAGE', `give --${name} or --${name}-regexp, not both`);
  if (exactValue) return exact(exactValue);
  if (re) return regexp(re, `--${name}-regexp`);
  return undefined;
}

/** The policy from the flags and the policy file (loaded by the caller): at least one key or one keyless identity+issuer overall. */
export function policyFromFlags(f: PolicyFlags, file?: Policy): Policy {
  const keys: TrustedKey[] = [];
  for (const file of f.key ?? []) keys.push(...parseTrustedKeys(readText(file, '--key', 'BAD_KEY'), `--key ${file}`));
  if (f.keyDir) for (const file of keyDirFiles(f.keyDir)) keys.push(...parseTrustedKeys(readText(file, '--key-dir', 'BAD_KEY'), `--key-dir ${file}`));
  (f.publicKey ?? []).forEach((text, i) => keys.push(...parseTrustedKeys(text, `--public-key #${i + 1}`)));

  const identity = oneOf(f.certificateIdentity, f.certificateIdentityRegexp, 'certificate-identity');
  const issuer = oneOf(f.certificateOidcIssuer, f.certificateOidcIssuerRegexp, 'certificate-oidc-issuer');
  if ((identity === undefined) !== (issuer === undefined)) {
    throw new GateError(
      'USAGE',
      identity
        ? 'keyless verification needs an issuer too: add --certificate-oidc-issuer (or --certificate-oidc-issuer-regexp)'
        : 'keyless verification needs an identity too: add --certificate-identity (or --certificate-identity-regexp)',
    );
  }
  const keyless: KeylessSigner[] = identity && issuer ? [{ identity, issuer, label: 'flags' }] : [];
  const fromFlags: Policy = { keys, keyless, predicateTypes: splitList(f.predicateType) };
  // Flags and the policy file combine as docs/policy.md says; at least one signer overall.
  return combinePolicies(fromFlags, file);
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
