import { createPublicKey, type KeyObject } from 'node:crypto';
import { pem as sigpem } from '@sigstore/core';
import { GateError } from '../errors.ts';
import { fingerprint, pemBlocks } from '../trust/public-keys.ts';

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
