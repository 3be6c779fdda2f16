/**
 * Property-based tests over whole candidates (issue 15, point 8): a passing entry of the test log with any one
 * signed byte changed (body, SET, integrated time, log index, log ID, inclusion proof, checkpoint, the payload
 * the log holds, the registry's envelope) never passes; a failing one with any byte changed never starts to
 * pass; and whatever the change, the outcome is a verdict with a stable code, never INTERNAL.
 */
import { fc, it } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { parseImageDigest } from '../../src/digest.ts';
import { parseTrustedKeys } from '../../src/trust/public-keys.ts';
import type { Policy } from '../../src/policy/policy.ts';
import type { LogEntryAnon } from '../../src/rekor/types.ts';
import type { Trust } from '../../src/trust/index.ts';
import { checkCandidate, type CheckContext } from '../../src/verify/check-candidate.ts';
import type { EntryCandidate as Candidate } from '../../src/verify/candidate.ts';
import { logDsseV001, logIntotoV001, provenance, randomDigest, startWorld, type World } from '../fixtures/world.ts';
import { worldTrust } from '../verify/pipeline.ts';
import { RUNS, byteChange, mutateByte } from './fuzz.ts';

let w: World;
let trust: Trust;
let policy: Policy;
let intoto: { c: Candidate; ctx: CheckContext };
let dsse: { c: Candidate; ctx: CheckContext };

beforeAll(async () => {
  w = await startWorld();
  // two entries, so that inclusion proofs have hashes to change
  logIntotoV001(w, provenance(randomDigest().value));
  trust = worldTrust(w);
  policy = { keys: parseTrustedKeys(w.signer.publicKeyPem, 'key'), keyless: [], predicateTypes: [] };
  const ctxFor = (digest: string): CheckContext => ({ digest: parseImageDigest(digest), trust, policy, now: Math.floor(Date.now() / 1000) });
  const entryOf = (uuid: string): LogEntryAnon => w.log.logEntry(uuid)?.[uuid] as LogEntryAnon;
  const d1 = randomDigest();
  const a = logIntotoV001(w, provenance(d1.value));
  intoto = { c: { kind: 'entry', uuid: a.uuid, entry: entryOf(a.uuid), sources: ['rekor-search'] }, ctx: ctxFor(d1.value) };
  const d2 = randomDigest();
  const b = logDsseV001(w, provenance(d2.value));
  dsse = {
    c: { kind: 'entry', uuid: b.uuid, entry: entryOf(b.uuid), sources: ['att-tag'], envelope: { bytes: Buffer.from(b.envelopeText), exact: true, location: 'reg/app@sha256:layer' } },
    ctx: ctxFor(d2.value),
  };
  expect(checkCandidate(intoto.c, intoto.ctx).status).toBe('passed');
  expect(checkCandidate(dsse.c, dsse.ctx).status).toBe('passed');
});
afterAll(async () => {
  await w.close();
});

type Part = 'body' | 'set' | 'integratedTime' | 'logIndex' | 'logID' | 'proofHash' | 'rootHash' | 'proofIndex' | 'treeSize' | 'checkpoint' | 'attestation' | 'uuid';
const PARTS: Part[] = ['body', 'set', 'integratedTime', 'logIndex', 'logID', 'proofHash', 'rootHash', 'proofIndex', 'treeSize', 'checkpoint', 'attestation', 'uuid'];

const b64 = (s: string, at: number, delta: number): string => mutateByte(Buffer.from(s, 'base64'), at, delta).toString('base64');
const hex = (s: string, at: number, delta: number): string => mutateByte(Buffer.from(s, 'hex'), at, delta).toString('hex');

/** The candidate with one byte of `part` changed (for numbers: changed by a non-zero amount). */
function mutated(c: Candidate, part: Part, at: number, delta: number): Candidate {
  const e = structuredClone(c.entry);
  const proof = e.verification?.inclusionProof;
  switch (part) {
    case 'body':
      e.body = b64(e.body, at, delta);
      break;
    case 'set':
      if (e.verification?.signedEntryTimestamp) e.verification.signedEntryTimestamp = b64(e.verification.signedEntryTimestamp, at, delta);
      break;
    case 'integratedTime':
      e.integratedTime += delta + 1;
      break;
    case 'logIndex':
      e.logIndex += delta + 1;
      break;
    case 'logID':
      e.logID = hex(e.logID, at, delta);
      break;
    case 'proofHash':
      if (proof && proof.hashes.length > 0) {
        const i = at % proof.hashes.length;
        proof.hashes[i] = hex(proof.hashes[i] as string, Math.floor(at / proof.hashes.length), delta);
      }
      break;
    case 'rootHash':
      if (proof) proof.rootHash = hex(proof.rootHash, at, delta);
      break;
    case 'proofIndex':
      if (proof) proof.logIndex += delta + 1;
      break;
    case 'treeSize':
      if (proof) proof.treeSize += delta + 1;
      break;
    case 'checkpoint':
      // the signed note's text (before the blank line); its signature lines are base64, changed as bytes
      if (proof?.checkpoint) {
        const [note = '', sigs = ''] = proof.checkpoint.split('\n\n');
        if (at % 2 === 0) proof.checkpoint = `${mutateByte(Buffer.from(note), at >> 1, delta).toString('latin1')}\n\n${sigs}`;
        else {
          proof.checkpoint = `${note}\n\n${sigs.replace(/^(— \S+ )(\S+)$/m, (_m, head: string, sig: string) => `${head}${b64(sig, at >> 1, delta)}`)}`;
        }
      }
      break;
    case 'attestation':
      if (e.attestation?.data) e.attestation.data = b64(e.attestation.data, at, delta);
      break;
    case 'uuid':
      return { ...c, uuid: hex(c.uuid, at, delta), entry: e };
  }
  return { ...c, entry: e };
}

/** Whether the change touched anything (some parts are absent from some entries, e.g. a dsse entry's attestation). */
function changed(a: Candidate, b: Candidate): boolean {
  return a.uuid !== b.uuid || JSON.stringify(a.entry) !== JSON.stringify(b.entry) || !a.envelope?.bytes.equals(b.envelope?.bytes ?? Buffer.alloc(0));
}

function expectStableFailure(c: Candidate, ctx: CheckContext): void {
  const out = checkCandidate(c, ctx);
  expect(out.status, `${out.code}: ${out.reason}`).not.toBe('passed');
  expect(out.code).toMatch(/^[A-Z][A-Z_]+$/);
  expect(out.code).not.toBe('INTERNAL');
}

describe('one changed byte never makes a candidate pass', () => {
  it.prop([fc.constantFrom(...PARTS), byteChange], { numRuns: RUNS * 2 })('a passing intoto 0.0.1 entry with one signed byte changed fails', (part, ch) => {
    const m = mutated(intoto.c, part, ch.at, ch.delta);
    fc.pre(changed(intoto.c, m)); // a change that touched nothing is discarded, not counted as a pass
    expectStableFailure(m, intoto.ctx);
  });

  it.prop([fc.constantFrom(...PARTS, 'envelope' as const), byteChange], { numRuns: RUNS * 2 })(
    'a passing dsse 0.0.1 entry (envelope from the registry) with one byte of the entry or the envelope changed fails',
    (part, ch) => {
      const m = part === 'envelope'
        ? { ...dsse.c, envelope: { ...dsse.c.envelope!, bytes: mutateByte(dsse.c.envelope!.bytes, ch.at, ch.delta) } }
        : mutated(dsse.c, part, ch.at, ch.delta);
      fc.pre(changed(dsse.c, m));
      expectStableFailure(m, dsse.ctx);
    },
  );

  it.prop([fc.constantFrom(...PARTS), byteChange], { numRuns: RUNS })('a failing candidate (another image) with one byte changed still fails', (part, ch) => {
    const other = { ...intoto.ctx, digest: parseImageDigest(randomDigest().value) };
    expectStableFailure(mutated(intoto.c, part, ch.at, ch.delta), other);
  });

  it.prop([fc.jsonValue({ maxDepth: 4 }), fc.constantFrom<keyof LogEntryAnon>('body', 'integratedTime', 'logID', 'logIndex', 'verification', 'attestation')], { numRuns: RUNS })(
    'any JSON in place of one field of a passing entry: a failure with a stable code, or (for a value equal to the original) a pass',
    (value, field) => {
      const e = { ...intoto.c.entry, [field]: value } as unknown as LogEntryAnon;
      const out = checkCandidate({ ...intoto.c, entry: e }, intoto.ctx);
      if (out.status === 'passed') expect(JSON.stringify(value)).toBe(JSON.stringify(intoto.c.entry[field]));
      else expect(out.code).not.toBe('INTERNAL');
    },
  );
});

describe('found by the properties above', () => {
  it('a log index that cannot become text (an object whose toString is not a function) fails the entry check, it does not throw', () => {
    const e = { ...intoto.c.entry, logIndex: { toString: 0 } } as unknown as LogEntryAnon;
    const out = checkCandidate({ ...intoto.c, entry: e }, intoto.ctx);
    expect(out.status).toBe('failed');
    expect(out.code).not.toBe('INTERNAL');
  });
});

describe('the mutations reach the checks they aim at', () => {
  it.each(PARTS)('a change to %s is caught by the check that guards it', (part) => {
    const out = checkCandidate(mutated(intoto.c, part, 5, 7), intoto.ctx);
    const expected: Record<Part, string[]> = {
      body: ['ENTRY_UUID_MISMATCH', 'ENTRY_MALFORMED', 'ENTRY_SCHEMA'],
      uuid: ['ENTRY_UUID_MISMATCH', 'TLOG_INCONSISTENT'],
      set: ['TLOG_SET'],
      integratedTime: ['TLOG_SET'],
      logIndex: ['TLOG_SET', 'TLOG_INCONSISTENT'],
      logID: ['TLOG_UNTRUSTED_LOG'],
      proofHash: ['TLOG_INCLUSION_PROOF'],
      rootHash: ['TLOG_INCLUSION_PROOF', 'TLOG_CHECKPOINT', 'TLOG_INCONSISTENT'],
      proofIndex: ['TLOG_INCLUSION_PROOF', 'TLOG_INCONSISTENT'],
      treeSize: ['TLOG_INCLUSION_PROOF', 'TLOG_CHECKPOINT', 'TLOG_INCONSISTENT'],
      checkpoint: ['TLOG_CHECKPOINT', 'TLOG_INCLUSION_PROOF'],
      attestation: ['ATTESTATION_HASH'],
    };
    expect(expected[part], `${out.code}: ${out.reason}`).toContain(out.code);
  });
});
