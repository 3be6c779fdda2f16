/** The test log's scenarios and the runs against it: the CLI as a whole process, and bench/worker.ts in-process. */
import { performance } from 'node:perf_hooks';
import type { generateSigner } from '../test/fixtures/signers.ts';
import { logIntotoV001, provenance, randomDigest, type World } from '../test/fixtures/world.ts';
import { CLI, WORKER } from './options.ts';
import { cleanEnv, node, runProcess } from './process.ts';
import type { CliRun } from './types.ts';
import type { RequestCounts, WorkerJob, WorkerResult } from './worker.ts';

export type Scenario = { n: number; digest: string; passing: string };

/**
 * N candidates under one digest: N-1 that fail (alternately: signed by a key the policy does not trust, and
 * a material-digest hit, i.e. provenance of another image that used this one as a material) and, added last,
 * the one that passes.
 */
export function populate(w: World, n: number, untrusted: ReturnType<typeof generateSigner>): Scenario {
  const d = randomDigest().value;
  for (let i = 0; i < n - 1; i++) {
    if (i % 2 === 0) logIntotoV001(w, provenance(d, { materials: [randomDigest().value] }), { signer: untrusted });
    else logIntotoV001(w, provenance(randomDigest().value, { materials: [d] }));
  }
  const passing = logIntotoV001(w, provenance(d));
  return { n, digest: d, passing: passing.uuid };
}

export function classify(paths: readonly string[]): RequestCounts {
  const c: RequestCounts = { search: 0, retrieve: 0, get: 0, other: 0 };
  for (const p of paths) {
    const pathname = new URL(p, 'http://x').pathname;
    if (pathname === '/api/v1/index/retrieve') c.search++;
    else if (pathname === '/api/v1/log/entries/retrieve') c.retrieve++;
    else if (pathname.startsWith('/api/v1/log/entries/')) c.get++;
    else c.other++;
  }
  return c;
}
export const totalOf = (c: RequestCounts): number => c.search + c.retrieve + c.get + c.other;
export const fmtCounts = (c: RequestCounts): string =>
  [`${c.search} search`, `${c.retrieve} retrieve`, ...(c.get ? [`${c.get} GET`] : []), ...(c.other ? [`${c.other} other`] : [])].join(' + ');
export const requestTarget = (n: number): number => 1 + Math.ceil(n / 10);

export async function runWorker(w: World, job: WorkerJob): Promise<WorkerResult> {
  const before = w.log.requests.length;
  const r = await runProcess([node, WORKER, JSON.stringify(job)], { env: cleanEnv() });
  if (r.code !== 0) throw new Error(`worker ${job.kind} failed (exit ${r.code}):\n${r.stderr}`);
  const result = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as WorkerResult;
  const served = w.log.requests.length - before;
  if (served !== result.totalRequests) {
    throw new Error(`worker ${job.kind}: the log served ${served} requests, the client counted ${result.totalRequests}`);
  }
  return result;
}

/** Arrival times (performance.now()) of the log's recorded requests, index for index. */
const arrivals: number[] = [];
export function stampArrivals(w: World): void {
  const requests = w.log.requests;
  // The log records each request with requests.push() (after reading its body, before the injected latency).
  Object.defineProperty(requests, 'push', {
    value: (...items: typeof requests) => {
      for (let i = 0; i < items.length; i++) arrivals[requests.length + i] = performance.now();
      return Array.prototype.push.apply(requests, items);
    },
  });
}

/** One whole-process verdict: `node dist/rekor-gate.js verify ...` (the step image's ENTRYPOINT), checked to accept the passing entry. */
export async function cliRun(w: World, sc: Scenario): Promise<CliRun> {
  const before = w.log.requests.length;
  const args = ['verify', '--image-digest', sc.digest, '--rekor-url', w.log.url, '--trusted-root', w.trustedRootPath, '--key', w.keyPath, '--output', 'json', '--timeout', '30'];
  const t0 = performance.now();
  const r = await runProcess([node, CLI, ...args], { env: cleanEnv() });
  const requests = classify(w.log.requests.slice(before).map((q) => q.path));
  const stamps = arrivals.slice(before, w.log.requests.length);
  let accepted: string | undefined;
  try {
    accepted = (JSON.parse(r.stdout) as { accepted?: { uuid?: string } }).accepted?.uuid;
  } catch {
    accepted = undefined;
  }
  if (r.code !== 0 || accepted !== sc.passing) {
    throw new Error(`CLI N=${sc.n}: expected exit 0 accepting ${sc.passing}, got exit ${r.code}, accepted ${accepted}\n${r.stderr}\n${r.stdout.slice(0, 2000)}`);
  }
  return {
    ms: r.wallMs,
    ...(r.cpuMs !== undefined ? { cpuMs: r.cpuMs } : {}),
    ...(r.maxRssKB !== undefined ? { maxRssKB: r.maxRssKB } : {}),
    requests,
    ...(stamps.length > 0 ? { firstRequestMs: (stamps[0] as number) - t0, lastRequestMs: (stamps[stamps.length - 1] as number) - t0 } : {}),
  };
}
