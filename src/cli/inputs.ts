import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { GateError } from '../errors.ts';
import { parseTrustedKeys } from '../trust/public-keys.ts';
import { exact, regexp, type Matcher } from '../policy/matcher.ts';
import { combinePolicies } from '../policy/combine.ts';
import type { KeylessSigner, Policy } from '../policy/policy.ts';
import type { TrustedKey } from '../trust/public-keys.ts';
import { readText } from './log-flags.ts';

export type PolicyFlags = {
  key?: string[];
  keyDir?: string;
  publicKey?: string[];
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
  certificateOidcIssuerRegexp?: string;
  predicateType?: string[];
  requireEnvelope?: boolean;
  requireSignature?: boolean;
};

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
  const fromFlags: Policy = { keys, keyless, predicateTypes: splitList(f.predicateType), ...(f.requireSignature === true && { requireSignature: true }) };
  // Flags and the policy file combine as docs/policy.md says; at least one signer overall.
  const combined = combinePolicies(fromFlags, file);
  return f.requireEnvelope ? { ...combined, requireEnvelope: true } : combined;
}
