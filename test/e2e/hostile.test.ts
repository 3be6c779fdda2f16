/**
 * The bundled CLI against hostile or broken peers on 127.0.0.1 (issue 15, point 7): a registry that drips,
 * a log that floods, searches naming huge numbers of entries, manifests with thousands of layers, entries
 * nested past the stack, junk referrers, a full results directory, and absurd flag values. Every test is
 * bounded in requests and time; none asserts on timings, only on outcomes (exit code, message, counts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFake, sendJson, send, type FakeServer, type Recorded } from '../registry/fake-server.ts';
import { repoRoot } from '../fixtures/paths.ts';
import { logIntotoV001, provenance, randomDigest, runCli, startWorld, worldFlags, type World } from '../fixtures/world.ts';

const SEARCH = '/api/v1/index/retrieve';
const RETRIEVE = '/api/v1/log/entries/retrieve';
const DSSE = 'application/vnd.dsse.envelope.v1+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const BUNDLE_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
const randomUuid = (): string => randomBytes(40).toString('hex');

let w: World;
const servers: FakeServer[] = [];
beforeAll(async () => {
  w = await startWorld();
});
afterAll(async () => {
  for (const s of servers) await s.close();
  await w.close();
});

async function fake(handler: (req: Recorded, res: ServerResponse) => void | Promise<void>): Promise<FakeServer> {
  const s = await startFake(handler);
  servers.push(s);
  return s;
}

/** A junk entry under `uuid`: well-formed for the API, failing the entry check (its ID is not its leaf hash). */
function junkEntry(i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const body = Buffer.from(JSON.stringify({ apiVersion: '0.0.1', kind: 'intoto', spec: { junk: i } })).toString('base64');
  return { body, integratedTime: 1_700_000_000, logID: 'a'.repeat(64), logIndex: i, verification: { signedEntryTimestamp: 'c2V0' }, ...extra };
}

/**
 * A log in front of the test log: searches answer `searchFor(hash)`; a retrieve answers each asked UUID with
 * the test log's entry when it has one, else with `junkFor(uuid, i)` (or nothing when that gives undefined;
 * a string is sent as the entry's JSON text, verbatim).
 */
async function hostileLog(o: {
  searchFor: (hash: string) => string[];
  junkFor?: (uuid: string, i: number) => unknown;
}): Promise<FakeServer & { counts: { retrieves: number } }> {
  const counts = { retrieves: 0 };
  let n = 0;
  const s = await fake((req, res) => {
    if (req.method === 'POST' && req.url === SEARCH) {
      const { hash } = JSON.parse(req.body.toString()) as { hash: string };
      return sendJson(res, 200, o.searchFor(hash));
    }
    if (req.method === 'POST' && req.url === RETRIEVE) {
      counts.retrieves++;
      const { entryUUIDs } = JSON.parse(req.body.toString()) as { entryUUIDs: string[] };
      const out: string[] = [];
      for (const u of entryUUIDs) {
        const real = w.log.logEntry(u);
        if (real) out.push(JSON.stringify(real));
        else {
          const junk = o.junkFor?.(u, n++);
          if (junk !== undefined) out.push(`{"${u}":${typeof junk === 'string' ? junk : JSON.stringify(junk)}}`);
        }
      }
      return send(res, 200, `[${out.join(',')}]`, { 'content-type': 'application/json' });
    }
    return sendJson(res, 404, { code: 404, message: 'not here' });
  });
  return Object.assign(s, { counts });
}

function flagsFor(logUrl: string, digest: string, timeout = 5): string[] {
  return ['verify', '--image-digest', digest, '--rekor-url', logUrl, '--trusted-root', w.trustedRootPath, '--key', w.keyPath, '--timeout', String(timeout)];
}

/** Peak RSS of the CLI run in MiB, printed by test/fixtures/report-rss.mjs. */
function peakRssMiB(stderr: string): number {
  const m = /peak-rss-kib (\d+)/.exec(stderr);
  if (!m) throw new Error(`no peak RSS in:\n${stderr}`);
  return Number(m[1]) / 1024;
}
const RSS_ENV = { NODE_OPTIONS: `--import ${path.join(repoRoot, 'test', 'fixtures', 'report-rss.mjs')}` };

/** A registry holding nothing but what `routes` answers (paths under /v2/app/); 404 for the rest. */
async function fakeRegistry(routes: (p: string, req: Recorded, res: ServerResponse) => boolean | Promise<boolean>): Promise<FakeServer> {
  return fake(async (req, res) => {
    const p = new URL(req.url, 'http://x').pathname;
    if (p === '/v2/') return sendJson(res, 200, {});
    if (await routes(p, req, res)) return;
    sendJson(res, 404, { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'unknown' }] });
  });
}

const served = (res: ServerResponse, bytes: Buffer, type: string) => {
  send(res, 200, bytes, { 'content-type': type, 'docker-content-digest': sha(bytes) });
  return true;
};

// One at a time: each run is CPU-bound, and side by side they would starve one another on a small machine.
describe('hostile registry', () => {
  it('a registry dripping a manifest at 1 byte/s: each request ends at its whole-request deadline (exit 3), not after the drip', async () => {
    const d = randomDigest();
    logIntotoV001(w, provenance(d.value));
    const timers = new Set<NodeJS.Timeout>();
    const reg = await fakeRegistry((p, _req, res) => {
      if (p !== '/v2/app/manifests/v1') return false;
      res.writeHead(200, { 'content-type': OCI_MANIFEST, 'content-length': '100000' });
      const t = setInterval(() => res.write('{'), 200); // 5 bytes/s: every chunk within the idle timer
      timers.add(t);
      res.on('close', () => clearInterval(t));
      return true;
    });
    try {
      const r = await runCli([...flagsFor(w.log.url, d.value, 1), '--image-url', `${reg.host}/app:v1`], { timeoutMs: 40_000 });
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toMatch(/\[REGISTRY_UNREACHABLE\]/);
      expect(r.stderr).toMatch(/did not finish within 1000 ms/);
      expect(reg.requests.filter((q) => q.url === '/v2/app/manifests/v1')).toHaveLength(3); // 1 + 2 retries
    } finally {
      for (const t of timers) clearInterval(t);
    }
  });

  it('a registry answering each request just within --timeout, many times: the run ends at its own deadline (exit 3, naming it)', async () => {
    const d = randomDigest();
    const blob = Buffer.from('{"payloadType":"x","payload":"","signatures":[]}');
    const layers = Array.from({ length: 60 }, () => ({ mediaType: DSSE, digest: sha(blob), size: blob.length }));
    const att = json({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha('{}'), size: 2 }, layers });
    const reg = await fakeRegistry(async (p, _req, res) => {
      if (p === `/v2/app/manifests/sha256-${d.hex}.att`) return served(res, att, OCI_MANIFEST);
      if (p === `/v2/app/blobs/${sha(blob)}`) {
        await new Promise((r) => setTimeout(r, 500));
        return served(res, blob, 'application/octet-stream');
      }
      return false;
    });
    const r = await runCli([...flagsFor(w.log.url, d.value, 1), '--image-url', `${reg.host}/app@${d.value}`], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/\[NETWORK\].*did not finish within its deadline of 14 s \(--wait 0 s \+ 14 s/);
    // stopped well before all 60 slow blobs were fetched
    expect(reg.requests.filter((q) => q.url.includes('/blobs/')).length).toBeLessThan(60);
  });

  it('an .att manifest with 10,000 layers: at most 64 are fetched, the report says how many were skipped, the log entry decides', async () => {
    const d = randomDigest();
    const good = logIntotoV001(w, provenance(d.value));
    const blob = Buffer.from('{"payloadType":"x","payload":"","signatures":[]}');
    const layers = Array.from({ length: 10_000 }, () => ({ mediaType: DSSE, digest: sha(blob), size: blob.length }));
    const att = json({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha('{}'), size: 2 }, layers });
    const reg = await fakeRegistry((p, _req, res) => {
      if (p === `/v2/app/manifests/sha256-${d.hex}.att`) return served(res, att, OCI_MANIFEST);
      if (p === `/v2/app/blobs/${sha(blob)}`) return served(res, blob, 'application/octet-stream');
      return false;
    });
    const r = await runCli([...flagsFor(w.log.url, d.value), '--image-url', `${reg.host}/app@${d.value}`, '--output', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { accepted: { uuid: string }; warnings: string[] };
    expect(out.accepted.uuid).toBe(good.uuid);
    expect(out.warnings.join('\n')).toMatch(/10000 attestation layers; only the last 64 were read, 9936 skipped/);
    expect(reg.requests.filter((q) => q.url.includes('/blobs/'))).toHaveLength(64);
  });

  it('100 junk bundle referrers beside a valid log entry: the newest 64 are read, the rest skipped with a note, the log entry decides', async () => {
    const d = randomDigest();
    const good = logIntotoV001(w, provenance(d.value));
    const blobs = new Map<string, Buffer>();
    const manifests = new Map<string, Buffer>();
    const descriptors = Array.from({ length: 100 }, (_, i) => {
      const layer = json({ mediaType: BUNDLE_TYPE, junk: i });
      blobs.set(sha(layer), layer);
      const m = json({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        artifactType: BUNDLE_TYPE,
        config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha('{}'), size: 2 },
        layers: [{ mediaType: BUNDLE_TYPE, digest: sha(layer), size: layer.length }],
        subject: { mediaType: OCI_MANIFEST, digest: d.value, size: 100 },
      });
      manifests.set(sha(m), m);
      const created = new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString();
      return { mediaType: OCI_MANIFEST, digest: sha(m), size: m.length, artifactType: BUNDLE_TYPE, annotations: { 'org.opencontainers.image.created': created } };
    });
    // the two newest are missing, the third newest's bytes are not the ones its digest names
    const missing = new Set(descriptors.slice(-2).map((x) => x.digest));
    const lying = descriptors[97]?.digest;
    const reg = await fakeRegistry((p, _req, res) => {
      if (p === `/v2/app/referrers/${d.value}`) return served(res, json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: descriptors }), OCI_INDEX);
      const name = p.slice('/v2/app/manifests/'.length);
      if (name === lying) return served(res, json({ lie: true }), OCI_MANIFEST);
      const m = missing.has(name) ? undefined : manifests.get(name);
      if (m) return served(res, m, OCI_MANIFEST);
      const b = blobs.get(p.slice('/v2/app/blobs/'.length));
      if (b) return served(res, b, 'application/octet-stream');
      return false;
    });
    const r = await runCli([...flagsFor(w.log.url, d.value), '--image-url', `${reg.host}/app@${d.value}`, '--output', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { accepted: { uuid: string }; warnings: string[]; candidates: { code?: string }[] };
    expect(out.accepted.uuid).toBe(good.uuid);
    expect(out.warnings.join('\n')).toMatch(/100 Sigstore bundles listed; only the newest 64 were read, 36 skipped/);
    // one referrer that is missing or lies fails alone: a note, not a failed run
    for (const m of [...missing, lying]) expect(out.warnings.join('\n')).toContain(`referrer ${reg.host}/app@${m} skipped`);
    const fetched = reg.requests.filter((q) => q.url.startsWith('/v2/app/manifests/sha256:')).map((q) => q.url.slice('/v2/app/manifests/'.length));
    expect(fetched).toHaveLength(64);
    // the newest by their created annotation: the last 64 listed here
    expect(new Set(fetched)).toEqual(new Set(descriptors.slice(36).map((x) => x.digest)));
  });
});

describe('hostile log', () => {
  it('answers each under the per-response cap, but more than 64 MiB in all: exit 3 naming the per-run cap', async () => {
    const d = randomDigest();
    const fat = 'A'.repeat(1_500_000);
    const uuids = Array.from({ length: 300 }, randomUuid);
    // an extra field, which nothing validates (a byte-format attestation this size would cost ajv seconds);
    // the entry's JSON text is built once
    const text = JSON.stringify(junkEntry(1, { fat }));
    const log = await hostileLog({ searchFor: () => uuids, junkFor: () => text });
    const r = await runCli(flagsFor(log.url, d.value, 30), { env: RSS_ENV });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/\[RESPONSE_TOO_LARGE\].*per-run cap of 67108864 bytes/);
    expect(log.counts.retrieves).toBeLessThan(30);
    expect(peakRssMiB(r.stderr)).toBeLessThan(250); // about 160 MiB here; 1.2 GB before the cap
  });

  it('a search naming 180,000 entries: only the first 5,000 are fetched, the report says so and how many the log named; the good one still verifies', async () => {
    const d = randomDigest();
    const good = logIntotoV001(w, provenance(d.value));
    const junk = Array.from({ length: 180_000 }, randomUuid);
    const log = await hostileLog({ searchFor: () => [good.uuid, ...junk], junkFor: () => undefined });
    const r = await runCli([...flagsFor(log.url, d.value), '--output', 'json'], { env: RSS_ENV });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { accepted: { uuid: string }; warnings: string[] };
    expect(out.accepted.uuid).toBe(good.uuid);
    expect(out.warnings.join('\n')).toMatch(/the log's search named 180001 entries under sha256:[0-9a-f]{64}; only 5000 were checked/);
    // 500 batches of 10 (and a retry or two on a loaded machine), not 18,000
    expect(log.counts.retrieves).toBeGreaterThanOrEqual(500);
    expect(log.counts.retrieves).toBeLessThan(550);
  });

  it('5,000 entries named, one good among 4,999 junk ones served: verifies, peak RSS well under 300 MB', async () => {
    const d = randomDigest();
    const good = logIntotoV001(w, provenance(d.value));
    const junk = Array.from({ length: 4999 }, randomUuid);
    const log = await hostileLog({ searchFor: () => [...junk.slice(0, 2500), good.uuid, ...junk.slice(2500)], junkFor: (_u, i) => junkEntry(i) });
    const r = await runCli([...flagsFor(log.url, d.value), '--output', 'json'], { env: RSS_ENV });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { accepted: { uuid: string }; candidates: unknown[] };
    expect(out.accepted.uuid).toBe(good.uuid);
    expect(out.candidates).toHaveLength(5000);
    // ~150 MiB on a quiet machine; up to 235 MiB seen while other suites loaded both cores (the collector runs
    // later). The bound stays well under the 300 MB and far below the ~314 MB measured before the caps.
    expect(peakRssMiB(r.stderr)).toBeLessThan(256);
  });

  it('an entry with a field nested 10,000 deep beside a good one: the good one passes, the deep one fails alone, nothing is INTERNAL', async () => {
    const d = randomDigest();
    const good = logIntotoV001(w, provenance(d.value));
    const deep = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
    const deepBody = Buffer.from(`{"apiVersion":"0.0.1","kind":"intoto","spec":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`).toString('base64');
    const deepUuids = [randomUuid(), randomUuid()];
    const log = await hostileLog({
      searchFor: () => [...deepUuids, good.uuid],
      junkFor: (u, i) => (u === deepUuids[0] ? JSON.stringify(junkEntry(i)).replace(/}$/, `,"deep":${deep}}`) : { ...junkEntry(i), body: deepBody }),
    });
    const r = await runCli([...flagsFor(log.url, d.value), '--output', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr + r.stdout).not.toMatch(/INTERNAL|internal error|call stack/);
    const out = JSON.parse(r.stdout) as { accepted: { uuid: string }; candidates: { uuid: string; status: string; code?: string }[] };
    expect(out.accepted.uuid).toBe(good.uuid);
    const failed = out.candidates.filter((c) => c.status === 'failed');
    expect(failed.map((c) => c.uuid).sort()).toEqual([...deepUuids].sort());
  });
});

// These count the test log's requests: one at a time.
describe('careless operators', () => {
  it('--timeout 3600000 (milliseconds given as seconds): a usage error naming the maximum, before any request', async () => {
    const d = randomDigest();
    const before = w.log.requests.length;
    const r = await runCli([...worldFlags(w, d.value), '--key', w.keyPath, '--timeout', '3600000']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/--timeout 3600000 is more than the maximum of 600 seconds/);
    expect(w.log.requests.length).toBe(before);
  });

  it('a results directory that takes no write (full disk): exit 2 naming the directory, before any request', async () => {
    const d = randomDigest();
    logIntotoV001(w, provenance(d.value));
    const dir = path.join(w.dir, 'results-full-at-start');
    mkdirSync(dir);
    symlinkSync('/dev/full', path.join(dir, '.VERIFIED.tmp'));
    const before = w.log.requests.length;
    const r = await runCli([...worldFlags(w, d.value), '--key', w.keyPath, '--results-dir', dir]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/\[BAD_RESULTS_DIR\]/);
    expect(r.stderr).toContain(dir);
    expect(r.stderr).toMatch(/ENOSPC/);
    expect(w.log.requests.length).toBe(before);
  });

  it('a results directory that fills up after a pass: exit 2 naming the directory (never INTERNAL), no VERIFIED on stdout, VERIFIED=false on disk', async () => {
    const d = randomDigest();
    logIntotoV001(w, provenance(d.value));
    const dir = path.join(w.dir, 'results-full-at-end');
    mkdirSync(dir);
    symlinkSync('/dev/full', path.join(dir, '.SIGNER.tmp'));
    const r = await runCli([...worldFlags(w, d.value), '--key', w.keyPath, '--results-dir', dir]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/\[BAD_RESULTS_DIR\].*could not write the SIGNER result.*ENOSPC/);
    expect(r.stderr).toContain(dir);
    expect(r.stdout).not.toMatch(/VERIFIED/);
    expect(readFileSync(path.join(dir, 'VERIFIED'), 'utf8')).toBe('false');
  });
});
