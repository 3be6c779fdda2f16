import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toTrustMaterial, type KeyFinderFunc, type TrustMaterial, VerificationError } from '@sigstore/verify';
import type { TLogAuthority } from '@sigstore/verify/dist/trust/index.js';
import { errorMessage, GateError } from '../errors.ts';
import { parseTrustedKeys } from '../key/keys.ts';
import { trustedRootSchemaError } from './schema.ts';

/** Everything rekor-gate trusts: the @sigstore/verify trust material and where it came from. */
export type Trust = {
  readonly material: TrustMaterial;
  /** Where the trust came from, for messages: `--trusted-root <path>`, `--rekor-public-key <path>`, `TUF <mirror>`. */
  readonly source: string;
  readonly ctlogCount: number;
  readonly caCount: number;
};

export type LoadTrustOptions = {
  trustedRootPath?: string;
  rekorPublicKeyPath?: string;
  tufCacheDir?: string;
  offline?: boolean;
  /**
   * Keyless signers must be verified: with `--rekor-public-key` alone, the Fulcio CAs and CT logs then come
   * from the public-good root (as cosign takes them from TUF when only the Rekor key is overridden).
   */
  needCertificateAuthorities?: boolean;
};

const BEGINNING_OF_TIME = new Date(0);
const END_OF_TIME = new Date(8_640_000_000_000_000);

/** A trusted log key's validity, for messages: `start .. end` (or `(no end)`). */
export function validityRange(log: TLogAuthority): string {
  return `${log.validFor.start.toISOString()} .. ${log.validFor.end.getTime() >= END_OF_TIME.getTime() ? '(no end)' : log.validFor.end.toISOString()}`;
}

/**
 * Trust from a Sigstore trusted_root.json (already parsed JSON). Checked against our schema (which also
 * rejects a transparency log key without `validFor.start`), then read by @sigstore/protobuf-specs and
 * @sigstore/verify `toTrustMaterial`.
 */
export function trustFromTrustedRoot(json: unknown, source: string): Trust {
  const schemaError = trustedRootSchemaError(json);
  if (schemaError) {
    throw new GateError('BAD_TRUST_ROOT', `${source}: not an acceptable Sigstore trusted root: ${schemaError}`);
  }
  let material: TrustMaterial;
  try {
    material = toTrustMaterial(TrustedRoot.fromJSON(json));
  } catch (err) {
    throw new GateError('BAD_TRUST_ROOT', `${source}: the trusted root does not load: ${errorMessage(err)}`, { cause: err });
  }
  return { material, source, ctlogCount: material.ctlogs.length, caCount: material.certificateAuthorities.length };
}

/**
 * Trust for a private Rekor log known only by its public key (PEM). Its log ID is sha256 of the key's SPKI DER,
 * as Rekor computes it; the key is trusted at all times. Certificate authorities, CT logs and timestamp
 * authorities come from `caTrust` when given (else only key-based signers can be verified).
 */
export function trustFromRekorPublicKey(pem: string, caTrust?: Trust, source = 'Rekor public key'): Trust {
  const keys = parseTrustedKeys(pem, source);
  const [only] = keys;
  if (!only || keys.length > 1) {
    throw new GateError('BAD_KEY', `${source}: expected one PEM public key (the log's), found ${keys.length}`);
  }
  const log: TLogAuthority = {
    logID: Buffer.from(only.fingerprint, 'hex'), // sha256 of the SPKI DER
    // No name is known for a key-only log: log-verify.ts then accepts any checkpoint signer name
    // (the key hint and signature still have to match this key).
    baseURL: '',
    publicKey: only.key,
    validFor: { start: BEGINNING_OF_TIME, end: END_OF_TIME },
  };
  const ca = caTrust?.material;
  const material: TrustMaterial = {
    certificateAuthorities: ca?.certificateAuthorities ?? [],
    timestampAuthorities: ca?.timestampAuthorities ?? [],
    ctlogs: ca?.ctlogs ?? [],
    tlogs: [log],
    publicKey: noKeys,
  };
  return {
    material,
    source: caTrust ? `${source} + ${caTrust.source}` : source,
    ctlogCount: material.ctlogs.length,
    caCount: material.certificateAuthorities.length,
  };
}

/** The key finder of trust material without managed keys (bundle verification supplies its own). */
const noKeys: KeyFinderFunc = (hint) => {
  throw new VerificationError({ code: 'PUBLIC_KEY_ERROR', message: `key not found: ${hint}` });
};

async function readText(file: string, code: 'BAD_TRUST_ROOT' | 'BAD_KEY', what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new GateError(code, `${what} ${file}: cannot be read: ${errorMessage(err)}`, { cause: err });
  }
}

async function trustedRootFile(file: string): Promise<Trust> {
  const source = `--trusted-root ${file}`;
  const text = await readText(file, 'BAD_TRUST_ROOT', '--trusted-root');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    // JSON.parse's message quotes the file: never echo it (it could hold anything, over several lines).
    throw new GateError('BAD_TRUST_ROOT', `${source}: the file is not JSON (a Sigstore trusted_root.json is expected)`, { cause: err });
  }
  return trustFromTrustedRoot(json, source);
}

/** The public-good trusted root, through TUF (loaded on demand). */
async function publicGoodTrust(tufCacheDir: string | undefined, offline: boolean): Promise<Trust> {
  const { fetchPublicGoodRoot } = await import('./tuf.ts');
  const { json, source } = await fetchPublicGoodRoot(tufCacheDir, offline);
  return trustFromTrustedRoot(json, source);
}

async function load(opts: LoadTrustOptions): Promise<Trust> {
  const caTrust = opts.trustedRootPath
    ? await trustedRootFile(opts.trustedRootPath)
    : opts.rekorPublicKeyPath && opts.needCertificateAuthorities
      ? await publicGoodTrust(opts.tufCacheDir, opts.offline ?? false)
      : undefined;
  if (opts.rekorPublicKeyPath) {
    const pem = await readText(opts.rekorPublicKeyPath, 'BAD_KEY', '--rekor-public-key');
    return trustFromRekorPublicKey(pem, caTrust, `--rekor-public-key ${opts.rekorPublicKeyPath}`);
  }
  return caTrust ?? publicGoodTrust(opts.tufCacheDir, opts.offline ?? false);
}

const loaded = new Map<string, Promise<Trust>>();

/**
 * The trust for a run, loaded once per set of options: `--rekor-public-key` (a private log; CAs from
 * `--trusted-root` when also given), else `--trusted-root`, else the public-good root via TUF.
 * Bad files fail with BAD_TRUST_ROOT / BAD_KEY (exit 2), an unreachable TUF repository with NETWORK (exit 3).
 */
export function loadTrust(opts: LoadTrustOptions): Promise<Trust> {
  const key = JSON.stringify([
    opts.trustedRootPath && path.resolve(opts.trustedRootPath),
    opts.rekorPublicKeyPath && path.resolve(opts.rekorPublicKeyPath),
    opts.tufCacheDir && path.resolve(opts.tufCacheDir),
    opts.offline ?? false,
    opts.needCertificateAuthorities ?? false,
  ]);
  let trust = loaded.get(key);
  if (!trust) {
    trust = load(opts);
    loaded.set(key, trust);
    // A failed load is not cached: the next call tries again.
    trust.catch(() => loaded.delete(key));
  }
  return trust;
}
