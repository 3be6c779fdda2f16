import { crypto } from '@sigstore/core';
import { GateError } from '../errors.ts';
import { hasBodySchema, validateBody, validateBodyShape, validateLogEntryAnon } from './schemas.ts';
import type { InclusionProofJSON, LogEntryAnon } from './types.ts';
import { capped } from '../text.ts';

/** A Rekor v1 API entry whose encoding, entry ID and body shape have been checked (not yet its log proofs). */
export type DecodedEntry = {
  /** The entry UUID as the log named it, lower-case: 64 hex (leaf hash) or 80 hex (tree ID + leaf hash). */
  readonly uuid: string;
  /** hex sha256(0x00 || body): the RFC 6962 leaf hash, equal to the UUID's last 64 hex. */
  readonly leafHash: string;
  /** The 16-hex tree (shard) ID prefix of an 80-hex UUID. */
  readonly treeID?: string;
  /** Global log index (across shards). */
  readonly logIndex: number;
  /** Unix seconds. */
  readonly integratedTime: number;
  /** Lower-case hex sha256 of the log's SPKI DER. */
  readonly logID: string;
  /** The canonical body bytes, exactly as logged and hashed. */
  readonly body: Buffer;
  readonly kind: string;
  readonly apiVersion: string;
  /** `body.spec`; validated against Rekor's schema when `supported`. */
  readonly spec: unknown;
  /** Whether rekor-gate has Rekor's schema for this kind/version and so reads its spec (intoto 0.0.1/0.0.2, dsse 0.0.1, hashedrekord 0.0.1). */
  readonly supported: boolean;
  readonly unsupportedReason?: string;
  /** Decoded `attestation.data` (for intoto entries: the DSSE payload, i.e. the in-toto statement). */
  readonly attestation?: Buffer;
  readonly signedEntryTimestamp?: Buffer;
  readonly inclusionProof?: InclusionProofJSON;
  readonly raw: LogEntryAnon;
};

/** The RFC 6962 leaf hash of an entry body, sha256(0x00 || body), as hex: the last 64 hex of its entry ID. */
export function leafHashHex(body: Buffer): string {
  return crypto.digest('sha256', Buffer.from([0x00]), body).toString('hex');
}

const UUID_RE = /^(?:([0-9a-f]{16}))?([0-9a-f]{64})$/;

/** "entry <uuid> (log index N)", for messages. */
export function entryLabel(e: { uuid: string; logIndex: number }): string {
  return `entry ${e.uuid} (log index ${e.logIndex})`;
}

/**
 * Decodes one entry of a Rekor API response and checks what can be checked without trust material:
 * the response shape (ajv), that the UUID is the RFC 6962 leaf hash of the body, and the body against
 * Rekor's schema for its kind. Other kinds decode with `supported: false` (their log proofs can still be checked).
 */
export function decodeEntry(uuid: string, raw: LogEntryAnon): DecodedEntry {
  const id = uuid.toLowerCase();
  const m = UUID_RE.exec(id);
  const where = `entry ${uuid.slice(0, 100)}`;
  if (!m) {
    throw new GateError('ENTRY_MALFORMED', `${where}: the entry UUID is not 64 or 80 hex characters`);
  }
  const shapeError = validateLogEntryAnon(raw);
  if (shapeError) {
    throw new GateError('ENTRY_MALFORMED', `${where}: the log entry is malformed: ${shapeError}`);
  }
  const label = entryLabel({ uuid: id, logIndex: raw.logIndex });
  const body = Buffer.from(raw.body, 'base64');

  // Hand-written: @sigstore/verify never checks an entry ID against its body (bundles carry no UUID),
  // yet the UUID is what the log returned for our search, so it must name exactly this body.
  // RFC 6962 leaf hash: sha256(0x00 || body).
  const leafHash = leafHashHex(body);
  if (leafHash !== m[2]) {
    throw new GateError(
      'ENTRY_UUID_MISMATCH',
      `${label}: UUID check failed: the body's leaf hash sha256(0x00||body) is ${leafHash}, the UUID names ${m[2]}`,
    );
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new GateError('ENTRY_MALFORMED', `${label}: the body is not JSON`);
  }
  const bodyError = validateBodyShape(parsed);
  if (bodyError) {
    throw new GateError('ENTRY_SCHEMA', `${label}: the body is not a Rekor entry: ${bodyError}`);
  }
  const { kind, apiVersion, spec } = parsed as { kind: string; apiVersion: string; spec: unknown };

  const supported = hasBodySchema(kind, apiVersion);
  if (supported) {
    const specError = validateBody(kind, apiVersion, parsed);
    if (specError) {
      throw new GateError('ENTRY_SCHEMA', `${label}: the ${kind} ${apiVersion} body fails Rekor's schema: ${specError}`);
    }
  }

  const v = raw.verification;
  return {
    uuid: id,
    leafHash,
    ...(m[1] ? { treeID: m[1] } : {}),
    logIndex: raw.logIndex,
    integratedTime: raw.integratedTime,
    logID: raw.logID.toLowerCase(),
    body,
    kind,
    apiVersion,
    spec,
    supported,
    ...(supported
      ? {}
      : { unsupportedReason: `kind ${capped(`${kind} ${apiVersion}`)} is not one rekor-gate reads (intoto 0.0.1/0.0.2, dsse 0.0.1, hashedrekord 0.0.1)` }),
    ...(raw.attestation?.data !== undefined ? { attestation: Buffer.from(raw.attestation.data, 'base64') } : {}),
    ...(v?.signedEntryTimestamp ? { signedEntryTimestamp: Buffer.from(v.signedEntryTimestamp, 'base64') } : {}),
    ...(v?.inclusionProof ? { inclusionProof: v.inclusionProof } : {}),
    raw,
  };
}
