import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toTrustMaterial, type KeyFinderFunc, type TrustMaterial, VerificationError } from '@sigstore/verify';
import type { TLogAuthority } from '@sigstore/verify/dist/trust/index.js';
import { errorMessage, GateError } from '../errors.ts';
import { parseTrustedKeys } from './public-keys.ts';
import { trustedRootSchemaError } from './schema.ts';

/** Everything rekor-gate trusts: the @sigstore/verify trust material and where it came from. */
export type Trust = {
  readonly material: TrustMaterial;
  /** Where the trust came from, for messages: `<trusted root name> <path>`, `<Rekor public key name> <path>`, `TUF <mirror>`. */
  readonly source: string;
  readonly ctlogCount: number;
  readonly caCount: number;
};

/** How messages name the inputs of the trust (the CLI passes its flags); plain words by default. */
export type TrustInputNames = {
  readonly trustedRoot: string;
  readonly rekorPublicKey: string;
  readonly trustedRootDigest: string;
  readonly tufMirror: string;
  readonly tufRoot: string;
  readonly offline: string;
};

const PLAIN_NAMES: TrustInputNames = {
  trustedRoot: 'trusted root',
  rekorPublicKey: 'Rekor public key',
  trustedRootDigest: 'the pin given',
  tufMirror: 'TUF mirror',
  tufRoot: 'TUF root',
  offline: 'offline',
};

export type LoadTrustOptions = {
  trustedRootPath?: string;
  rekorPublicKeyPath?: string;
  tufCacheDir?: string;
  /** A private or mirrored Sigstore TUF repository (checked: https, or http to loopback); default the public-good one. */
  tufMirror?: string;
  /** The TUF repository's initial root.json; needed for a mirror @sigstore/tuf has no root for. */
  tufRoot?: string;
  /** `sha256:<64 hex>`: the trusted_root.json loaded (file or TUF target) must have exactly this digest. */
  trustedRootDigest?: string;
  /** Per TUF request. */
  timeoutMs?: number;
  /** An extra CA (PEM) for TLS to the TUF repository. */
  caCertPem?: string;
  offline?: boolean;
  /**
   * Keyless signers must be verified: with `--rekor-public-key` alone, the Fulcio CAs and CT logs then come
   * from the public-good root (as cosign takes them from TUF when only the Rekor key is overridden).
   */
  needCertificateAuthorities?: boolean;
  /** How messages name the inputs; default PLAIN_NAMES. */
  names?: TrustInputNames;
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

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** A trusted root's pinned digest, lower-cased; anything but `sha256:<64 hex>` is a usage error. */
export function parseTrustedRootDigest(input: string, name = PLAIN_NAMES.trustedRootDigest): string {
  const digest = input.trim().toLowerCase();
  if (!DIGEST.test(digest)) throw new GateError('USAGE', `${name} must be sha256:<64 hex>, got ${JSON.stringify(input.slice(0, 80))}`);
  return digest;
}

/** A pinned trusted root: the bytes loaded must hash to the digest given, or nothing is trusted. */
function checkPinned(bytes: Buffer, source: string, pinned: string | undefined, name: string): void {
  if (pinned === undefined) return;
  const expected = parseTrustedRootDigest(pinned, name);
  const actual = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  if (actual !== expected) {
    throw new GateError('BAD_TRUST_ROOT', `${source}: the trusted root's digest is ${actual}, but ${name} pins ${expected}`);
  }
}

function parseRootJson(bytes: Buffer, source: string, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    // JSON.parse's message quotes the file: never echo it (it could hold anything, over several lines).
    throw new GateError('BAD_TRUST_ROOT', `${source}: ${what} is not JSON (a Sigstore trusted_root.json is expected)`, { cause: err });
  }
}

async function trustedRootFile(file: string, pinned: string | undefined, names: TrustInputNames): Promise<Trust> {
  const source = `${names.trustedRoot} ${file}`;
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new GateError('BAD_TRUST_ROOT', `${source}: cannot be read: ${errorMessage(err)}`, { cause: err });
  }
  checkPinned(bytes, source, pinned, names.trustedRootDigest);
  return trustFromTrustedRoot(parseRootJson(bytes, source, 'the file'), source);
}

/** The trusted root through TUF (the public-good repository, or a mirror and its root), loaded on demand. */
async function tufTrust(opts: LoadTrustOptions, names: TrustInputNames): Promise<Trust> {
  const { fetchTufTrustedRoot } = await import('./tuf.ts');
  const { text, source } = await fetchTufTrustedRoot({
    mirrorUrl: opts.tufMirror,
    rootPath: opts.tufRoot,
    cacheDir: opts.tufCacheDir,
    offline: opts.offline ?? false,
    timeoutMs: opts.timeoutMs,
    caCertPem: opts.caCertPem,
    names,
  });
  const bytes = Buffer.from(text, 'utf8');
  checkPinned(bytes, `${source}: target trusted_root.json`, opts.trustedRootDigest, names.trustedRootDigest);
  return trustFromTrustedRoot(parseRootJson(bytes, source, 'the target trusted_root.json'), source);
}

async function load(opts: LoadTrustOptions): Promise<Trust> {
  const n = opts.names ?? PLAIN_NAMES;
  if (opts.trustedRootPath && (opts.tufMirror || opts.tufRoot)) {
    throw new GateError('USAGE', `${n.trustedRoot} ${opts.trustedRootPath} and ${n.tufMirror} / ${n.tufRoot} both name the trusted root: give one`);
  }
  const needRoot = !opts.rekorPublicKeyPath || opts.needCertificateAuthorities;
  if (opts.trustedRootDigest !== undefined && !opts.trustedRootPath && !needRoot) {
    throw new GateError('USAGE', `${n.trustedRootDigest} pins a trusted root, but this run loads none (${n.rekorPublicKey} ${opts.rekorPublicKeyPath} alone)`);
  }
  if (opts.trustedRootDigest !== undefined) parseTrustedRootDigest(opts.trustedRootDigest, n.trustedRootDigest);
  const caTrust = opts.trustedRootPath
    ? await trustedRootFile(opts.trustedRootPath, opts.trustedRootDigest, n)
    : opts.rekorPublicKeyPath && opts.needCertificateAuthorities
      ? await tufTrust(opts, n)
      : undefined;
  if (opts.rekorPublicKeyPath) {
    const pem = await readText(opts.rekorPublicKeyPath, 'BAD_KEY', n.rekorPublicKey);
    return trustFromRekorPublicKey(pem, caTrust, `${n.rekorPublicKey} ${opts.rekorPublicKeyPath}`);
  }
  return caTrust ?? tufTrust(opts, n);
}

const loaded = new Map<string, Promise<Trust>>();

/**
 * The trust for a run, loaded once per set of options: a Rekor public key (a private log; CAs from the
 * trusted root file when also given), else a trusted root file, else the trusted root via TUF (a mirror and its
 * root, or the public-good repository); pinned by a digest when given.
 * Bad files fail with BAD_TRUST_ROOT / BAD_KEY (exit 2), an unreachable TUF repository with NETWORK (exit 3).
 */
export function loadTrust(opts: LoadTrustOptions): Promise<Trust> {
  const key = JSON.stringify([
    opts.trustedRootPath && path.resolve(opts.trustedRootPath),
    opts.rekorPublicKeyPath && path.resolve(opts.rekorPublicKeyPath),
    opts.tufCacheDir && path.resolve(opts.tufCacheDir),
    opts.tufMirror,
    opts.tufRoot && path.resolve(opts.tufRoot),
    opts.trustedRootDigest,
    opts.timeoutMs,
    opts.caCertPem,
    opts.offline ?? false,
    opts.needCertificateAuthorities ?? false,
    opts.names,
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
