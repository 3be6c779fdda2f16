/**
 * `npm run bench`: time to verdict, HTTP requests, the whole process by phase, cold start, verification
 * throughput and peak memory, against the test Rekor log on 127.0.0.1 with an injected per-request latency.
 * Writes bench/RESULTS.md, bench/results.json and bench/time-to-verdict.svg. See `node bench/run.ts --help`.
 *
 * The log runs in this process; the CLI (dist/, built by `npm run build`) and the in-process measurements
 * (bench/worker.ts) run as child processes, so that the log's own work (it signs a checkpoint and a SET for
 * every entry it serves) is not counted against them and their peak memory is their own.
 * bench/options.ts: settings; process.ts: timed children; log-runs.ts: scenarios and runs against the log;
 * cold-start.ts: runs with no request (and the image); heavy.ts: peak memory of each hostile input, alone;
 * report.ts: RESULTS.md and the chart.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { repoRoot } from '../test/fixtures/paths.ts';
import { generateSigner } from '../test/fixtures/signers.ts';
import { logIntotoV001, provenance, randomDigest, startWorld } from '../test/fixtures/world.ts';
import { coldStart, imageEntrypoint } from './cold-start.ts';
import { heavyRuns } from './heavy.ts';
import { imagesRun, IMAGES_N } from './images.ts';
import { cliRun, populate, runWorker, stampArrivals } from './log-runs.ts';
import { BASELINE_BUDGET_S, BASELINE_MAX_N, CLI, COLD_RUNS, IMAGE, LATENCY_MS, OUT_DIR, PEER_SIZES, PEERS_ON, PEERS_ONLY, RENDER_ONLY, RUNS, RUNS_LARGE, SIZES, TIME_BIN } from './options.ts';
import { peersRun } from './peers.ts';
import { setScratchDir } from './process.ts';
import { machine, render } from './report.ts';
import type { BenchData, CliRun, Settings, SizeResult } from './types.ts';
import type { WorkerResult } from './worker.ts';

const started = performance.now();
const log = (line: string): void => {
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}\n`);
};

async function main(): Promise<void> {
  if (!existsSync(CLI)) {
    process.stderr.write(`bench: ${path.relative(repoRoot, CLI)} is missing: run "npm run build" first (npm run bench does)\n`);
    process.exit(2);
  }
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'rekor-gate-bench-'));
  setScratchDir(scratch);
  const info = machine();
  const date = new Date().toISOString();
  log(`machine: ${info['cpus']}, ${info['memory']}, Node ${info['node']}, load ${info['loadavg']}`);
  const w = await startWorld();
  stampArrivals(w);
  try {
    log('populating the test log');
    const untrusted = generateSigner('ecdsa-p256');
    const scenarios = SIZES.map((n) => populate(w, n, untrusted));
    const passingSet = populate(w, 1, untrusted); // then 999 more passing entries under the same digest
    for (let i = 0; i < 999; i++) logIntotoV001(w, provenance(passingSet.digest, { materials: [randomDigest().value] }));
    log(`log holds ${w.log.treeSize} entries`);

    log(`cold start (${COLD_RUNS} runs per command)`);
    const cold = await coldStart();
    log(`step image entrypoint (${IMAGE})`);
    const image = await imageEntrypoint(IMAGE);
    if (!Array.isArray(image)) log(`  skipped: ${image.skipped}`);

    w.log.faults.latencyMs = LATENCY_MS;
    const sizes: SizeResult[] = [];
    for (const sc of scenarios) {
      const runs = sc.n >= 1000 ? RUNS_LARGE : RUNS;
      log(`N=${sc.n}: CLI x${runs}`);
      const cli: CliRun[] = [];
      for (let i = 0; i < runs; i++) cli.push(await cliRun(w, sc));
      log(`N=${sc.n}: in-process x${runs}`);
      const job = { url: w.log.url, digest: sc.digest, keyPath: w.keyPath, trustedRootPath: w.trustedRootPath, expectUuid: sc.passing };
      const inProcess = await runWorker(w, { ...job, kind: 'verify', runs, warmup: 1 });
      const res: SizeResult = { n: sc.n, cli, inProcess };
      if (sc.n > BASELINE_MAX_N) {
        res.baselineSkipped = `skipped (--baseline-max-n ${BASELINE_MAX_N})`;
      } else {
        const estimateS = ((sc.n + 1) * (LATENCY_MS + 2)) / 1000;
        const bRuns = Math.max(1, Math.min(runs, Math.floor(BASELINE_BUDGET_S / Math.max(estimateS, 0.001))));
        log(`N=${sc.n}: sequential baseline x${bRuns} (~${(estimateS * bRuns).toFixed(0)} s)`);
        res.baseline = await runWorker(w, { ...job, kind: 'baseline', runs: bRuns, warmup: 0 });
      }
      sizes.push(res);
    }

    log(`--images: ${IMAGES_N} images in a registry, CLI x${RUNS}`);
    const images = await imagesRun(w, RUNS);
    if ('skipped' in images) log(`  skipped: ${images.skipped}`);

    let peers: BenchData['peers'];
    if (PEERS_ON) {
      log(`the real peers: rekor-cli and cosign v2/v3 beside rekor-gate on the real Rekor v1, N=${PEER_SIZES.join(',')}`);
      peers = await peersRun(LATENCY_MS, 3, PEER_SIZES, log);
      if ('skipped' in peers) log(`  skipped: ${peers.skipped}`);
    }

    const big = scenarios.find((s) => s.n === Math.max(...SIZES));
    let verify1000: WorkerResult | undefined;
    if (big) {
      log(`peak memory: in-process N=${big.n}, one run in a fresh child`);
      verify1000 = await runWorker(w, { kind: 'verify', url: w.log.url, digest: big.digest, keyPath: w.keyPath, trustedRootPath: w.trustedRootPath, expectUuid: big.passing, runs: 1, warmup: 0 });
    }
    w.log.faults.latencyMs = 0; // network excluded from here on
    const base = { url: w.log.url, keyPath: w.keyPath, trustedRootPath: w.trustedRootPath };
    const idle = await runWorker(w, { ...base, kind: 'idle', digest: passingSet.digest, runs: 0, warmup: 0 });
    log('throughput: checkCandidate over pre-fetched entries');
    const mixed = await runWorker(w, { ...base, kind: 'throughput', digest: (big ?? passingSet).digest, runs: 5, warmup: 1 });
    const passing = await runWorker(w, { ...base, kind: 'throughput', digest: passingSet.digest, runs: 5, warmup: 1 });

    log('heavy inputs: one CLI process each, alone');
    const heavy = await heavyRuns(w, log);

    const durationS = (performance.now() - started) / 1000;
    const loadEnd = os.loadavg().map((l) => l.toFixed(2)).join(' ');
    const settings: Settings = { latencyMs: LATENCY_MS, runs: RUNS, runsLarge: RUNS_LARGE, coldRuns: COLD_RUNS, baselineBudgetS: BASELINE_BUDGET_S, timeBin: TIME_BIN !== undefined };
    const data: BenchData = { date, info, loadEnd, settings, cold, image, sizes, images, ...(peers ? { peers } : {}), throughput: { mixed, passing }, memory: { ...(verify1000 ? { verify1000 } : {}), idle }, heavy, durationS };
    writeFileSync(path.join(OUT_DIR, 'results.json'), `${JSON.stringify(data, null, 2)}\n`);
    render(data, OUT_DIR);
    log(`wrote ${path.relative(process.cwd(), path.join(OUT_DIR, 'RESULTS.md'))}, results.json, time-to-verdict.svg in ${durationS.toFixed(0)} s`);
  } finally {
    await w.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** `--peers only`: the peers measured again, the other figures kept from results.json. */
async function peersOnly(): Promise<void> {
  const file = path.join(OUT_DIR, 'results.json');
  const data = JSON.parse(readFileSync(file, 'utf8')) as BenchData;
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'rekor-gate-bench-'));
  setScratchDir(scratch);
  try {
    data.peers = await peersRun(LATENCY_MS, 3, PEER_SIZES, log);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  render(data, OUT_DIR);
  log(`wrote the peers into ${path.relative(process.cwd(), path.join(OUT_DIR, 'RESULTS.md'))} and results.json`);
}

(RENDER_ONLY ? Promise.resolve(render(JSON.parse(readFileSync(path.join(OUT_DIR, 'results.json'), 'utf8')) as BenchData, OUT_DIR)) : PEERS_ONLY ? peersOnly() : main()).catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
