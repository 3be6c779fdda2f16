import { constants, createPrivateKey, createPublicKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { dsse } from '@sigstore/core';
import type { DsseEnvelope } from '../attest/envelope.ts';
import { IN_TOTO_PAYLOAD_TYPE } from '../attest/envelope.ts';
import { GateError } from '../errors.ts';
import { fingerprint } from '../trust/public-keys.ts';
import { hashForKey, verifyWithKey, type KeyHash } from '../trust/signature.ts';

export type SignVsaOptions = {
  /** The DSSE `keyid`; default the hex sha256 of the public key's SPKI DER (what SIGNER reports for a key). */
  readonly keyid?: string;
  /** For an encrypted PKCS#8 PEM. */
  readonly passphrase?: string;
  /** Names the key in messages (a file path); the key itself is never printed. */
  readonly label?: string;
};

type SigningKey = { key: KeyObject; publicKey: KeyObject; hash: KeyHash };

function loadSigningKey(privateKeyPem: string, label: string, passphrase: string | undefined): SigningKey {
  if (/-----BEGIN ENCRYPTED (?:SIGSTORE|COSIGN) PRIVATE KEY-----/.test(privateKeyPem)) {
    throw new GateError(
      'BAD_KEY',
      `${label}: cosign's encrypted key format is not supported for signing the VSA; use an (optionally encrypted) PKCS#8 or SEC1 PEM private key`,
    );
  }
  if (!/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(privateKeyPem)) {
    throw new GateError('BAD_KEY', `${label}: no PEM private key found`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(passphrase === undefined ? { key: privateKeyPem, format: 'pem' } : { key: privateKeyPem, format: 'pem', passphrase });
  } catch {
    // The library's message is not passed on: it never holds key material, but nothing here needs it either.
    throw new GateError('BAD_KEY', `${label}: the private key does not parse (corrupt, or encrypted without the right passphrase)`);
  }
  // The hash the curve calls for (trust/signature.ts), the one every verifier here uses.
  const hash = hashForKey(key);
  if (hash === undefined) {
    throw new GateError('BAD_KEY', `${label}: unsupported key type for signing the VSA (supported: ECDSA P-256/P-384/P-521, RSA, Ed25519)`);
  }
  return { key, publicKey: createPublicKey(key), hash };
}

/**
 * Reads a PEM private key file for `signVsa` and checks it can sign (before any work is done); an unreadable or
 * unusable key -> BAD_KEY naming the file (never its content).
 */
export function readSigningKeyFile(file: string): string {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new GateError('BAD_KEY', `VSA signing key ${file} cannot be read${code ? ` (${code})` : ''}`);
  }
  loadSigningKey(pem, `VSA signing key ${file}`, undefined);
  return pem;
}

/**
 * Signs a statement as a DSSE envelope (payloadType `application/vnd.in-toto+json`): the signature is over
 * the DSSE pre-authentication encoding of the JSON payload. A bad, unsupported or unreadable key -> BAD_KEY.
 */
export function signVsa(statement: object, privateKeyPem: string, opts: SignVsaOptions = {}): DsseEnvelope {
  const label = opts.label ?? 'VSA signing key';
  const { key, publicKey, hash } = loadSigningKey(privateKeyPem, label, opts.passphrase);
  const payload = Buffer.from(JSON.stringify(statement), 'utf8');
  const pae = dsse.preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, payload);
  const sig = key.asymmetricKeyType === 'rsa' ? sign(hash, pae, { key, padding: constants.RSA_PKCS1_PADDING }) : sign(hash, pae, key);
  if (!verifyWithKey(pae, publicKey, sig)) {
    throw new GateError('INTERNAL', `${label}: the VSA signature does not verify with the key's own public key`);
  }
  return {
    payloadType: IN_TOTO_PAYLOAD_TYPE,
    payload: payload.toString('base64'),
    signatures: [{ keyid: opts.keyid ?? fingerprint(publicKey), sig: sig.toString('base64') }],
  };
}

/**
 * Writes a VSA statement or its DSSE envelope as JSON, whole or not at all: a temporary file in the same
 * directory, then a rename over the target. A failure -> GateError USAGE naming the file.
 */
export function writeVsa(file: string, statementOrEnvelope: object): void {
  const text = `${JSON.stringify(statementOrEnvelope, null, 2)}\n`;
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    writeFileSync(tmp, text, { flag: 'wx', mode: 0o644 });
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    const code = (err as NodeJS.ErrnoException).code;
    throw new GateError('USAGE', `the VSA cannot be written to ${file}${code ? ` (${code})` : ''}`);
  }
}
