/**
 * verify() with fake finders and a fake clock: polling and its progress messages, the deadline, merging
 * candidates found by several sources, and minSigners. Candidates are real entries of the test log, taken
 * straight from it (no HTTP).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseImageDigest } from '../../src/digest.ts';
import { GateError } from '../../src/errors.ts';
import { parseTrustedKeys } from '../../src/trust/public-keys.ts';
import type { Policy } from '../../src/policy/policy.ts';
import type { Trust } from '../../src/trust/index.ts';
import type { Candidate, CandidateSource, EntryCandidate, FailedCandidate } from '../../src/verify/candidate.ts';
import { mergeCandidates } from '../../src/verify/merge.ts';
import { verify, type CandidateFinder } from '../../src/verify/verifier.ts';
import { generateSigner, type TestSigner } from '../fixtures/signers.ts';
import { logDsseV001, logIntotoV001, provenance, randomDigest, startWorld, type World } from '../fixtures/world.ts';
import { worldTrust } from './pipeline.ts';

let w: World;
let trust: Trust;
let keyPolicy: Policy;

beforeAll(async () => {
  w = await startWorld();
  trust = worldTrust(w);
  keyPolicy = policyFor([w.signer]);
});
afterAll(async () => {
  await w.close();
});

function policyFor(signers: TestSigner[], minSigners?: number): Policy {
  return {
    keys: signers.flatMap((s, i) => parseTrustedKeys(s.publicKeyPem, `key #${i + 1}`)),
    keyless: [],
    predicateTypes: [],
    ...(minSigners !== undefined ? { minSigners } : {}),
  };
}

/** A candidate as a finder would return it: the log's entry for `uuid`, taken from the test log directly. */
function candidateOf(uuid: string, sources: CandidateSource[] = ['rekor-search'], extra: Partial<EntryCandidate> = {}): EntryCandidate {
  const served = w.log.logEntry(uuid);
  const entry = served?.[uuid];
  if (!entry) throw new Error(`the test log does not serve ${uuid}`);
  return { kind: 'entry', uuid, entry, sources, ...extra };
}

/** A clock that only moves when the verifier sleeps. */
function fakeClock(start = Date.UTC(2030, 0, 1)) {
  let t = start;
  const sleeps: number[] = [];
  const progress: string[] = [];
  return {
    sleeps,
    progress,
    elapsed: () => t - start,
    deps: (finders: CandidateFinder[]) => ({
      finders,
      entryUrl: (uuid: string) => `${w.log.url}/api/v1/log/entries/${uuid}`,
      progress: (m: string) => void progress.push(m),
      sleep: async (ms: number) => {
        sleeps.push(ms);
        t += ms;
      },
      now: () => t,
    }),
  };
}

function request(digest: string, policy: Policy, waitSeconds: number) {
  return { digest: parseImageDigest(digest), rekorUrl: w.log.url, policy, trust, waitSeconds };
}

describe('verify(): polling', () => {
  it('polls until an entry appears, saying what it waits for', async () => {
    const d = randomDigest();
    const logged = logIntotoV001(w, provenance(d.value));
    let calls = 0;
    const finder: CandidateFinder = async () => (++calls >= 3 ? [candidateOf(logged.uuid)] : []);
    const clock = fakeClock();
    const v = await verify(request(d.value, keyPolicy, 60), clock.deps([finder]));
    expect(v.verified).toBe(true);
    expect(v.accepted?.uuid).toBe(logged.uuid);
    expect(v.accepted?.entryUrl).toBe(`${w.log.url}/api/v1/log/entries/${logged.uuid}`);
    expect(v.polls).toBe(3);
    expect(calls).toBe(3);
    expect(clock.sleeps).toEqual([2000, 3000]);
    expect(clock.progress).toHaveLength(2);
    for (const m of clock.progress) {
      expect(m).toContain(`waiting for an acceptable attestation of ${d.value}`);
      expect(m).toContain('no entry in the log or the registry names this digest');
    }
    expect(clock.progress[0]).toContain('polling again in 2.0s, 60s left');
    expect(clock.progress[1]).toContain('polling again in 3.0s, 58s left');
  });

  it('keeps polling while only failing candidates exist, and the message says which check failed', async () => {
    const d = randomDigest();
    const bad = logIntotoV001(w, provenance(d.value), { signer: generateSigner() });
    const good = logIntotoV001(w, provenance(d.value, { builderId: 'https://builder.example/late' }));
    let calls = 0;
    const finder: CandidateFinder = async () => (++calls >= 2 ? [candidateOf(bad.uuid), candidateOf(good.uuid)] : [candidateOf(bad.uuid)]);
    const clock = fakeClock();
    const v = await verify(request(d.value, keyPolicy, 30), clock.deps([finder]));
    expect(v.verified).toBe(true);
    expect(v.accepted?.uuid).toBe(good.uuid);
    expect(v.polls).toBe(2);
    expect(clock.progress).toHaveLength(1);
    expect(clock.progress[0]).toContain('1 candidate(s), none passed: 1 signer check failed (SIGNER_UNTRUSTED)');
  });

  it('gives up at the deadline with the reason, never sleeping past it', async () => {
    const d = randomDigest();
    const bad = logIntotoV001(w, provenance(d.value), { signer: generateSigner() });
    const clock = fakeClock();
    const v = await verify(request(d.value, keyPolicy, 8), clock.deps([async () => [candidateOf(bad.uuid)]]));
    expect(v.verified).toBe(false);
    expect(v.accepted).toBeUndefined();
    expect(v.reason).toBe('1 candidate(s), none passed: 1 signer check failed (SIGNER_UNTRUSTED)');
    expect(v.candidates.map((c) => [c.uuid, c.check, c.code])).toEqual([[bad.uuid, 'signer', 'SIGNER_UNTRUSTED']]);
    // 2 s, 3 s, then what is left of the 8 s (not the 4.5 s step)
    expect(clock.sleeps).toEqual([2000, 3000, 3000]);
    expect(clock.elapsed()).toBe(8_000);
    expect(v.polls).toBe(4);
    expect(clock.progress.at(-1)).toContain('polling again in 3.0s, 3s left');
  });

  it('with nothing found and no wait, polls once and says nothing names the digest', async () => {
    const d = randomDigest();
    const clock = fakeClock();
    const v = await verify(request(d.value, keyPolicy, 0), clock.deps([async () => []]));
    expect(v).toMatchObject({ verified: false, polls: 1, candidates: [], reason: 'no entry in the log or the registry names this digest' });
    expect(clock.sleeps).toEqual([]);
    expect(clock.progress).toEqual([]);
  });

  it('the poll interval grows by 1.5x up to 10 s', async () => {
    const d = randomDigest();
    const clock = fakeClock();
    await verify(request(d.value, keyPolicy, 60), clock.deps([async () => []]));
    expect(clock.sleeps).toEqual([2000, 3000, 4500, 6750, 10_000, 10_000, 10_000, 10_000, 3750]);
    expect(clock.elapsed()).toBe(60_000);
  });

  it('a finder that throws fails the run (it is not a candidate failure)', async () => {
    const d = randomDigest();
    const clock = fakeClock();
    const boom = new GateError('NETWORK', 'POST http://127.0.0.1:1/api/v1/index/retrieve failed');
    await expect(verify(request(d.value, keyPolicy, 30), clock.deps([async () => { throw boom; }]))).rejects.toBe(boom);
  });
});

describe('mergeCandidates', () => {
  const leaf = 'ab'.repeat(32);
  const entry = { body: 'e30=', integratedTime: 1, logID: 'cd'.repeat(32), logIndex: 7 };
  const exact = { envelope: { bytes: Buffer.from('exact'), exact: true, location: 'reg/app@sha256:layer' } };
  const reencoded = { envelope: { bytes: Buffer.from('re-encoded'), exact: false, location: 'reg/app@sha256:bundle' } };
  const envelopeOf = (c: Candidate | undefined) => (c?.kind === 'entry' || c?.kind === 'failed' ? c.envelope : undefined);

  it('keeps the exact registry envelope (.att layer) over one re-encoded from a bundle, in either order', () => {
    const a: Candidate = { kind: 'entry', uuid: leaf, entry, sources: ['referrer-bundle'], ...reencoded };
    const b: Candidate = { kind: 'entry', uuid: `0123456789abcdef${leaf}`, entry, sources: ['att-tag'], ...exact };
    for (const found of [[a, b], [b, a]]) {
      const merged = mergeCandidates(found);
      expect(merged).toHaveLength(1);
      expect(envelopeOf(merged[0])).toMatchObject({ exact: true, location: 'reg/app@sha256:layer' });
      expect(envelopeOf(merged[0])?.bytes.toString()).toBe('exact');
      expect([...(merged[0]?.sources ?? [])].sort()).toEqual(['att-tag', 'referrer-bundle']);
    }
  });

  it("keeps the log's entry over a registry pointer the log could not serve, in either order", () => {
    const logUuid = `0123456789abcdef${leaf}`;
    const logEntry = { ...entry, logIndex: 1_000_007 };
    const failed: Candidate = {
      kind: 'failed',
      uuid: leaf,
      logIndex: 7,
      sources: ['att-tag'],
      error: new GateError('TLOG_ENTRY_NOT_FOUND', 'not served'),
      ...exact,
    };
    const fromLog: Candidate = { kind: 'entry', uuid: logUuid, entry: logEntry, sources: ['rekor-search'] };
    for (const found of [[failed, fromLog], [fromLog, failed]]) {
      const [m, ...rest] = mergeCandidates(found);
      expect(rest).toEqual([]);
      expect(m?.kind).toBe('entry');
      if (m?.kind !== 'entry') continue;
      expect(m.uuid).toBe(logUuid);
      expect(m.entry).toBe(logEntry);
      // the registry's envelope still stands in for the attestation
      expect(m.envelope?.bytes.toString()).toBe('exact');
      expect([...m.sources].sort()).toEqual(['att-tag', 'rekor-search']);
    }
  });

  it('keeps distinct entries apart and does not mutate its input', () => {
    const a: Candidate = { kind: 'entry', uuid: leaf, entry, sources: ['rekor-search'] };
    const b: Candidate = { kind: 'entry', uuid: 'ef'.repeat(32), entry, sources: ['att-tag'], ...exact };
    const c: Candidate = { kind: 'entry', uuid: leaf, entry, sources: ['att-tag'], ...exact };
    const merged = mergeCandidates([a, b, c]);
    expect(merged.map((m) => (m.kind === 'entry' ? m.uuid : m.kind))).toEqual([leaf, 'ef'.repeat(32)]);
    expect(a.sources).toEqual(['rekor-search']);
    expect(a.envelope).toBeUndefined();
  });
});

describe('verify(): candidates from several finders', () => {
  it('a dsse entry found by both registry sources is judged once, with the exact .att envelope', async () => {
    const d = randomDigest();
    const logged = logDsseV001(w, provenance(d.value));
    // the envelope as a bundle carries it: same fields and signatures, other bytes
    const reencodedBytes = Buffer.from(JSON.stringify(logged.envelope, null, 1));
    expect(reencodedBytes.equals(Buffer.from(logged.envelopeText))).toBe(false);
    const fromBundle: CandidateFinder = async () => [
      candidateOf(logged.uuid, ['referrer-bundle'], { envelope: { bytes: reencodedBytes, exact: false, location: 'reg/app@sha256:bundle' } }),
    ];
    const fromAtt: CandidateFinder = async () => [
      candidateOf(logged.uuid, ['att-tag'], { envelope: { bytes: Buffer.from(logged.envelopeText), exact: true, location: 'reg/app@sha256:layer' } }),
    ];
    const v = await verify(request(d.value, keyPolicy, 0), fakeClock().deps([fromBundle, fromAtt]));
    expect(v.candidates).toHaveLength(1);
    expect(v.verified).toBe(true);
    expect(v.accepted).toMatchObject({ uuid: logged.uuid, attestationFrom: 'registry', registryLocation: 'reg/app@sha256:layer' });
    expect([...(v.accepted?.sources ?? [])].sort()).toEqual(['att-tag', 'referrer-bundle']);
  });

  it("a registry pointer the log could not serve is replaced by the search's copy of the entry", async () => {
    const d = randomDigest();
    const logged = logIntotoV001(w, provenance(d.value));
    const failed: FailedCandidate = {
      kind: 'failed',
      uuid: logged.uuid.slice(-64),
      sources: ['att-tag'],
      envelope: { bytes: Buffer.from(logged.envelopeText), exact: true, location: 'reg/app@sha256:layer' },
      error: new GateError('TLOG_ENTRY_NOT_FOUND', `entry ${logged.uuid.slice(-64)}: the log does not serve it`),
    };
    const pointer: CandidateFinder = async () => [failed];
    const search: CandidateFinder = async () => [candidateOf(logged.uuid)];
    const v = await verify(request(d.value, keyPolicy, 0), fakeClock().deps([pointer, search]));
    expect(v.candidates).toHaveLength(1);
    expect(v.verified).toBe(true);
    expect(v.accepted?.uuid).toBe(logged.uuid);

    // alone, the failed pointer fails in the log check with its lookup error
    const alone = await verify(request(d.value, keyPolicy, 0), fakeClock().deps([pointer]));
    expect(alone.verified).toBe(false);
    expect(alone.candidates[0]).toMatchObject({ status: 'failed', check: 'log', code: 'TLOG_ENTRY_NOT_FOUND' });
  });
});

describe('verify(): minSigners', () => {
  it('needs two distinct trusted keys, each with a passing entry', async () => {
    const d = randomDigest();
    const second = generateSigner();
    const policy = policyFor([w.signer, second], 2);
    const a1 = logIntotoV001(w, provenance(d.value, { builderId: 'https://builder.example/a1' }));
    const a2 = logIntotoV001(w, provenance(d.value, { builderId: 'https://builder.example/a2' }));
    const b = logIntotoV001(w, provenance(d.value, { builderId: 'https://builder.example/b' }), { signer: second });

    // two passing entries, but both by the same key
    const one = await verify(request(d.value, policy, 0), fakeClock().deps([async () => [candidateOf(a1.uuid), candidateOf(a2.uuid)]]));
    expect(one.verified).toBe(false);
    expect(one.candidates.map((c) => c.status)).toEqual(['passed', 'passed']);
    expect(one.reason).toBe(`the policy needs 2 distinct signers, only 1 have a passing entry (key:${w.signer.fingerprint})`);

    const both = await verify(request(d.value, policy, 0), fakeClock().deps([async () => [candidateOf(a1.uuid), candidateOf(b.uuid)]]));
    expect(both.verified).toBe(true);
    expect(new Set(both.candidates.map((c) => c.policySigner))).toEqual(new Set([`key:${w.signer.fingerprint}`, `key:${second.fingerprint}`]));
  });

  it('waits for the second signer when the policy needs it', async () => {
    const d = randomDigest();
    const second = generateSigner();
    const policy = policyFor([w.signer, second], 2);
    const a = logIntotoV001(w, provenance(d.value));
    const b = logIntotoV001(w, provenance(d.value), { signer: second });
    let calls = 0;
    const finder: CandidateFinder = async () => (++calls >= 2 ? [candidateOf(a.uuid), candidateOf(b.uuid)] : [candidateOf(a.uuid)]);
    const clock = fakeClock();
    const v = await verify(request(d.value, policy, 30), clock.deps([finder]));
    expect(v.verified).toBe(true);
    expect(v.polls).toBe(2);
    expect(clock.progress[0]).toContain('the policy needs 2 distinct signers, only 1 have a passing entry');
  });
});
