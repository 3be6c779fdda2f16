import type { InclusionProof, TransparencyLogEntry } from '@sigstore/bundle';
import type { DecodedEntry } from './entry.ts';
import type { InclusionProofJSON } from './types.ts';

/**
 * A Rekor API inclusion proof in the @sigstore/bundle shape. `logIndex` is the proof's own (shard-local)
 * index, not the entry's global one. Needs the checkpoint: @sigstore/verify reads it unconditionally.
 */
export function toInclusionProof(p: InclusionProofJSON & { checkpoint: string }): InclusionProof {
  return {
    logIndex: String(p.logIndex),
    rootHash: Buffer.from(p.rootHash, 'hex'),
    treeSize: String(p.treeSize),
    hashes: p.hashes.map((h) => Buffer.from(h, 'hex')),
    checkpoint: { envelope: p.checkpoint },
  };
}

/**
 * A decoded Rekor v1 entry as the `TransparencyLogEntry` that @sigstore/verify checks.
 * An inclusion proof without a checkpoint (served by Rekor before 2022) is left out: nothing signed
 * by the log authenticates its root, and @sigstore/verify cannot take it (see log-verify.ts for its use).
 */
export function toTransparencyLogEntry(e: DecodedEntry): TransparencyLogEntry {
  const p = e.inclusionProof;
  return {
    logIndex: String(e.logIndex),
    logId: { keyId: Buffer.from(e.logID, 'hex') },
    kindVersion: { kind: e.kind, version: e.apiVersion },
    integratedTime: String(e.integratedTime),
    inclusionPromise: e.signedEntryTimestamp ? { signedEntryTimestamp: e.signedEntryTimestamp } : undefined,
    inclusionProof: p?.checkpoint !== undefined ? toInclusionProof({ ...p, checkpoint: p.checkpoint }) : undefined,
    canonicalizedBody: e.body,
  };
}
