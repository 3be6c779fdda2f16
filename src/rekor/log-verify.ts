import type { TLogEntryWithInclusionPromise, TLogEntryWithInclusionProof } from '@sigstore/bundle';
import { crypto as sigcrypto } from '@sigstore/core';
import { LogCheckpoint, verifyCheckpoint } from '@sigstore/verify/dist/tlog/checkpoint.js';
import { verifyMerkleInclusion } from '@sigstore/verify/dist/tlog/merkle.js';
import { verifyTLogSET } from '@sigstore/verify/dist/tlog/set.js';
import { filterTLogAuthorities, type TLogAuthority } from '@sigstore/verify/dist/trust/index.js';
import { errorMessage, GateError, type ErrorCode } from '../errors.ts';
import { validityRange, type Trust } from '../trust/index.ts';
import { entryLabel, type DecodedEntry } from './entry.ts';
import { toInclusionProof, toTransparencyLogEntry } from './tlog-entry.ts';

/** What the log vouches for an entry with, once verified. */
export type LogVerification = {
  readonly uuid: string;
  readonly logIndex: number;
  readonly integratedTime: Date;
  /** hex log ID; the SET and the checkpoint were both verified with this log's key. */
  readonly logID: string;
  /** The trusted log's base URL as the trust material names it ('' for a key-only private log). */
  readonly logBaseURL: string;
  /** Which signed evidence the entry carried. */
  readonly evidence: 'set+proof' | 'set-only' | 'proof-only';
  /** The signed entry timestamp verified. */
  readonly set: boolean;
  /**
   * `verified`: Merkle proof to a checkpoint signed by the log. `unsigned-root`: the proof recomputes its root,
   * but no checkpoint signs that root (old Rekor responses), so only the SET vouches for the entry. `absent`: no proof.
   */
  readonly inclusionProof: 'verified' | 'unsigned-root' | 'absent';
  readonly checkpoint?: { readonly origin: string; readonly treeSize: string; readonly rootHash: string };
};

function fail(code: ErrorCode, message: string, cause?: unknown): never {
  throw new GateError(code, message, cause === undefined ? undefined : { cause });
}

const SIGNATURE_LINE = /^\u2014 (\S+) \S+$/gm;

/**
 * @sigstore/verify only accepts a checkpoint signature whose signer name occurs in the log's base URL.
 * A key-only private log (`--rekor-public-key`) has no URL in the trust material, and rekor-gate never takes
 * the one it queries (a mirror or proxy may serve the log): such a log is named after the checkpoint's own
 * signer names, so that only the key hint and the signature select and authenticate the key.
 */
function namedForCheckpoint(logs: TLogAuthority[], envelope: string): TLogAuthority[] {
  const signatures = envelope.slice(envelope.indexOf('\n\n') + 2);
  const names = [...signatures.matchAll(SIGNATURE_LINE)].map((m) => m[1]).join('\n');
  return logs.map((log) => (log.baseURL === '' ? { ...log, baseURL: names } : log));
}

/** Checkpoints already verified, per trust material: the entries of one response share one. Bounded. */
const verifiedCheckpoints = new WeakMap<Trust, Map<string, LogCheckpoint>>();
const MAX_VERIFIED_CHECKPOINTS = 1024;
const MAX_REMEMBERED_CHECKPOINT = 8192;

/**
 * The checkpoint's signature verified by @sigstore/verify with one of `valid` (keys of the entry's log ID valid at
 * its integrated time), once per distinct checkpoint text and set of keys: the verification is a function of
 * those two alone. Only a verified checkpoint is remembered.
 */
function verifiedCheckpoint(entry: TLogEntryWithInclusionProof, valid: TLogAuthority[], trust: Trust): LogCheckpoint {
  const envelope = entry.inclusionProof.checkpoint.envelope;
  const keys = valid.map((log) => trust.material.tlogs.indexOf(log)).join(',');
  const key = sigcrypto.digest('sha256', Buffer.from(`${keys}\n${envelope}`)).toString('hex');
  let cache = verifiedCheckpoints.get(trust);
  if (!cache) verifiedCheckpoints.set(trust, (cache = new Map()));
  const known = cache.get(key);
  if (known) return known;
  const cp = verifyCheckpoint(entry, namedForCheckpoint(valid, envelope));
  if (cache.size < MAX_VERIFIED_CHECKPOINTS && envelope.length <= MAX_REMEMBERED_CHECKPOINT) cache.set(key, cp);
  return cp;
}

/**
 * Checks that a decoded entry is in a trusted log: the signed entry timestamp (SET), the Merkle inclusion proof
 * and its signed checkpoint, each by @sigstore/verify (the steps of its `verifyTLogInclusion`, called one by one
 * so that each failure keeps its own code). Added here, because the library does not check them:
 * - the log is trusted at all (TLOG_UNTRUSTED_LOG), and its key is valid at the integrated time for the
 *   checkpoint too (the library checks validity for the SET only) (TLOG_KEY_VALIDITY);
 * - the checkpoint's size and root are the proof's, and an 80-hex UUID's tree ID is the checkpoint origin's
 *   (TLOG_INCONSISTENT); the library proves inclusion against the checkpoint and ignores the proof's own root.
 * The log key is chosen by log ID (and key hint within the checkpoint), never by URL.
 */
export function verifyInLog(e: DecodedEntry, trust: Trust): LogVerification {
  const label = entryLabel(e);
  const logID = Buffer.from(e.logID, 'hex');
  const logs = trust.material.tlogs.filter((log) => log.logID.equals(logID));
  if (logs.length === 0) {
    fail('TLOG_UNTRUSTED_LOG', `${label}: log ID ${e.logID} is not a transparency log of ${trust.source}`);
  }
  const integratedTime = new Date(e.integratedTime * 1000);
  const valid = filterTLogAuthorities(logs, { targetDate: integratedTime });
  const log = valid[0];
  if (!log) {
    fail(
      'TLOG_KEY_VALIDITY',
      `${label}: key validity check failed: the key of log ${e.logID} is trusted ${logs.map(validityRange).join(', ')} (${trust.source}), ` +
        `not at the integrated time ${integratedTime.toISOString()}`,
    );
  }

  const tle = toTransparencyLogEntry(e);
  const proof = e.inclusionProof;
  if (!tle.inclusionPromise && !proof) {
    fail('TLOG_INCLUSION_PROOF', `${label}: carries neither a signed entry timestamp nor an inclusion proof`);
  }

  // SET: ECDSA/Ed25519 over the canonical {body, integratedTime, logID, logIndex}, with the key of this log ID.
  if (tle.inclusionPromise) {
    try {
      verifyTLogSET(tle as TLogEntryWithInclusionPromise, valid);
    } catch (err) {
      fail('TLOG_SET', `${label}: signed entry timestamp check failed: ${errorMessage(err)} (log ${e.logID}, ${trust.source})`, err);
    }
  }
  const set = tle.inclusionPromise !== undefined;

  let inclusionProof: LogVerification['inclusionProof'] = 'absent';
  let checkpoint: LogVerification['checkpoint'];
  if (tle.inclusionProof && proof) {
    const entry = tle as TLogEntryWithInclusionProof;
    let cp: LogCheckpoint;
    try {
      // Only keys of this entry's log ID (the one the SET was checked with) that are valid at the integrated time.
      cp = verifiedCheckpoint(entry, valid, trust);
    } catch (err) {
      fail('TLOG_CHECKPOINT', `${label}: checkpoint check failed: ${errorMessage(err)} (log ${e.logID}, ${trust.source})`, err);
    }
    const rootHash = cp.logHash.toString('hex');
    if (cp.logSize !== BigInt(proof.treeSize) || rootHash !== proof.rootHash.toLowerCase()) {
      fail(
        'TLOG_INCONSISTENT',
        `${label}: the signed checkpoint (size ${cp.logSize}, root ${rootHash}) is not the inclusion proof's tree (size ${proof.treeSize}, root ${proof.rootHash})`,
      );
    }
    const originTree = / - (\d+)$/.exec(cp.origin)?.[1];
    if (e.treeID && originTree && BigInt(originTree) !== BigInt(`0x${e.treeID}`)) {
      fail(
        'TLOG_INCONSISTENT',
        `${label}: the UUID's tree ID ${e.treeID} (${BigInt(`0x${e.treeID}`)}) is not the checkpoint origin's tree "${cp.origin}"`,
      );
    }
    try {
      verifyMerkleInclusion(entry, cp);
    } catch (err) {
      fail('TLOG_INCLUSION_PROOF', `${label}: inclusion proof check failed: ${errorMessage(err)} (shard index ${proof.logIndex}, tree size ${proof.treeSize})`, err);
    }
    inclusionProof = 'verified';
    checkpoint = { origin: cp.origin, treeSize: cp.logSize.toString(), rootHash };
  } else if (proof) {
    // A proof without checkpoint: its root is signed by nothing, so it only counts next to a SET.
    if (!set) {
      fail('TLOG_CHECKPOINT', `${label}: its inclusion proof has no checkpoint and it has no SET: nothing signed by the log vouches for it`);
    }
    const unsignedRoot = new LogCheckpoint('', BigInt(proof.treeSize), Buffer.from(proof.rootHash, 'hex'), []);
    try {
      verifyMerkleInclusion({ ...tle, inclusionProof: toInclusionProof({ ...proof, checkpoint: '' }) }, unsignedRoot);
    } catch (err) {
      fail('TLOG_INCLUSION_PROOF', `${label}: inclusion proof check failed: ${errorMessage(err)} (shard index ${proof.logIndex}, tree size ${proof.treeSize})`, err);
    }
    inclusionProof = 'unsigned-root';
  }

  return {
    uuid: e.uuid,
    logIndex: e.logIndex,
    integratedTime,
    logID: e.logID,
    logBaseURL: log.baseURL,
    evidence: set && inclusionProof === 'verified' ? 'set+proof' : set ? 'set-only' : 'proof-only',
    set,
    inclusionProof,
    ...(checkpoint ? { checkpoint } : {}),
  };
}
