// Trusted public keys from PEM text (signer keys and a private log's key): parsed once, known by fingerprint.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { crypto as sigcrypto } from '@sigstore/core';
import { GateError } from '../errors.ts';
import { hashForKey } from './signature.ts';

export type TrustedKey = {
  /** hex sha256 of the key's SPKI DER: what SIGNER reports for a key signer. */
  readonly fingerprint: string;
  readonly key: KeyObject;
  /** Where it came from (a file path, "--public-key #N", or "policy signers[2]"), for messages. */
  readonly label: string;
};

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/** Splits text holding one or more PEM blocks. */
export function pemBlocks(text: string): { label: string; pem: string }[] {
  return [...text.matchAll(PEM_BLOCK)].map((m) => ({ label: m[1] as string, pem: m[0] }));
}


/** hex sha256 of the SPKI DER of a key: stable across PEM formatting. */
export function fingerprint(key: KeyObject): string {
  const der = key.export({ type: 'spki', format: 'der' });
  return sigcrypto.digest('sha256', der).toString('hex');
}

/** Parses PEM public keys (ECDSA P-256/P-384/P-521, RSA, Ed25519). Anything else is a usage error. */
export function parseTrustedKeys(text: string, label: string): TrustedKey[] {
  const blocks = pemBlocks(text);
  if (blocks.length === 0) throw new GateError('BAD_KEY', `${label}: no PEM public key found`);
  return blocks.map((b, i) => {
    const where = blocks.length > 1 ? `${label} (key ${i + 1})` : label;
    if (b.label !== 'PUBLIC KEY' && b.label !== 'RSA PUBLIC KEY' && b.label !== 'EC PUBLIC KEY') {
      throw new GateError(
        'BAD_KEY',
        `${where}: expected a PEM PUBLIC KEY, found ${b.label}${b.label.includes('PRIVATE') ? ' (never pass a private key)' : ''}`,
      );
    }
    let key: KeyObject;
    try {
      key = createPublicKey(b.pem);
    } catch {
      throw new GateError('BAD_KEY', `${where}: not a valid PEM public key`);
    }
    if (hashForKey(key) === undefined) {
      throw new GateError('BAD_KEY', `${where}: unsupported key type (supported: ECDSA P-256/P-384/P-521, RSA, Ed25519)`);
    }
    return { fingerprint: fingerprint(key), key, label: where };
  });
}
