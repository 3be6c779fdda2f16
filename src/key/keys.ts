import { createPublicKey, type KeyObject } from 'node:crypto';
import { pem as sigpem } from '@sigstore/core';
import { GateError } from '../errors.ts';
import { fingerprint, pemBlocks } from '../trust/public-keys.ts';

/** A key or certificate as logged in an entry body. */
export type LoggedSigner =
  | { readonly kind: 'key'; readonly key: KeyObject; readonly fingerprint: string }
  | { readonly kind: 'certificate'; readonly pem: string; readonly der: Buffer };

/**
 * Signers already parsed (PEM text -> signer): the entries of one signer share one key and fingerprint. Bounded:
 * at most this many, each of a text at most this long (a peer's text).
 */
const parsed = new Map<string, LoggedSigner>();
const MAX_PARSED_SIGNERS = 1024;
const MAX_REMEMBERED_PEM = 8192;

/** A logged verifier (PEM key or certificate), parsed once per distinct text; only what parses is remembered. */
export function parseLoggedSigner(pemText: string, where: string): LoggedSigner {
  const known = parsed.get(pemText);
  if (known) return known;
  const signer = parseSigner(pemText, where);
  if (parsed.size < MAX_PARSED_SIGNERS && pemText.length <= MAX_REMEMBERED_PEM) parsed.set(pemText, signer);
  return signer;
}

function parseSigner(pemText: string, where: string): LoggedSigner {
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
