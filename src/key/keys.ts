import { createPublicKey, type KeyObject } from 'node:crypto';
import { crypto as sigcrypto, pem as sigpem } from '@sigstore/core';
import { GateError } from '../errors.ts';
import type { TrustedKey } from '../policy/policy.ts';

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/** Splits text holding one or more PEM blocks. */
export function pemBlocks(text: string): { label: string; pem: string }[] {
  return [...text.matchAll(PEM_BLOCK)].map((m) => ({ label: m[1] as string, pem: m[0] }));
}

function keyKind(key: KeyObject): string | undefined {
  const type = key.asymmetricKeyType;
  if (type === 'rsa' || type === 'ed25519') return type;
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1' || curve === 'secp384r1') return `ecdsa-${curve}`;
  }
  return undefined;
}

/** hex sha256 of the SPKI DER of a key: stable across PEM formatting. */
export function fingerprint(key: KeyObject): string {
  const der = key.export({ type: 'spki', format: 'der' });
  return sigcrypto.digest('sha256', der).toString('hex');
}

/** Parses PEM public keys (ECDSA P-256/P-384, RSA, Ed25519). Anything else is a usage error. */
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
    if (!keyKind(key)) {
      throw new GateError('BAD_KEY', `${where}: unsupported key type (supported: ECDSA P-256/P-384, RSA, Ed25519)`);
    }
    return { fingerprint: fingerprint(key), key, label: where };
  });
}

/** A key or certificate as logged in an entry body. */
export type LoggedSigner =
  | { readonly kind: 'key'; readonly key: KeyObject; readonly fingerprint: string }
  | { readonly kind: 'certificate'; readonly pem: string; readonly der: Buffer };

export function parseLoggedSigner(pemText: string, where: string): LoggedSigner {
  const block = pemBlocks(pemText)[0];
  if (!block) throw new GateError('ENTRY_MALFORMED', `${where}: the logged verifier is not PEM`);
  if (block.label === 'CERTIFICATE') {
    return { kind: 'certificate', pem: block.pem, der: sigpem.toDER(block.pem) };
  }
  try {
    const key = createPublicKey(block.pem);
    return { kind: 'key', key, fingerprint: fingerprint(key) };
  } catch {
    throw new GateError('ENTRY_MALFORMED', `${where}: the logged public key does not parse`);
  }
}
