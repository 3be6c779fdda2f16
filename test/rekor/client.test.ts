import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { parseImageDigest } from '../../src/digest.ts';
import { createBudget } from '../../src/net/budget.ts';
import { createHttp, type Http } from '../../src/net/http.ts';
import { createRekorClient, type RekorClient } from '../../src/rekor/client.ts';
import type { LogEntryAnon } from '../../src/rekor/types.ts';
import { corpusDir, describeWithTestData } from '../fixtures/test-data.ts';
import { sendJson, startServer, type Handler, type TestServer } from '../net/server.ts';
import { rejection } from '../fixtures/errors.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function setup(handler: Handler): Promise<{ server: TestServer; http: Http; rekor: RekorClient }> {
  const server = await startServer(handler);
  const http = createHttp({ timeoutMs: 5000, backoffBaseMs: 5, backoffMaxMs: 20 });
  cleanups.push(() => server.close(), () => http.close());
  return { server, http, rekor: createRekorClient(`${server.url}/`, http) };
}

const hex = (s: string) => createHash('sha256').update(s).digest('hex');
const uuidN = (i: number) => hex(`entry ${i}`);
const TREE = '24296fb24b8ad77a';

/** A well-formed entry (not a verifiable one: the client only checks the API's shape). */
function entry(i: number): LogEntryAnon {
  return {
    body: Buffer.from(JSON.stringify({ apiVersion: '0.0.1', kind: 'intoto', spec: { n: i } })).toString('base64'),
    integratedTime: 1_700_000_000 + i,
    logID: hex('log'),
    logIndex: i,
    verification: {
      signedEntryTimestamp: Buffer.from(`set ${i}`).toString('base64'),
      inclusionProof: { logIndex: i, rootHash: hex('root'), treeSize: 1000, hashes: [hex('a'), hex('b')], checkpoint: 'origin\n1000\nAAAA\n\n— x y\n' },
    },
  };
}

const DIGEST = parseImageDigest(`sha256:${hex('image')}`);

describe('searchByDigest', () => {
  it('posts the digest to the index and dedupes exact duplicates (case-insensitively)', async () => {
    const a = uuidN(1);
    const b = uuidN(2);
    const { server, rekor } = await setup((_req, res) => sendJson(res, 200, [a, a.toUpperCase(), b, TREE + a, a]));
    expect(await rekor.searchByDigest(DIGEST)).toEqual([a, b, TREE + a]);
    expect(server.hits).toHaveLength(1);
    expect(server.hits[0]).toMatchObject({ method: 'POST', url: '/api/v1/index/retrieve' });
    expect(JSON.parse(server.hits[0]?.body ?? '')).toEqual({ hash: DIGEST.value });
  });

  it('returns [] when nothing is indexed', async () => {
    const { rekor } = await setup((_req, res) => sendJson(res, 200, []));
    expect(await rekor.searchByDigest(DIGEST)).toEqual([]);
  });

  it('rejects a response that is not a list of UUIDs with RESPONSE_MALFORMED', async () => {
    const { rekor, server } = await setup((_req, res, _hit, n) => sendJson(res, 200, n === 1 ? ['not-a-uuid'] : { uuids: [] }));
    const err = await rejection(rekor.searchByDigest(DIGEST));
    expect(err.code).toBe('RESPONSE_MALFORMED');
    expect(err.message).toContain(`${server.url}/api/v1/index/retrieve`);
    expect(err.message).toContain(DIGEST.value);
    expect(err.message).toContain('/0 must match pattern');
    const notArray = await rejection(rekor.searchByDigest(DIGEST));
    expect(notArray.code).toBe('RESPONSE_MALFORMED');
    expect(notArray.message).toContain('must be array');
  });

  it("surfaces Rekor's error message", async () => {
    const { rekor } = await setup((_req, res) =>
      sendJson(res, 501, { code: 501, message: 'Search Index API not enabled in this Rekor instance' }),
    );
    const err = await rejection(rekor.searchByDigest(DIGEST));
    expect(err.code).toBe('HTTP_STATUS');
    expect(err.message).toContain('Search Index API not enabled in this Rekor instance');
  });
});

/** A retrieve endpoint that answers each asked UUID under its own key, after `delayMs`, counting requests in flight. */
function retrieveServer(delayMs: number, keyFor: (uuid: string) => string = (u) => u) {
  const state = { inFlight: 0, maxInFlight: 0, batches: [] as string[][] };
  const handler: Handler = async (req, res, hit) => {
    if (req.url !== '/api/v1/log/entries/retrieve' || req.method !== 'POST') return sendJson(res, 404, { code: 404, message: 'no route' });
    const { entryUUIDs } = JSON.parse(hit.body) as { entryUUIDs: string[] };
    state.batches.push(entryUUIDs);
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    await sleep(delayMs);
    state.inFlight--;
    sendJson(
      res,
      200,
      entryUUIDs.map((u) => ({ [keyFor(u)]: entry(Number.parseInt(u.slice(-6), 16) % 100_000) })),
    );
  };
  return { state, handler };
}

describe('retrieveByUUIDs', () => {
  it('fetches 25 UUIDs in 3 batches of at most 10, concurrently', async () => {
    const uuids = Array.from({ length: 25 }, (_, i) => uuidN(i));
    const { state, handler } = retrieveServer(100);
    const { rekor } = await setup(handler);
    const got = await rekor.retrieveByUUIDs(uuids);
    expect(state.batches).toHaveLength(3);
    expect(state.batches.every((b) => b.length >= 1 && b.length <= 10)).toBe(true);
    expect(state.batches.flat().sort()).toEqual([...uuids].sort());
    expect(state.maxInFlight).toBeGreaterThan(1);
    expect(state.maxInFlight).toBeLessThanOrEqual(8);
    expect(got.map((g) => g.uuid).sort()).toEqual([...uuids].sort());
    expect(got.every((g) => g.requestedUuid === g.uuid)).toBe(true);
    expect(got[0]?.entry.logID).toBe(hex('log'));
  });

  it('keeps within the concurrency bound', async () => {
    const uuids = Array.from({ length: 45 }, (_, i) => uuidN(i));
    const { state, handler } = retrieveServer(50);
    const { rekor } = await setup(handler);
    expect(await rekor.retrieveByUUIDs(uuids, { concurrency: 2 })).toHaveLength(45);
    expect(state.batches).toHaveLength(5);
    expect(state.maxInFlight).toBe(2);
  });

  it('lower-cases and dedupes the UUIDs asked for; asks nothing for an empty list', async () => {
    const a = uuidN(1);
    const { state, handler } = retrieveServer(0);
    const { rekor } = await setup(handler);
    expect(await rekor.retrieveByUUIDs([])).toEqual([]);
    expect(state.batches).toHaveLength(0);
    const got = await rekor.retrieveByUUIDs([a, a.toUpperCase(), uuidN(2)]);
    expect(state.batches).toEqual([[a, uuidN(2)]]);
    expect(got).toHaveLength(2);
  });

  it('rejects a UUID of the wrong form before asking the log', async () => {
    const { state, handler } = retrieveServer(0);
    const { rekor } = await setup(handler);
    const err = await rejection(rekor.retrieveByUUIDs([uuidN(1), 'abc']));
    expect(err.code).toBe('USAGE');
    expect(err.message).toContain('"abc"');
    expect(state.batches).toHaveLength(0);
  });

  it('drops an entry returned under a key that was not asked (only answers to the questions asked are used)', async () => {
    const asked = uuidN(7);
    const other = uuidN(8);
    const { handler } = retrieveServer(0, () => other);
    const { rekor } = await setup(handler);
    expect(await rekor.retrieveByUUIDs([asked])).toEqual([]);
    // also when other UUIDs of the same batch are answered properly
    const { handler: h2 } = retrieveServer(0, (u) => (u === asked ? other : u));
    const { rekor: r2 } = await setup(h2);
    const got = await r2.retrieveByUUIDs([uuidN(1), asked]);
    expect(got.map((g) => [g.uuid, g.requestedUuid])).toEqual([[uuidN(1), uuidN(1)]]);
  });

  it('matches a 64-hex UUID answered under its 80-hex entry ID', async () => {
    const a = uuidN(1);
    const b = uuidN(2);
    const { handler } = retrieveServer(0, (u) => (TREE + u).toUpperCase());
    const { rekor } = await setup(handler);
    const got = await rekor.retrieveByUUIDs([a, b]);
    expect(got.map((g) => [g.uuid, g.requestedUuid])).toEqual([
      [TREE + a, a],
      [TREE + b, b],
    ]);
  });

  it('returns an entry once when both forms of its UUID were asked', async () => {
    const a = uuidN(1);
    const { handler } = retrieveServer(0, (u) => (u.length === 64 ? TREE + u : u));
    const { rekor } = await setup(handler);
    const got = await rekor.retrieveByUUIDs([a, TREE + a]);
    expect(got.map((g) => g.uuid)).toEqual([TREE + a]);
  });

  it('rejects an entry that breaks the LogEntry schema with ENTRY_MALFORMED naming it', async () => {
    const a = uuidN(1);
    const { rekor, server } = await setup((_req, res) => sendJson(res, 200, [{ [a]: { ...entry(1), logIndex: 'one' } }]));
    const err = await rejection(rekor.retrieveByUUIDs([a]));
    expect(err.code).toBe('ENTRY_MALFORMED');
    expect(err.message).toContain(`${server.url}/api/v1/log/entries/retrieve`);
    expect(err.message).toContain(`/0/${a}/logIndex must be integer`);
  });

  it.each([
    ['a body that is not a string', (e: LogEntryAnon) => ({ ...e, body: { kind: 'intoto' } }), '/body must be string'],
    ['a body that is not base64', (e: LogEntryAnon) => ({ ...e, body: 'not base64!' }), '/body must match format "byte"'],
    ['attestation data that is not a string', (e: LogEntryAnon) => ({ ...e, attestation: { data: 5 } }), '/attestation/data must be string'],
    ['a short logID', (e: LogEntryAnon) => ({ ...e, logID: 'abcd' }), '/logID must match pattern'],
    ['no integratedTime', ({ integratedTime: _, ...e }: LogEntryAnon) => e, "must have required property 'integratedTime'"],
    [
      'a proof hash that is not hex',
      (e: LogEntryAnon) => ({ ...e, verification: { inclusionProof: { ...e.verification?.inclusionProof, hashes: ['zz'] } } }),
      '/verification/inclusionProof/hashes/0 must match pattern',
    ],
  ])('rejects %s', async (_name, mutate, expected) => {
    const a = uuidN(1);
    const { rekor } = await setup((_req, res) => sendJson(res, 200, [{ [a]: mutate(entry(1)) }]));
    const err = await rejection(rekor.retrieveByUUIDs([a]));
    expect(err.code).toBe('ENTRY_MALFORMED');
    expect(err.message).toContain(expected);
  });

  it('rejects a response that is not an array', async () => {
    const a = uuidN(1);
    const { rekor } = await setup((_req, res) => sendJson(res, 200, { [a]: entry(1) }));
    const err = await rejection(rekor.retrieveByUUIDs([a]));
    expect(err.code).toBe('ENTRY_MALFORMED');
    expect(err.message).toContain('must be array');
  });

  it('accepts a proof without a checkpoint (served before 2022) and an entry without any proof', async () => {
    const a = uuidN(1);
    const b = uuidN(2);
    const { checkpoint: _, ...proof } = entry(1).verification?.inclusionProof ?? { checkpoint: '' };
    const { rekor } = await setup((_req, res) =>
      sendJson(res, 200, [{ [a]: { ...entry(1), verification: { inclusionProof: proof } } }, { [b]: { ...entry(2), verification: {} } }]),
    );
    expect(await rekor.retrieveByUUIDs([a, b])).toHaveLength(2);
  });
});

describe('getByUUID, getByLogIndex, entryUrl', () => {
  it('gets an entry by UUID from its entry URL', async () => {
    const a = uuidN(3);
    const { rekor, server } = await setup((req, res) => sendJson(res, 200, { [req.url?.split('/').pop() ?? '']: entry(3) }));
    expect(rekor.entryUrl(a.toUpperCase())).toBe(`${server.url}/api/v1/log/entries/${a}`);
    expect(await rekor.getByUUID(a)).toEqual({ uuid: a, requestedUuid: a, entry: entry(3) });
    expect(server.hits[0]).toMatchObject({ method: 'GET', url: `/api/v1/log/entries/${a}` });
  });

  it('gets an entry by log index', async () => {
    const a = uuidN(4);
    const { rekor, server } = await setup((_req, res) => sendJson(res, 200, { [TREE + a]: entry(4) }));
    expect(await rekor.getByLogIndex(4)).toEqual({ uuid: TREE + a, requestedUuid: undefined, entry: entry(4) });
    expect(server.hits[0]).toMatchObject({ method: 'GET', url: '/api/v1/log/entries?logIndex=4' });
    await expect(rekor.getByLogIndex(-1)).rejects.toMatchObject({ code: 'USAGE' });
    await expect(rekor.getByLogIndex(1.5)).rejects.toMatchObject({ code: 'USAGE' });
    expect(server.hits).toHaveLength(1);
  });

  it('wants exactly one entry in a single-entry response', async () => {
    const { rekor } = await setup((_req, res) => sendJson(res, 200, { [uuidN(1)]: entry(1), [uuidN(2)]: entry(2) }));
    const err = await rejection(rekor.getByLogIndex(1));
    expect(err.code).toBe('ENTRY_MALFORMED');
    expect(err.message).toContain('exactly one entry');
  });

  it('reports 404 with the URL and Rekor message, without retrying', async () => {
    const a = uuidN(5);
    const { rekor, server } = await setup((_req, res) => sendJson(res, 404, { code: 404, message: 'entry not found' }));
    const err = await rejection(rekor.getByUUID(a));
    expect(err.code).toBe('HTTP_STATUS');
    expect(err.message).toContain(rekor.entryUrl(a));
    expect(err.message).toContain('entry not found');
    expect(server.hits).toHaveLength(1);
  });

  it('keeps a base path and refuses a URL that is not http(s)', async () => {
    const http = createHttp({ timeoutMs: 1000 });
    cleanups.push(() => http.close());
    expect(createRekorClient('https://log.example/rekor//', http).entryUrl(uuidN(1))).toBe(
      `https://log.example/rekor/api/v1/log/entries/${uuidN(1)}`,
    );
    expect(() => createRekorClient('ftp://log.example', http)).toThrow(expect.objectContaining({ code: 'USAGE' }));
    expect(() => createRekorClient('not a url', http)).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });

  describeWithTestData(import.meta.url, 'the recorded Rekor entries (corpus/entries)', 'real Rekor responses', () => {
    it('accepts every real Rekor response in the corpus', async () => {
      const files = fs.readdirSync(corpusDir('entries')).filter((f) => f.endsWith('.json'));
      const byUuid = new Map<string, Buffer>();
      for (const f of files) {
        const raw = fs.readFileSync(corpusDir('entries', f));
        byUuid.set(Object.keys(JSON.parse(raw.toString('utf8')) as object)[0] ?? '', raw);
      }
      const { rekor } = await setup((req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(byUuid.get(req.url?.split('/').pop() ?? ''));
      });
      for (const uuid of byUuid.keys()) {
        const got = await rekor.getByUUID(uuid);
        expect(got.uuid).toBe(uuid.toLowerCase());
        expect(typeof got.entry.body).toBe('string');
      }
      expect(byUuid.size).toBeGreaterThanOrEqual(17);
    });
  });
});

describe('the per-run budget of what the log may send', () => {
  it('stops with RESPONSE_TOO_LARGE naming the entry cap once the log has sent more entries than it allows', async () => {
    const server = await startServer(retrieveServer(0).handler);
    const http = createHttp({ timeoutMs: 5000 });
    cleanups.push(() => server.close(), () => http.close());
    const budget = createBudget({ peer: `the log ${server.url}`, maxBytes: 1 << 30, maxEntries: 25 });
    const rekor = createRekorClient(server.url, http, { budget });
    await rekor.retrieveByUUIDs(Array.from({ length: 20 }, (_, i) => uuidN(i)), { concurrency: 1 });
    const err = await rejection(rekor.retrieveByUUIDs(Array.from({ length: 20 }, (_, i) => uuidN(100 + i)), { concurrency: 1 }));
    expect(err.code).toBe('RESPONSE_TOO_LARGE');
    expect(err.message).toMatch(/per-run cap of 25 entries/);
    expect(err.message).toContain(server.url);
  });

  it('stops with RESPONSE_TOO_LARGE naming the byte cap once the answers together pass it, each under the per-response cap', async () => {
    const server = await startServer(retrieveServer(0).handler);
    const budget = createBudget({ peer: `the log ${server.url}`, maxBytes: 20_000, maxEntries: 1000 });
    const http = createHttp({ timeoutMs: 5000, budget });
    cleanups.push(() => server.close(), () => http.close());
    const rekor = createRekorClient(server.url, http, { budget });
    const err = await rejection(rekor.retrieveByUUIDs(Array.from({ length: 200 }, (_, i) => uuidN(i)), { concurrency: 1 }));
    expect(err.code).toBe('RESPONSE_TOO_LARGE');
    expect(err.message).toMatch(/per-run cap of 20000 bytes/);
    expect(budget.bytes).toBeLessThan(40_000);
  });
});
