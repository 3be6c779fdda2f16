/**
 * The in-process side of the benchmark, run by bench/run.ts as a child process (one per job) so that the
 * test log's own work (it signs a checkpoint and a SET for every entry it serves) stays in the parent and
 * the child's peak memory is its own. Usage: `node bench/worker.ts '<job JSON>'`; prints one JSON line.
 *
 * Jobs:
 * - verify:     `verify()` with `rekorSearchFinder` (one search, batched concurrent retrieves), as the CLI does;
 * - baseline:   the same checks and decision, entries fetched the `rekor-cli search --sha` + `rekor-cli get --uuid`
 *               way: one search, then one GET /api/v1/log/entries/{uuid} per result, one after another;
 * - throughput: entries fetched once, then `checkCandidate` timed over them (network excluded);
 * - idle:       loads the modules and trust, does nothing (the memory floor).
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { policyFromFlags } from '../src/cli/inputs.ts';
import { parseImageDigest, type ImageDigest } from '../src/digest.ts';
import { createHttp, type Http } from '../src/net/http.ts';
import { createRekorClient, type RekorClient } from '../src/rekor/client.ts';
import { trustFromTrustedRoot } from '../src/trust/index.ts';
import { checkCandidate } from '../src/verify/check-candidate.ts';
import { rekorSearchFinder } from '../src/verify/finders.ts';
import type { Candidate } from '../src/verify/candidate.ts';
import type { CandidateOutcome } from '../src/verify/types.ts';
import { verify, type CandidateFinder } from '../src/verify/verifier.ts';

export type RequestCounts = { search: number; retrieve: number; get: number; other: number };

export type WorkerJob = {
  kind: 'verify' | 'baseline' | 'throughput' | 'idle';
  url: string;
  digest: string;
  keyPath: string;
  trustedRootPath: string;
  /** verify / baseline: timed runs; throughput: timed passes over the fetched entries. */
  runs: number;
  /** Untimed runs first (JIT warm-up, module initialisation). */
  warmup: number;
  /** The UUID the verdict must accept (a sanity check; the job fails otherwise). */
  expectUuid?: string;
};

export type VerifyRun = {
  ms: number;
  /** Time inside the finder (search + fetch), the rest is checking and deciding. */
  fetchMs: number;
  requests: RequestCounts;
  candidates: number;
  verified: boolean;
};

export type WorkerResult = {
  kind: WorkerJob['kind'];
  runs: VerifyRun[];
  /** throughput: entries per second of each pass. */
  entriesPerSecond?: number[];
  /** throughput: outcomes by status (of the last pass). */
  statuses?: Record<string, number>;
  entries?: number;
  /** Client-side request count over the whole job (warm-up included), checked against the log's count by run.ts. */
  totalRequests: number;
  maxRssKB: number;
};

function countingHttp(inner: Http, counts: RequestCounts): Http {
  const count = (target: string | URL): void => {
    const p = new URL(String(target)).pathname;
    if (p === '/api/v1/index/retrieve') counts.search++;
    else if (p === '/api/v1/log/entries/retrieve') counts.retrieve++;
    else if (p.startsWith('/api/v1/log/entries/')) counts.get++;
    else counts.other++;
  };
  return {
    request: (target, opts) => (count(target), inner.request(target, opts)),
    json: (target, opts) => (count(target), inner.json(target, opts)),
    close: () => inner.close(),
  };
}

/** `rekor-cli search --sha <digest>`, then `rekor-cli get --uuid <uuid>` for each result, one after another. */
function sequentialFinder(rekor: RekorClient, digest: ImageDigest): CandidateFinder {
  return async () => {
    const uuids = await rekor.searchByDigest(digest);
    const out: Candidate[] = [];
    for (const u of uuids) {
      const r = await rekor.getByUUID(u);
      out.push({ kind: 'entry', uuid: r.uuid, entry: r.entry, sources: ['rekor-search'] });
    }
    return out;
  };
}

const zero = (): RequestCounts => ({ search: 0, retrieve: 0, get: 0, other: 0 });

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '') as WorkerJob;
  const digest = parseImageDigest(job.digest);
  const trust = trustFromTrustedRoot(JSON.parse(readFileSync(job.trustedRootPath, 'utf8')), `--trusted-root ${job.trustedRootPath}`);
  const policy = policyFromFlags({ key: [job.keyPath] });
  let totalRequests = 0;

  /** One verification from scratch: a new HTTP agent (new connections), client and finder. */
  async function once(): Promise<VerifyRun> {
    const requests = zero();
    const http = countingHttp(createHttp({ timeoutMs: 30_000, retries: 0 }), requests);
    try {
      const rekor = createRekorClient(job.url, http);
      const inner = job.kind === 'baseline' ? sequentialFinder(rekor, digest) : rekorSearchFinder(rekor, digest);
      let fetchMs = 0;
      const finder: CandidateFinder = async () => {
        const t = performance.now();
        try {
          return await inner();
        } finally {
          fetchMs += performance.now() - t;
        }
      };
      const t0 = performance.now();
      const verdict = await verify(
        { digest, rekorUrl: job.url, policy, trust, waitSeconds: 0 },
        { finders: [finder], entryUrl: (u) => rekor.entryUrl(u), progress: () => {}, sleep: async () => {}, now: () => Date.now() },
      );
      const ms = performance.now() - t0;
      if (job.expectUuid && verdict.accepted?.uuid !== job.expectUuid) {
        throw new Error(`${job.kind} N=${verdict.candidates.length}: expected ${job.expectUuid} to be accepted, got ${verdict.accepted?.uuid ?? `nothing (${verdict.reason})`}`);
      }
      return { ms, fetchMs, requests, candidates: verdict.candidates.length, verified: verdict.verified };
    } finally {
      totalRequests += Object.values(requests).reduce((a, b) => a + b, 0);
      await http.close();
    }
  }

  const result: WorkerResult = { kind: job.kind, runs: [], totalRequests: 0, maxRssKB: 0 };
  if (job.kind === 'verify' || job.kind === 'baseline') {
    for (let i = 0; i < job.warmup; i++) await once();
    for (let i = 0; i < job.runs; i++) result.runs.push(await once());
  } else if (job.kind === 'throughput') {
    const requests = zero();
    const http = countingHttp(createHttp({ timeoutMs: 30_000, retries: 0 }), requests);
    const candidates = await rekorSearchFinder(createRekorClient(job.url, http), digest)();
    await http.close();
    totalRequests += Object.values(requests).reduce((a, b) => a + b, 0);
    const ctx = { digest, trust, policy, now: Math.floor(Date.now() / 1000) };
    const eps: number[] = [];
    let outcomes: CandidateOutcome[] = [];
    for (let i = 0; i < job.warmup + job.runs; i++) {
      const t0 = performance.now();
      outcomes = candidates.map((c) => checkCandidate(c, ctx));
      const ms = performance.now() - t0;
      if (i >= job.warmup) eps.push((candidates.length / ms) * 1000);
    }
    result.entriesPerSecond = eps;
    result.entries = candidates.length;
    result.statuses = {};
    for (const o of outcomes) result.statuses[o.status] = (result.statuses[o.status] ?? 0) + 1;
  }
  result.totalRequests = totalRequests;
  result.maxRssKB = process.resourceUsage().maxRSS;
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench worker: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
