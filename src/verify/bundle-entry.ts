import type { Bundle } from '@sigstore/bundle';
import type { LogEntryAnon } from '../rekor/types.ts';

/** Rekor v1 entry kinds whose bodies rekor-gate binds itself; others (Rekor v2) go through @sigstore/verify whole. */
const V1_KINDS = new Set(['dsse 0.0.1', 'intoto 0.0.1', 'intoto 0.0.2']);

export type BundleAsEntry = { readonly entry: LogEntryAnon; readonly envelopeBytes: Buffer };

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

/**
 * A bundle whose transparency log entry is a Rekor v1 attestation entry, as the log's API would serve it
 * (same signed fields, re-encoded), with its DSSE envelope. Undefined for what only @sigstore/verify can
 * judge whole (Rekor v2 entries, message signatures).
 */
export function bundleAsLogEntry(bundle: Bundle): BundleAsEntry | undefined {
  const t = bundle.verificationMaterial.tlogEntries[0];
  if (!t || bundle.content.$case !== 'dsseEnvelope' || !t.kindVersion) return undefined;
  if (!V1_KINDS.has(`${t.kindVersion.kind} ${t.kindVersion.version}`)) return undefined;
  const p = t.inclusionProof;
  const entry: LogEntryAnon = {
    body: b64(t.canonicalizedBody),
    integratedTime: Number(t.integratedTime),
    logID: hex(t.logId.keyId),
    logIndex: Number(t.logIndex),
    verification: {
      ...(t.inclusionPromise ? { signedEntryTimestamp: b64(t.inclusionPromise.signedEntryTimestamp) } : {}),
      ...(p
        ? {
            inclusionProof: {
              logIndex: Number(p.logIndex),
              rootHash: hex(p.rootHash),
              treeSize: Number(p.treeSize),
              hashes: p.hashes.map(hex),
              ...(p.checkpoint?.envelope ? { checkpoint: p.checkpoint.envelope } : {}),
            },
          }
        : {}),
    },
  };
  const env = bundle.content.dsseEnvelope;
  // The envelope as Go clients (cosign, Chains) serialize it for upload: payloadType, payload, signatures[{keyid, sig}].
  const envelopeBytes = Buffer.from(
    JSON.stringify({
      payloadType: env.payloadType,
      payload: b64(env.payload),
      signatures: env.signatures.map((s) => ({ keyid: s.keyid ?? '', sig: b64(s.sig) })),
    }),
  );
  return { entry, envelopeBytes };
}
