/**
 * The bundled CLI against a misbehaving log: retried 503s, 429 with Retry-After, a log that never answers,
 * a log that is down, waiting for an entry that arrives late, and audit mode.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closedLoopbackPort } from '../fixtures/loopback-guard.ts';
import { logIntotoV001, provenance, randomDigest, runCli, startWorld, worldFlags, type CliResult, type World } from '../fixtures/world.ts';

let w: World;
beforeAll(async () => {
  w = await startWorld();
});
afterAll(async () => {
  await w.close();
});
afterEach(() => {
  w.log.faults.reset();
});

const SEARCH = '/api/v1/index/retrieve';

async function timed(p: Promise<CliResult>): Promise<CliResult & { ms: number }> {
  const t0 = performance.now();
  const r = await p;
  return { ...r, ms: performance.now() - t0 };
}

/** One line of the CLI's own, no stack trace. */
function expectOneLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/^\s+at /m);
  return lines[0] ?? '';
}

/** The test log's requests from now on, each with when it arrived (the log records the time). */
function watchRequests(w: World): { stop(): { path: string; body?: unknown; at: number }[] } {
  const first = w.log.requests.length;
  return { stop: () => w.log.requests.slice(first) };
}

/** The searches for `digest` among the watched requests, and the time between the first two. */
function searchesFor(seen: { path: string; body?: unknown; at: number }[], digest: string): { count: number; gap: number } {
  const searches = seen.filter((q) => q.path === SEARCH && (q.body as { hash?: string } | undefined)?.hash === digest);
  return { count: searches.length, gap: (searches[1]?.at ?? Number.NaN) - (searches[0]?.at ?? Number.NaN) };
}

describe('rekor-gate verify against a faulty log (fault knobs: one test at a time)', () => {
  it('retries 503 twice, then verifies (exit 0)', async () => {
    const d = randomDigest();
    logIntotoV001(w, provenance(d.value));
    w.log.faults.failNext(2, 503, { match: SEARCH });
    const before = w.log.requests.length;
    const r = await runCli([...worldFlags(w, d.value), '--key', w.keyPath]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`VERIFIED ${d.value}`);
    expect(w.log.faults.pendingFailures).toBe(0);
    expect(w.log.requests.slice(before).filter((q) => q.path === SEARCH)).toHaveLength(3);
  });

  it('honours 429 with Retry-After: 1 (exit 0, at least 1 s later)', async () => {
    const d = randomDigest();
    logIntotoV001(w, provenance(d.value));
    w.log.faults.failNext(1, 429, { retryAfter: 1, match: SEARCH });
    const watch = watchRequests(w);
    const r = await timed(runCli([...worldFlags(w, d.value), '--key', w.keyPath]));
    const searches = searchesFor(watch.stop(), d.value);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`VERIFIED ${d.value}`);
    expect(r.ms).toBeGreaterThanOrEqual(1000);
    // the retry waited for Retry-After (1 s), not for the first backoff step (125-250 ms)
    expect(searches.count).toBe(2);
    expect(searches.gap).toBeGreaterThanOrEqual(950);
  });

  it('a log that never answers: exit 3 within the time budget, one line naming the URL', async () => {
    const d = randomDigest();
    w.log.faults.hang = true;
    const results = path.join(w.dir, 'results-hang');
    // not worldFlags: it already gives --timeout, and a repeated --timeout is not the last one (see the report)
    const flags = ['verify', '--image-digest', d.value, '--rekor-url', w.log.url, '--trusted-root', w.trustedRootPath];
    const watch = watchRequests(w);
    const r = await timed(runCli([...flags, '--key', w.keyPath, '--timeout', '1', '--results-dir', results]));
    const seen = watch.stop();
    const end = performance.now();
    expect(r.code, r.stderr).toBe(3);
    const line = expectOneLine(r.stderr);
    expect(line).toContain(`${w.log.url}${SEARCH}`);
    expect(line).toMatch(/\[NETWORK\]/);
    expect(line).toMatch(/failed after 4 attempts .*timed out after 1000 ms/);
    // 4 attempts of 1 s plus backoff (at most 1.75 s): about 6 s from the first attempt. No upper bound on that
    // (load moves it); the run as a whole is bounded at many times it, still under the 120 s that 4 attempts at
    // the 30 s default --timeout would take.
    expect(seen.filter((q) => q.path === SEARCH)).toHaveLength(4);
    expect(end - (seen[0]?.at ?? 0)).toBeGreaterThanOrEqual(3900);
    expect(r.ms).toBeLessThan(60_000);
    expect(readFileSync(path.join(results, 'VERIFIED'), 'utf8')).toBe('false');
  }, 90_000);
});

// No fault knob in these: they run side by side (each on its own digest).
describe.concurrent('rekor-gate verify: an unreachable log, waiting, audit mode', () => {
  it('a log that is down (closed port): exit 3, one line naming the URL', async () => {
    const d = randomDigest();
    const url = `http://127.0.0.1:${await closedLoopbackPort()}`;
    const r = await runCli(['verify', '--image-digest', d.value, '--rekor-url', url, '--trusted-root', w.trustedRootPath, '--key', w.keyPath, '--timeout', '2']);
    expect(r.code, r.stderr).toBe(3);
    const line = expectOneLine(r.stderr);
    expect(line).toContain(url);
    expect(line).toMatch(/ECONNREFUSED/);
  });

  it('--wait 10 finds an entry logged 1.5 s after its first search (exit 0) and says what it waits for', async () => {
    const d = randomDigest();
    let logged: string | undefined;
    let timer: NodeJS.Timeout | undefined;
    // the entry is logged 1.5 s after the CLI's first search reached the log (not after the spawn: start-up
    // time varies), so that the first poll finds nothing
    const searched = (): boolean => w.log.requests.some((q) => q.path === SEARCH && (q.body as { hash?: string } | undefined)?.hash === d.value);
    const arm = setInterval(() => {
      if (!searched()) return;
      clearInterval(arm);
      timer = setTimeout(() => {
        logged = logIntotoV001(w, provenance(d.value)).uuid;
      }, 1500);
    }, 5);
    try {
      const watch = watchRequests(w);
      const r = await timed(runCli([...worldFlags(w, d.value), '--key', w.keyPath, '--wait', '10']));
      const searches = searchesFor(watch.stop(), d.value);
      expect(r.code, r.stderr).toBe(0);
      expect(logged).toBeDefined();
      expect(r.stdout).toContain(`VERIFIED ${d.value}`);
      expect(r.stdout).toContain(`entry:     ${logged}`);
      expect(r.stderr).toMatch(new RegExp(`^waiting for an acceptable attestation of ${d.value} \\(no entry in the log or the registry names this digest\\); polling again in 2\\.0s, (10|9)s left$`, 'm'));
      // found by the second poll, 2 s after the first (the message names the pause; load can only lengthen it)
      expect(searches.count).toBe(2);
      expect(searches.gap).toBeGreaterThanOrEqual(1700);
    } finally {
      clearInterval(arm);
      clearTimeout(timer);
    }
  });

  it('--wait 1 with nothing in the log: exit 1 after about 1 s', async () => {
    const d = randomDigest();
    const watch = watchRequests(w);
    const r = await timed(runCli([...worldFlags(w, d.value), '--key', w.keyPath, '--wait', '1']));
    const searches = searchesFor(watch.stop(), d.value);
    expect(r.code, r.stderr).toBe(1);
    // a search, a pause for what is left of the 1 s (not the 2 s poll interval: the message names it), a last search
    expect(searches.count).toBe(2);
    expect(searches.gap).toBeGreaterThanOrEqual(700);
    expect(r.stderr).toMatch(/polling again in (0\.\d|1\.0)s, 1s left/);
    expect(r.stdout).toContain(`NOT VERIFIED ${d.value}: no entry in the log or the registry names this digest`);
    expect(r.ms).toBeGreaterThanOrEqual(1000);
    // a hang guard only: about 1.5 s with start-up, bounded at many times that
    expect(r.ms).toBeLessThan(30_000);
  });

  it('--no-fail-on-unverified: exit 0 with VERIFIED=false written', async () => {
    const d = randomDigest();
    const results = path.join(w.dir, 'results-audit');
    const r = await runCli([...worldFlags(w, d.value), '--key', w.keyPath, '--no-fail-on-unverified', '--results-dir', results]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`NOT VERIFIED ${d.value}`);
    expect(readFileSync(path.join(results, 'VERIFIED'), 'utf8')).toBe('false');
    expect(readFileSync(path.join(results, 'REKOR_UUID'), 'utf8')).toBe('');
    expect(JSON.parse(readFileSync(path.join(results, 'REPORT'), 'utf8'))).toMatchObject({ verified: false, digest: d.value, total: 0 });
  });

  it('--no-fail-on-unverified also turns an unreachable log into exit 0 with VERIFIED=false', async () => {
    const d = randomDigest();
    const url = `http://127.0.0.1:${await closedLoopbackPort()}`;
    const results = path.join(w.dir, 'results-audit-down');
    const r = await runCli([
      'verify', '--image-digest', d.value, '--rekor-url', url, '--trusted-root', w.trustedRootPath,
      '--key', w.keyPath, '--timeout', '2', '--no-fail-on-unverified', '--results-dir', results,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(url);
    expect(readFileSync(path.join(results, 'VERIFIED'), 'utf8')).toBe('false');
    expect(readFileSync(path.join(results, 'REPORT'), 'utf8')).toContain('[NETWORK]');
  });
});
