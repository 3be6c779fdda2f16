import { describe, expect, it } from 'vitest';
import { parseImageDigest } from '../../src/digest.ts';
import type { RekorClient, RetrievedEntry } from '../../src/rekor/client.ts';
import { rekorSearchFinder } from '../../src/verify/finders.ts';
import type { Candidate } from '../../src/verify/types.ts';

const entry = (i: number) => ({ body: Buffer.from(`{"n":${i}}`).toString('base64'), integratedTime: 1, logID: 'ab', logIndex: i });

function fakeRekor(uuids: string[], calls: { retrieved: string[][] }): RekorClient {
  return {
    baseUrl: 'http://log',
    entryUrl: (u) => `http://log/${u}`,
    searchByDigest: async () => uuids,
    retrieveByUUIDs: async (wanted, opts) => {
      calls.retrieved.push([...wanted]);
      const all: RetrievedEntry[] = [];
      for (let i = 0; i < wanted.length; i += 10) {
        const batch = wanted.slice(i, i + 10).map((u) => ({ uuid: u, requestedUuid: u, entry: entry(uuids.indexOf(u)) }));
        opts?.onBatch?.(batch);
        all.push(...batch);
      }
      return all;
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

  it('hands each candidate over as its batch arrives, before the last request is done', async () => {
    const calls = { retrieved: [] as string[][] };
    const early: Candidate[] = [];
    const found = await rekorSearchFinder(fakeRekor(uuids, calls), digest)((c) => early.push(c));
    expect(early.map((c) => c.uuid)).toEqual(uuids);
    expect(found.map((c) => c.uuid)).toEqual(uuids);
    expect(found.every((c) => c.sources.join() === 'rekor-search')).toBe(true);
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
