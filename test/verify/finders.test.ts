import { describe, expect, it } from 'vitest';
import { parseImageDigest } from '../../src/digest.ts';
import type { RekorClient, RetrievedEntry } from '../../src/rekor/client.ts';
import { GateError } from '../../src/errors.ts';
import type { Candidate } from '../../src/verify/candidate.ts';
import { lookupFinder, rekorSearchFinder, startedEarly } from '../../src/verify/finders.ts';
import type { CandidateFinder } from '../../src/verify/verifier.ts';

const entry = (i: number) => ({ body: Buffer.from(`{"n":${i}}`).toString('base64'), integratedTime: 1, logID: 'ab', logIndex: i });

function fakeRekor(uuids: string[], calls: { retrieved: string[][]; answered?: Promise<void> }): RekorClient {
  return {
    baseUrl: 'http://log',
    entryUrl: (u) => `http://log/${u}`,
    searchByDigest: async () => uuids,
    retrieveByUUIDs: async (wanted) => {
      calls.retrieved.push([...wanted]);
      await calls.answered;
      return wanted.map((u): RetrievedEntry => ({ uuid: u, requestedUuid: u, entry: entry(uuids.indexOf(u)) }));
    },
    getByLogIndex: async () => {
      throw new Error('unused');
    },
    getByUUID: async () => {
      throw new Error('unused');
    },
    createDsseEntry: async () => {
      throw new Error('unused');
    },
  };
}

describe('rekorSearchFinder', () => {
  const digest = parseImageDigest(`sha256:${'c'.repeat(64)}`);
  const uuids = Array.from({ length: 25 }, (_, i) => i.toString(16).padStart(80, '0'));

  it('resolves once every retrieve is answered, with each entry the search named, in its order (the verifier checks after)', async () => {
    let answer = (): void => {};
    const calls = { retrieved: [] as string[][], answered: new Promise<void>((r) => (answer = r)) };
    let done = false;
    const pending = rekorSearchFinder(fakeRekor(uuids, calls), digest)().then((found) => ((done = true), found));
    await new Promise((r) => setImmediate(r));
    expect(calls.retrieved).toEqual([uuids]);
    expect(done).toBe(false);
    answer();
    const found = await pending;
    expect(found.map((c) => (c.kind === 'entry' ? c.uuid : c.kind))).toEqual(uuids);
    expect(found.every((c) => c.kind === 'entry' && c.sources.join() === 'rekor-search')).toBe(true);
  });

  it('fetches each entry once across polls: only new IDs are retrieved', async () => {
    const calls = { retrieved: [] as string[][] };
    const list = uuids.slice(0, 5);
    const rekor = fakeRekor(list, calls);
    const finder = rekorSearchFinder(rekor, digest);
    await finder();
    list.push(...uuids.slice(5, 7));
    const again = await finder();
    expect(again).toHaveLength(7);
    expect(calls.retrieved).toEqual([uuids.slice(0, 5), uuids.slice(5, 7)]);
  });
});

describe('startedEarly', () => {
  const uuidOf = (c: Candidate): string | undefined => (c.kind === 'envelope' ? undefined : c.uuid);
  const candidate = (uuid: string): Candidate & { kind: 'failed' } => ({ kind: 'failed', uuid, error: new GateError('TLOG_ENTRY_NOT_FOUND', uuid), sources: ['rekor-search'] });

  it('starts the first poll at once; the first call takes it with the notes it made, later calls poll again', async () => {
    const polls: number[] = [];
    const finder: CandidateFinder = async (note) => {
      polls.push(polls.length + 1);
      note?.(`poll ${polls.length}`);
      return [candidate(`u${polls.length}`)];
    };
    const early = startedEarly(finder);
    expect(polls).toEqual([1]); // under way before anyone asked
    const notes: string[] = [];
    expect((await early((m) => notes.push(m))).map(uuidOf)).toEqual(['u1']);
    expect(notes).toEqual(['poll 1']);
    expect((await early((m) => notes.push(m))).map(uuidOf)).toEqual(['u2']);
    expect(notes).toEqual(['poll 1', 'poll 2']);
    expect(polls).toEqual([1, 2]);
  });

  it("a failure of the early poll is the first call's failure (never an unhandled rejection); the next call polls again", async () => {
    let calls = 0;
    const early = startedEarly(async () => {
      calls++;
      if (calls === 1) throw new GateError('NETWORK', 'the log is down');
      return [candidate('u2')];
    });
    await new Promise((r) => setImmediate(r)); // the rejection settles before anyone awaits it
    await expect(early()).rejects.toThrow(/the log is down/);
    expect((await early()).map(uuidOf)).toEqual(['u2']);
  });
});

describe('lookupFinder: the one entry a --log-index or --entry-url names', () => {
  const named = '0'.repeat(16) + 'a'.repeat(64);
  /** A log whose lookups answer `answer` (an entry, or a thrown error). */
  const lookupLog = (answer: () => RetrievedEntry): RekorClient => ({
    ...fakeRekor([], { retrieved: [] }),
    getByLogIndex: async () => answer(),
    getByUUID: async () => answer(),
  });
  const notThere = (): RetrievedEntry => {
    throw new GateError('HTTP_STATUS', 'GET http://log/x: 404', { status: 404 });
  };

  it('an entry the log answers 404 for: a failed candidate, TLOG_ENTRY_NOT_FOUND (not verified, exit 1)', async () => {
    const [c] = await lookupFinder(lookupLog(notThere), { logIndex: 7 }, 'log-index')(() => {});
    expect(c).toMatchObject({ kind: 'failed', logIndex: 7, error: { code: 'TLOG_ENTRY_NOT_FOUND' } });
  });

  it('any other failure of the lookup is the run\'s (unreachable, exit 3), not a missing entry', async () => {
    const down = (): RetrievedEntry => {
      throw new GateError('HTTP_STATUS', 'GET http://log/x: 503', { status: 503 });
    };
    await expect(lookupFinder(lookupLog(down), { logIndex: 7 }, 'log-index')(() => {})).rejects.toMatchObject({ code: 'HTTP_STATUS', status: 503 });
  });

  it('a log index answered with the entry of another index: a failed candidate, TLOG_INCONSISTENT', async () => {
    const [c] = await lookupFinder(lookupLog(() => ({ uuid: named, requestedUuid: named, entry: entry(8) })), { logIndex: 7 }, 'log-index')(() => {});
    expect(c).toMatchObject({ kind: 'failed', logIndex: 8, error: { code: 'TLOG_INCONSISTENT' } });
  });

  it('an entry ID answered with another entry: a failed candidate, TLOG_INCONSISTENT', async () => {
    const other = '0'.repeat(16) + 'b'.repeat(64);
    const [c] = await lookupFinder(lookupLog(() => ({ uuid: other, requestedUuid: named, entry: entry(3) })), { uuid: named }, 'entry-url')(() => {});
    expect(c).toMatchObject({ kind: 'failed', uuid: other, error: { code: 'TLOG_INCONSISTENT' } });
    const [same] = await lookupFinder(lookupLog(() => ({ uuid: named, requestedUuid: named, entry: entry(3) })), { uuid: named }, 'entry-url')(() => {});
    expect(same).toMatchObject({ kind: 'entry', uuid: named });
  });
});
