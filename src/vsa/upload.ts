import { createPublicKey } from 'node:crypto';
import { crypto as sigcrypto } from '@sigstore/core';
import type { DsseEnvelope } from '../attest/envelope.ts';
import { GateError } from '../errors.ts';
import type { RekorClient } from '../rekor/client.ts';
import { decodeEntry } from '../rekor/entry.ts';
import { verifyInLog } from '../rekor/log-verify.ts';
import type { Trust } from '../trust/index.ts';

export type LoggedVsa = { readonly uuid: string; readonly logIndex: number; readonly url: string };

/**
 * Logs a signed VSA in the Rekor instance as a dsse 0.0.1 entry, then checks what the log answered as any entry
 * is checked: its ID is its body's leaf hash, its SET/proof verify against the trusted log key, and its body
 * records this envelope (its envelope hash).
 */
export async function uploadVsa(rekor: RekorClient, trust: Trust, envelope: DsseEnvelope, privateKeyPem: string): Promise<LoggedVsa> {
  const text = JSON.stringify(envelope);
  let publicPem: string;
  try {
    publicPem = createPublicKey(privateKeyPem).export({ type: 'spki', format: 'pem' }).toString();
  } catch {
    throw new GateError('BAD_KEY', '--vsa-key: no public key can be derived from it');
  }
  const r = await rekor.createDsseEntry(text, [publicPem]);
  const entry = decodeEntry(r.uuid, r.entry);
  verifyInLog(entry, trust);
  const spec = entry.spec as { envelopeHash?: { value?: string } };
  if (entry.kind !== 'dsse' || spec.envelopeHash?.value !== sigcrypto.digest('sha256', Buffer.from(text)).toString('hex')) {
    throw new GateError('TLOG_INCONSISTENT', `the log answered the VSA upload with entry ${r.uuid}, which does not record this envelope`);
  }
  return { uuid: entry.uuid, logIndex: entry.logIndex, url: rekor.entryUrl(entry.uuid) };
}
