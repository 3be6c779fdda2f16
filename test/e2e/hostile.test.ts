/**
 * The bundled CLI against hostile or broken peers on 127.0.0.1 (issue 15, point 7): a registry that drips,
 * a log that floods, searches naming huge numbers of entries, manifests with thousands of layers, entries
 * nested past the stack, junk referrers, a full results directory, and absurd flag values. Every test is
 * bounded in requests and time; none asserts on timings, only on outcomes (exit code, message, counts).
 */
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRESENT_CAPS } from '../../src/net/budget.ts';
import { attManifest, BUNDLE_TYPE, fakeRegistry as registryOf, heavyInput, json, OCI_INDEX, OCI_MANIFEST, peers, served, sha } from '../fixtures/hostile-peers.ts';
import { logIntotoV001, provenance, randomDigest, runCli, startWorld, worldFlags, type World } from '../fixtures/world.ts';

let w: World;
const p = peers();
beforeAll(async () => {
  w = await startWorld();
});
afterAll(async () => {
  await p.close();
  await w.close();
});

const fakeRegistry = (routes: Parameters<typeof registryOf>[1]): ReturnType<typeof registryOf> => registryOf(p, routes);

function flagsFor(logUrl: string, digest: string, timeout = 5): string[] {
  return ['verify', '--image-digest', digest, '--rekor-url', logUrl, '--trusted-root', w.trustedRootPath, '--key', w.keyPath, '--timeout', String(timeout)];
}

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
    const { att, blob } = attManifest(60);
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
    const h = await heavyInput('an .att manifest of 10,000 layers').setUp(p, w);
    const r = await runCli([...flagsFor(h.rekorUrl, h.digest), '--image-url', h.imageUrl!, '--output', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { accepted: { uuid: string }; warnings: string[] };
    expect(out.accepted.uuid).toBe(h.good?.uuid);
    expect(out.warnings.join('\n')).toMatch(/10000 attestation layers; only the last 64 were read, 9936 skipped/);
    expect(h.registry!.requests.filter((q) => q.url.includes('/blobs/'))).toHaveLength(64);
  });

  it('10,000 junk bundle referrers (none of them there): the newest 64 are asked for, the rest skipped with a note, the log entry decides', async () => {
    const h = await heavyInput('10,000 junk bundle referrers').setUp(p, w);
    const r = await runCli([...flagsFor(h.rekorUrl, h.digest), '--image-url', h.imageUrl!, '--output', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { accepted: { uuid: string }; warnings: string[] };
    expect(out.accepted.uuid).toBe(h.good?.uuid);
    expect(out.warnings.join('\n')).toMatch(/10000 Sigstore bundles listed; only the newest 64 were read, 9936 skipped/);
    expect(h.registry!.requests.filter((q) => q.url.startsWith('/v2/app/manifests/sha256:'))).toHaveLength(64);
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
    const h = await heavyInput('a flood of 1.5 MB entries').setUp(p, w);
    const r = await runCli(flagsFor(h.rekorUrl, h.digest, h.timeoutSeconds));
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/\[RESPONSE_TOO_LARGE\].*per-run cap of 67108864 bytes/);
    expect(h.log!.counts.retrieves).toBeLessThan(30);
  });

  it('a search naming 180,000 entries: only the first 5,000 are fetched, the report says so and how many the log named; the good one still verifies', async () => {
    const h = await heavyInput('a search naming 180,001 UUIDs').setUp(p, w);
    const r = await runCli([...flagsFor(h.rekorUrl, h.digest), '--output', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { accepted: { uuid: string }; warnings: string[] };
    expect(out.accepted.uuid).toBe(h.good?.uuid);
    expect(out.warnings.join('\n')).toMatch(/the log's search named 180001 entries under sha256:[0-9a-f]{64}; only 5000 were checked/);
    // 500 batches of 10 (and a retry or two on a loaded machine), not 18,000
    expect(h.log!.counts.retrieves).toBeGreaterThanOrEqual(500);
    expect(h.log!.counts.retrieves).toBeLessThan(550);
  });

  it('5,000 entries named, one good among 4,999 junk ones served: verifies, every candidate reported (memory: test/container/memory.test.ts)', async () => {
    const h = await heavyInput('5,000 candidates').setUp(p, w);
    const r = await runCli([...flagsFor(h.rekorUrl, h.digest), '--output', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { accepted: { uuid: string }; candidates: unknown[] };
    expect(out.accepted.uuid).toBe(h.good?.uuid);
    expect(out.candidates).toHaveLength(5000);
  });

  it('an entry with a field nested 10,000 deep beside a good one: the good one passes, the deep one fails alone, nothing is INTERNAL', async () => {
    const h = await heavyInput('entries nested 10,000 deep').setUp(p, w);
    const r = await runCli([...flagsFor(h.rekorUrl, h.digest), '--output', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr + r.stdout).not.toMatch(/INTERNAL|internal error|call stack/);
    const out = JSON.parse(r.stdout) as { accepted: { uuid: string }; candidates: { uuid: string; status: string; code?: string }[] };
    expect(out.accepted.uuid).toBe(h.good?.uuid);
    expect(out.candidates.filter((c) => c.status === 'failed')).toHaveLength(2);
  });

  it.each(['a 50 MB search answer', 'an endless search answer', 'a gzip bomb'])('%s: exit 3, one line, nothing INTERNAL', async (name) => {
    const input = heavyInput(name);
    const h = await input.setUp(p, w);
    const r = await runCli(flagsFor(h.rekorUrl, h.digest, h.timeoutSeconds));
    const end = input.end(PRESENT_CAPS);
    expect(r.code, r.stderr).toBe(end.code);
    if (end.message) expect(r.stderr).toMatch(end.message);
    expect(r.stderr).not.toMatch(/INTERNAL|internal error/);
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
