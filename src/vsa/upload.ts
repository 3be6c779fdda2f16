import { createPublicKey } from 'node:crypto';
import { crypto as sigcrypto } from '@sigstore/core';
import type { DsseEnvelope } from '../attest/envelope.ts';
import { GateError } from '../errors.ts';
import { parseImageDigest } from '../digest.ts';
import type { RekorClient, RetrievedEntry } from '../rekor/client.ts';
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
    throw new GateError('BAD_KEY', 'the VSA signing key: no public key can be derived from it');
  }
  const envelopeHash = sigcrypto.digest('sha256', Buffer.from(text)).toString('hex');
  const records = (r: RetrievedEntry): boolean => {
    const e = decodeEntry(r.uuid, r.entry);
    return e.kind === 'dsse' && (e.spec as { envelopeHash?: { value?: string } }).envelopeHash?.value === envelopeHash;
  };
  let logged: RetrievedEntry | undefined;
  try {
    logged = await rekor.createDsseEntry(text, [publicPem]);
  } catch (err) {
    // 409: already logged (a retried POST whose first answer was lost): find it by its envelope hash.
    if (!(err instanceof GateError && err.status === 409)) throw err;
    const uuids = await rekor.searchByDigest(parseImageDigest(`sha256:${envelopeHash}`));
    logged = (await rekor.retrieveByUUIDs(uuids)).find(records);
    if (!logged) throw new GateError('TLOG_INCONSISTENT', `the log says the VSA is already logged (409), but no entry found under its envelope hash records it`);
  }
  if (!records(logged)) {
    throw new GateError('TLOG_INCONSISTENT', `the log answered the VSA upload with entry ${logged.uuid}, which does not record this envelope`);
  }
  const entry = decodeEntry(logged.uuid, logged.entry);
  verifyInLog(entry, trust);
  return { uuid: entry.uuid, logIndex: entry.logIndex, url: rekor.entryUrl(entry.uuid) };
}
