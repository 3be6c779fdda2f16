import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { json } from '@sigstore/core';
import type { TLogEntryWithInclusionProof } from '@sigstore/bundle';
import { verifyTLogInclusion } from '@sigstore/verify/dist/tlog/index.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeEntry } from '../../src/rekor/entry.ts';
import { verifyInLog } from '../../src/rekor/log-verify.ts';
import { toTransparencyLogEntry } from '../../src/rekor/tlog-entry.ts';
import type { LogEntryAnon } from '../../src/rekor/types.ts';
import { trustFromRekorPublicKey, trustFromTrustedRoot, type Trust } from '../../src/trust/index.ts';
import type { LogEntryResponse } from '../../src/rekor/types.ts';
import { gateError } from '../fixtures/errors.ts';
import { dsseV001Entry, startTestLog, type TestLog } from '../fixtures/rekor-log/index.ts';
import { generateSigner, signDsse } from '../fixtures/signers.ts';
import { imageSubject, slsaV1Statement } from '../fixtures/statements.ts';
import { buildTrustedRoot, type TrustedRootJSON } from '../fixtures/trusted-root.ts';

// A dsse 0.0.1 entry of the test log (a shard after 1000 entries of earlier ones, so its global logIndex is
// not the proof's) with SET, inclusion proof and signed checkpoint; the real production entries get the same
// checks in test/corpus/entries.test.ts when the recorded data is there.
const INTEGRATED = Date.parse('2025-02-28T19:18:11Z') / 1000;
let log: TestLog;
let logged: { uuid: string; raw: LogEntryAnon };
let prod: Trust;
/** The trusted root of the test log, as JSON (a fresh copy). */
let rootJSON: () => TrustedRootJSON;

beforeAll(async () => {
  log = await startTestLog({ origin: 'rekor.test.internal' });
  const signer = generateSigner();
  const env = signDsse(signer, slsaV1Statement({ subjects: [imageSubject('r.test/a', `sha256:${'5b'.repeat(32)}`)], builderId: 'https://b.test' }));
  for (let i = 0; i < 6; i++) log.add(dsseV001Entry({ envelope: signDsse(signer, { n: i }), verifiers: [signer.publicKeyPem] }));
  const { uuid } = log.add(dsseV001Entry({ envelope: env, verifiers: [signer.publicKeyPem] }), { integratedTime: INTEGRATED });
  for (let i = 0; i < 20; i++) log.add(dsseV001Entry({ envelope: signDsse(signer, { after: i }), verifiers: [signer.publicKeyPem] }));
  logged = { uuid, raw: Object.values(log.logEntry(uuid) as LogEntryResponse)[0] as LogEntryAnon };
  const root = buildTrustedRoot({ logs: { origin: log.origin, publicKeyPem: log.publicKeyPem } });
  rootJSON = () => structuredClone(root);
  prod = trustFromTrustedRoot(root, 'test log root');
  await log.close();
});

type Proof = NonNullable<NonNullable<LogEntryAnon['verification']>['inclusionProof']>;
type Mutable = { uuid: string; raw: LogEntryAnon & { verification: { inclusionProof: Proof; signedEntryTimestamp?: string } } };

function base(): Mutable {
  return structuredClone(logged) as Mutable;
}

function check(m: { uuid: string; raw: LogEntryAnon }, trust: Trust = prod) {
  return verifyInLog(decodeEntry(m.uuid, m.raw), trust);
}

function newLogKey(): { privateKey: KeyObject; publicKey: KeyObject; pem: string; logID: Buffer } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return { privateKey, publicKey, pem: publicKey.export({ type: 'spki', format: 'pem' }) as string, logID: createHash('sha256').update(der).digest() };
}

/** Rekor's SET: ECDSA over the canonical JSON of {body, integratedTime, logID, logIndex}. */
function signSET(raw: LogEntryAnon, key: KeyObject): string {
  const payload = json.canonicalize({ body: raw.body, integratedTime: raw.integratedTime, logID: raw.logID, logIndex: raw.logIndex });
  return sign('sha256', Buffer.from(payload), key).toString('base64');
}

/** A signed note: the checkpoint body, a blank line, and "— <name> base64(keyHint(4) || signature)". */
function signNote(note: string, name: string, key: KeyObject, logID: Buffer): string {
  const sig = sign('sha256', Buffer.from(note), key);
  return `${note}\n\u2014 ${name} ${Buffer.concat([logID.subarray(0, 4), sig]).toString('base64')}\n`;
}

const noteOf = (checkpoint: string): string => checkpoint.slice(0, checkpoint.indexOf('\n\n') + 1);

describe('verifyInLog: what passes', () => {
  it('an entry with SET, proof and checkpoint', () => {
    const r = check(base());
    expect(r).toMatchObject({
      evidence: 'set+proof',
      set: true,
      inclusionProof: 'verified',
      logBaseURL: 'https://rekor.test.internal',
      checkpoint: { origin: log.checkpointOrigin, treeSize: '27' },
    });
    expect(base().raw.logIndex).not.toBe(base().raw.verification.inclusionProof.logIndex);
    expect(r.integratedTime.toISOString()).toBe('2025-02-28T19:18:11.000Z');
  });

  it('reports a SET-only entry as such', () => {
    const m = base();
    delete (m.raw.verification as { inclusionProof?: Proof }).inclusionProof;
    expect(check(m)).toMatchObject({ evidence: 'set-only', set: true, inclusionProof: 'absent' });
  });

  it('reports a proof-only entry as such', () => {
    const m = base();
    delete m.raw.verification.signedEntryTimestamp;
    expect(check(m)).toMatchObject({ evidence: 'proof-only', set: false, inclusionProof: 'verified' });
  });

  it('a proof without checkpoint next to a SET: set-only, the proof checked against its unsigned root', () => {
    const m = base();
    delete m.raw.verification.inclusionProof.checkpoint;
    expect(check(m)).toMatchObject({ evidence: 'set-only', inclusionProof: 'unsigned-root' });
  });

  it('a private log known by its key alone: log ID = sha256(SPKI); any checkpoint signer name', () => {
    const log = newLogKey();
    const m = base();
    m.raw.logID = log.logID.toString('hex');
    m.raw.verification.signedEntryTimestamp = signSET(m.raw, log.privateKey);
    const proof = m.raw.verification.inclusionProof;
    proof.checkpoint = signNote(noteOf(proof.checkpoint as string), 'some.private.log', log.privateKey, log.logID);
    const trust = trustFromRekorPublicKey(log.pem, undefined, 'test key');
    expect(check(m, trust)).toMatchObject({ evidence: 'set+proof', logID: log.logID.toString('hex'), logBaseURL: '' });
  });
});

describe('verifyInLog: each rejection rule', () => {
  it('flipped proof hash: TLOG_INCLUSION_PROOF', () => {
    const m = base();
    const h = m.raw.verification.inclusionProof.hashes;
    h[3] = (h[3] as string).replace(/^./, (c) => (c === '0' ? '1' : '0'));
    const err = gateError(() => check(m));
    expect(err.code).toBe('TLOG_INCLUSION_PROOF');
    expect(err.message).toContain(m.uuid);
    expect(err.message).toMatch(/inclusion proof check failed/);
  });

  it('a proof for the wrong shard index (the global one): TLOG_INCLUSION_PROOF', () => {
    const m = base();
    m.raw.verification.inclusionProof.logIndex = m.raw.logIndex;
    expect(gateError(() => check(m)).code).toBe('TLOG_INCLUSION_PROOF');
  });

  it('SET signed by another key: TLOG_SET', () => {
    const m = base();
    m.raw.verification.signedEntryTimestamp = signSET(m.raw, newLogKey().privateKey);
    const err = gateError(() => check(m));
    expect(err.code).toBe('TLOG_SET');
    expect(err.message).toMatch(/signed entry timestamp check failed/);
  });

  it('SET over another integrated time: TLOG_SET', () => {
    const m = base();
    m.raw.integratedTime += 1;
    expect(gateError(() => check(m)).code).toBe('TLOG_SET');
  });

  it('checkpoint signed by another key (same key hint): TLOG_CHECKPOINT', () => {
    const m = base();
    const proof = m.raw.verification.inclusionProof;
    proof.checkpoint = signNote(noteOf(proof.checkpoint as string), log.origin, newLogKey().privateKey, Buffer.from(m.raw.logID, 'hex'));
    expect(gateError(() => check(m))).toMatchObject({ code: 'TLOG_CHECKPOINT', message: expect.stringMatching(/checkpoint check failed/) });
  });

  it("checkpoint signed by another trusted log's key: TLOG_CHECKPOINT (the SET's log must sign it)", () => {
    const other = newLogKey();
    const both: Trust = { ...prod, material: { ...prod.material, tlogs: [...prod.material.tlogs, ...trustFromRekorPublicKey(other.pem).material.tlogs] } };
    const m = base();
    const proof = m.raw.verification.inclusionProof;
    proof.checkpoint = signNote(noteOf(proof.checkpoint as string), log.origin, other.privateKey, other.logID);
    expect(check(base(), both).evidence).toBe('set+proof');
    expect(gateError(() => check(m, both)).code).toBe('TLOG_CHECKPOINT');
  });

  it('checkpoint with a changed root: TLOG_CHECKPOINT (its signature breaks)', () => {
    const m = base();
    const proof = m.raw.verification.inclusionProof;
    const lines = (proof.checkpoint as string).split('\n');
    lines[2] = Buffer.alloc(32, 7).toString('base64');
    proof.checkpoint = lines.join('\n');
    expect(gateError(() => check(m)).code).toBe('TLOG_CHECKPOINT');
  });

  it("a validly signed checkpoint of another tree than the proof's: TLOG_INCONSISTENT", () => {
    const log = newLogKey();
    const m = base();
    m.raw.logID = log.logID.toString('hex');
    m.raw.verification.signedEntryTimestamp = signSET(m.raw, log.privateKey);
    const proof = m.raw.verification.inclusionProof;
    const [origin, size] = noteOf(proof.checkpoint as string).split('\n');
    proof.checkpoint = signNote(`${origin}\n${size}\n${Buffer.alloc(32, 7).toString('base64')}\n`, 'x', log.privateKey, log.logID);
    const err = gateError(() => check(m, trustFromRekorPublicKey(log.pem)));
    expect(err.code).toBe('TLOG_INCONSISTENT');
    expect(err.message).toMatch(/signed checkpoint .* is not the inclusion proof's tree/);
  });

  it("a validly signed checkpoint whose root the proof's hashes do not lead to: TLOG_INCLUSION_PROOF", () => {
    const log = newLogKey();
    const m = base();
    m.raw.logID = log.logID.toString('hex');
    m.raw.verification.signedEntryTimestamp = signSET(m.raw, log.privateKey);
    const proof = m.raw.verification.inclusionProof;
    const root = Buffer.alloc(32, 7);
    proof.rootHash = root.toString('hex');
    const [origin, size] = noteOf(proof.checkpoint as string).split('\n');
    proof.checkpoint = signNote(`${origin}\n${size}\n${root.toString('base64')}\n`, 'x', log.privateKey, log.logID);
    expect(gateError(() => check(m, trustFromRekorPublicKey(log.pem))).code).toBe('TLOG_INCLUSION_PROOF');
  });

  it("proof root or size differing from the signed checkpoint's: TLOG_INCONSISTENT (the library ignores them)", () => {
    const m = base();
    m.raw.verification.inclusionProof.rootHash = 'ab'.repeat(32);
    expect(gateError(() => check(m)).code).toBe('TLOG_INCONSISTENT');
    const n = base();
    n.raw.verification.inclusionProof.treeSize += 1;
    expect(gateError(() => check(n)).code).toBe('TLOG_INCONSISTENT');
  });

  it("UUID tree ID differing from the checkpoint origin's: TLOG_INCONSISTENT", () => {
    const m = base();
    expect(m.uuid.slice(0, 16)).not.toBe('24296fb24b8ad77a');
    m.uuid = `24296fb24b8ad77a${m.uuid.slice(16)}`; // tree 2605736670972794746, another shard
    const err = gateError(() => check(m));
    expect(err.code).toBe('TLOG_INCONSISTENT');
    expect(err.message).toMatch(/tree ID 24296fb24b8ad77a \(2605736670972794746\) is not the checkpoint origin's/);
  });

  it('log key not valid at the integrated time: TLOG_KEY_VALIDITY (SET and proof-only alike)', () => {
    const root = rootJSON() as { tlogs: { publicKey: { validFor: object } }[] };
    (root.tlogs[0] as { publicKey: { validFor: object } }).publicKey.validFor = { start: '2021-01-12T11:53:27Z', end: '2024-01-01T00:00:00Z' };
    const expired = trustFromTrustedRoot(root, 'expired root');
    const err = gateError(() => check(base(), expired));
    expect(err.code).toBe('TLOG_KEY_VALIDITY');
    expect(err.message).toMatch(/trusted 2021-01-12T11:53:27.000Z .. 2024-01-01T00:00:00.000Z .*not at the integrated time 2025-02-28T19:18:11.000Z/);
    const proofOnly = base();
    delete proofOnly.raw.verification.signedEntryTimestamp;
    expect(gateError(() => check(proofOnly, expired)).code).toBe('TLOG_KEY_VALIDITY');

    (root.tlogs[0] as { publicKey: { validFor: object } }).publicKey.validFor = { start: '2025-03-01T00:00:00Z' };
    expect(gateError(() => check(base(), trustFromTrustedRoot(root, 'future root'))).code).toBe('TLOG_KEY_VALIDITY');
  });

  it('(why: @sigstore/verify checks key validity for the SET but not for a checkpoint)', () => {
    const root = rootJSON() as { tlogs: { publicKey: { validFor: object } }[] };
    (root.tlogs[0] as { publicKey: { validFor: object } }).publicKey.validFor = { start: '2021-01-12T11:53:27Z', end: '2024-01-01T00:00:00Z' };
    const expired = trustFromTrustedRoot(root, 'expired root');
    const m = base();
    delete m.raw.verification.signedEntryTimestamp;
    const tle = toTransparencyLogEntry(decodeEntry(m.uuid, m.raw)) as TLogEntryWithInclusionProof;
    expect(() => verifyTLogInclusion(tle, expired.material.tlogs)).not.toThrow();
  });

  it('untrusted log ID: TLOG_UNTRUSTED_LOG naming the log and the trust source', () => {
    const other = trustFromTrustedRoot(buildTrustedRoot({ logs: { origin: 'other.log', publicKeyPem: newLogKey().pem } }), 'the other trusted root');
    const err = gateError(() => check(base(), other));
    expect(err.code).toBe('TLOG_UNTRUSTED_LOG');
    expect(err.message).toContain(base().raw.logID);
    expect(err.message).toContain('the other trusted root');
  });

  it('neither SET nor proof: TLOG_INCLUSION_PROOF', () => {
    const m = base();
    m.raw.verification = {} as Mutable['raw']['verification'];
    expect(gateError(() => check(m))).toMatchObject({ code: 'TLOG_INCLUSION_PROOF', message: expect.stringMatching(/neither/) });
  });

  it('a proof without checkpoint and without SET: TLOG_CHECKPOINT', () => {
    const m = base();
    delete m.raw.verification.inclusionProof.checkpoint;
    delete m.raw.verification.signedEntryTimestamp;
    expect(gateError(() => check(m)).code).toBe('TLOG_CHECKPOINT');
  });

  it('a private log checkpoint whose key hint is not the key: TLOG_CHECKPOINT', () => {
    const log = newLogKey();
    const m = base();
    m.raw.logID = log.logID.toString('hex');
    delete m.raw.verification.signedEntryTimestamp;
    const proof = m.raw.verification.inclusionProof;
    proof.checkpoint = signNote(noteOf(proof.checkpoint as string), 'x', log.privateKey, Buffer.alloc(4));
    expect(gateError(() => check(m, trustFromRekorPublicKey(log.pem))).code).toBe('TLOG_CHECKPOINT');
  });
});
