/**
 * `npm run bench`: time to verdict, HTTP requests, cold start, verification throughput and peak memory,
 * against the test Rekor log on 127.0.0.1 with an injected per-request latency. Writes bench/RESULTS.md,
 * bench/results.json and bench/time-to-verdict.svg. See `node bench/run.ts --help`.
 *
 * The log runs in this process; the CLI (dist/rekor-gate.js, built by `npm run build`) and the in-process
 * measurements (bench/worker.ts) run as child processes, so that the log's own work (it signs a checkpoint
 * and a SET for every entry it serves) is not counted against them and their peak memory is their own.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { repoRoot } from '../test/fixtures/paths.ts';
import { generateSigner } from '../test/fixtures/signers.ts';
import { logIntotoV001, provenance, randomDigest, startWorld, type World } from '../test/fixtures/world.ts';
import { fmtMB, fmtMs, fmtSummary, summarize, type Summary } from './stats.ts';
import { timeToVerdictSvg } from './svg.ts';
import type { RequestCounts, WorkerJob, WorkerResult } from './worker.ts';

const HELP = `Usage: node bench/run.ts [options]   (npm run bench -- [options]; build first: npm run build)

  --latency-ms MS        per-request latency the test log injects (env BENCH_LATENCY_MS; default 50)
  --sizes LIST           candidate counts N (env BENCH_SIZES; default 1,10,100,1000)
  --runs K               timed runs per N below 1000 (default 5)
  --runs-large K         timed runs per N >= 1000 (default 3)
  --baseline-budget S    seconds of sequential-baseline runs per N: runs = max(1, min(--runs, S / estimate)) (default 20)
  --baseline-max-n N     skip the sequential baseline above N (default: no limit; N=1000 takes > 50 s at 50 ms)
  --cold-runs K          runs per cold-start command (default 10)
  --out DIR              where RESULTS.md, results.json and time-to-verdict.svg go (default bench/)
  --render-only          measure nothing: rewrite RESULTS.md and the chart from DIR/results.json
                         (after editing bench/where-time-goes.md)
`;

const { values: flags } = parseArgs({
  options: {
    'latency-ms': { type: 'string', default: process.env['BENCH_LATENCY_MS'] ?? '50' },
    sizes: { type: 'string', default: process.env['BENCH_SIZES'] ?? '1,10,100,1000' },
    runs: { type: 'string', default: '5' },
    'runs-large': { type: 'string', default: '3' },
    'baseline-budget': { type: 'string', default: '20' },
    'baseline-max-n': { type: 'string' },
    'cold-runs': { type: 'string', default: '10' },
    out: { type: 'string', default: path.join(repoRoot, 'bench') },
    'render-only': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
function int(name: string, v: string | undefined, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${v}`);
  return n;
}
const LATENCY_MS = int('latency-ms', flags['latency-ms'], 0);
const SIZES = (flags.sizes ?? '').split(',').map((s) => int('sizes', s.trim(), 1));
const RUNS = int('runs', flags.runs, 1);
const RUNS_LARGE = int('runs-large', flags['runs-large'], 1);
const BASELINE_BUDGET_S = int('baseline-budget', flags['baseline-budget'], 1);
const BASELINE_MAX_N = flags['baseline-max-n'] === undefined ? Infinity : int('baseline-max-n', flags['baseline-max-n'], 1);
const COLD_RUNS = int('cold-runs', flags['cold-runs'], 1);
const OUT_DIR = path.resolve(flags.out ?? 'bench');
const CLI = path.join(repoRoot, 'dist', 'rekor-gate.js');
const WORKER = path.join(repoRoot, 'bench', 'worker.ts');
const TIME_BIN = ['/usr/bin/time'].find((p) => existsSync(p));

const log = (line: string): void => {
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}\n`);
};
const started = performance.now();

// ---------------------------------------------------------------------------------------------- processes

type ProcResult = { code: number; stdout: string; stderr: string; wallMs: number; cpuMs?: number; maxRssKB?: number };

/**
 * Runs a command, timing it from spawn to exit. With GNU/BusyBox time available, the command runs under
 * `/usr/bin/time` for its CPU time and peak RSS (which adds about a millisecond of fork/exec to the wall time).
 * Asynchronous: the test log in this process must keep answering.
 */
function runProcess(argv: string[], o: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<ProcResult> {
  const timeFile = TIME_BIN ? path.join(scratch, `time-${process.hrtime.bigint()}.txt`) : undefined;
  const full = TIME_BIN && timeFile ? [TIME_BIN, '-f', '%U %S %M', '-o', timeFile, ...argv] : argv;
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(full[0] as string, full.slice(1), {
      cwd: repoRoot,
      env: o.env ?? cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 600_000);
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - t0;
      clearTimeout(timer);
      const r: ProcResult = { code: code ?? -1, stdout, stderr, wallMs };
      if (timeFile && existsSync(timeFile)) {
        // GNU time writes "Command exited with non-zero status N" first when the command fails.
        const last = readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
        rmSync(timeFile, { force: true });
        const [u, s, m] = last.split(/\s+/).map(Number);
        if (u !== undefined && s !== undefined && m !== undefined && [u, s, m].every(Number.isFinite)) {
          r.cpuMs = (u + s) * 1000;
          r.maxRssKB = m;
        }
      }
      resolve(r);
    });
  });
}

/** What a step container gives the CLI: no NODE_OPTIONS, no compile cache, nothing inherited by accident. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'] ?? '', HOME: scratch, ...extra };
}

const node = process.execPath;

// --------------------------------------------------------------------------------------------- the world

if (!flags['render-only'] && !existsSync(CLI)) {
  process.stderr.write(`bench: ${path.relative(repoRoot, CLI)} is missing: run "npm run build" first (npm run bench does)\n`);
  process.exit(2);
}
/** Temporary files of a measuring run (created by main, removed when it ends). */
let scratch = os.tmpdir();

type Scenario = { n: number; digest: string; passing: string };

/**
 * N candidates under one digest: N-1 that fail (alternately: signed by a key the policy does not trust, and
 * a material-digest hit, i.e. provenance of another image that used this one as a material) and, added last,
 * the one that passes.
 */
function populate(w: World, n: number, untrusted: ReturnType<typeof generateSigner>): Scenario {
  const d = randomDigest().value;
  for (let i = 0; i < n - 1; i++) {
    if (i % 2 === 0) logIntotoV001(w, provenance(d, { materials: [randomDigest().value] }), { signer: untrusted });
    else logIntotoV001(w, provenance(randomDigest().value, { materials: [d] }));
  }
  const passing = logIntotoV001(w, provenance(d));
  return { n, digest: d, passing: passing.uuid };
}

function classify(paths: readonly string[]): RequestCounts {
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
const totalOf = (c: RequestCounts): number => c.search + c.retrieve + c.get + c.other;
const fmtCounts = (c: RequestCounts): string =>
  [`${c.search} search`, `${c.retrieve} retrieve`, ...(c.get ? [`${c.get} GET`] : []), ...(c.other ? [`${c.other} other`] : [])].join(' + ');
const requestTarget = (n: number): number => 1 + Math.ceil(n / 10);

async function runWorker(w: World, job: WorkerJob): Promise<WorkerResult> {
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

// ------------------------------------------------------------------------------------------ measurements

type CliRun = {
  ms: number;
  cpuMs?: number;
  maxRssKB?: number;
  requests: RequestCounts;
  /** When the log received the first and the last request, from spawn. */
  firstRequestMs?: number;
  lastRequestMs?: number;
};

/** Arrival times (performance.now()) of the log's recorded requests, index for index. */
const arrivals: number[] = [];
function stampArrivals(w: World): void {
  const requests = w.log.requests;
  // The log records each request with requests.push() (after reading its body, before the injected latency).
  Object.defineProperty(requests, 'push', {
    value: (...items: typeof requests) => {
      for (let i = 0; i < items.length; i++) arrivals[requests.length + i] = performance.now();
      return Array.prototype.push.apply(requests, items);
    },
  });
}
type SizeResult = {
  n: number;
  cli: CliRun[];
  inProcess: WorkerResult;
  baseline?: WorkerResult;
  baselineSkipped?: string;
};
type ColdResult = { label: string; command: string; wall: number[]; cpu: number[]; rssKB: number[] };

async function cliRun(w: World, sc: Scenario): Promise<CliRun> {
  const before = w.log.requests.length;
  const args = ['verify', '--image-digest', sc.digest, '--rekor-url', w.log.url, '--trusted-root', w.trustedRootPath, '--key', w.keyPath, '--output', 'json', '--timeout', '30'];
  const t0 = performance.now();
  const r = await runProcess([node, CLI, ...args]);
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

/** The bundle as scripts/build.ts made it before the lazy split (one ESM module parsed whole), for comparison. */
async function buildSingleModuleBundle(outfile: string): Promise<void> {
  await build({
    entryPoints: [path.join(repoRoot, 'src/cli/main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    minify: true,
    legalComments: 'none',
    banner: { js: "import { createRequire as __rgCreateRequire } from 'node:module';\nconst require = __rgCreateRequire(import.meta.url);" },
    logLevel: 'error',
  });
}

async function coldStart(): Promise<ColdResult[]> {
  const empty = path.join(scratch, 'empty.mjs');
  writeFileSync(empty, '');
  const single = path.join(scratch, 'single-module-bundle.mjs');
  await buildSingleModuleBundle(single);
  const cacheDir = path.join(scratch, 'compile-cache');
  const cached = cleanEnv({ NODE_COMPILE_CACHE: cacheDir });
  const commands: Array<{ label: string; command: string; argv: string[]; env?: NodeJS.ProcessEnv; exit?: number }> = [
    { label: 'node -e 0', command: 'node -e 0', argv: [node, '-e', '0'] },
    { label: 'empty ES module', command: 'node empty.mjs', argv: [node, empty] },
    { label: 'rekor-gate --version', command: 'node dist/rekor-gate.js --version', argv: [node, CLI, '--version'] },
    { label: 'rekor-gate verify --help', command: 'node dist/rekor-gate.js verify --help', argv: [node, CLI, 'verify', '--help'] },
    {
      label: 'rekor-gate verify, stopped by a bad digest (loads the commands, no request)',
      command: 'node dist/rekor-gate.js verify --image-digest sha256:0',
      argv: [node, CLI, 'verify', '--image-digest', 'sha256:0'],
      exit: 2,
    },
    { label: 'rekor-gate --version, NODE_COMPILE_CACHE warm', command: 'NODE_COMPILE_CACHE=dir node dist/rekor-gate.js --version', argv: [node, CLI, '--version'], env: cached },
    { label: 'single-module bundle --version (build before the lazy split)', command: 'node single-module-bundle.mjs --version', argv: [node, single, '--version'] },
    { label: 'single-module bundle verify --help', command: 'node single-module-bundle.mjs verify --help', argv: [node, single, 'verify', '--help'] },
    {
      label: 'single-module bundle verify, stopped by a bad digest',
      command: 'node single-module-bundle.mjs verify --image-digest sha256:0',
      argv: [node, single, 'verify', '--image-digest', 'sha256:0'],
      exit: 2,
    },
  ];
  // Prime the compile cache, and check every command works.
  for (const c of commands) {
    const r = await runProcess(c.argv, c.env ? { env: c.env } : {});
    if (r.code !== (c.exit ?? 0)) throw new Error(`${c.command}: exit ${r.code}, expected ${c.exit ?? 0}: ${r.stderr}`);
  }
  const results: ColdResult[] = commands.map((c) => ({ label: c.label, command: c.command, wall: [], cpu: [], rssKB: [] }));
  // Interleaved, so that a burst of load elsewhere on the machine hits every command alike.
  for (let i = 0; i < COLD_RUNS; i++) {
    for (const [j, c] of commands.entries()) {
      const r = await runProcess(c.argv, c.env ? { env: c.env } : {});
      const res = results[j] as ColdResult;
      res.wall.push(r.wallMs);
      if (r.cpuMs !== undefined) res.cpu.push(r.cpuMs);
      if (r.maxRssKB !== undefined) res.rssKB.push(r.maxRssKB);
    }
  }
  return results;
}

// ------------------------------------------------------------------------------------------------ report

function machine(): Record<string, string> {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const meminfo = existsSync('/proc/meminfo') ? readFileSync('/proc/meminfo', 'utf8') : '';
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  const memKB = Number(/^MemTotal:\s*(\d+)/m.exec(meminfo)?.[1] ?? os.totalmem() / 1024);
  return {
    cpus: `${os.availableParallelism()} (nproc), ${model}`,
    memory: `${(memKB / 1024 / 1024).toFixed(1)} GiB`,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadavg: os.loadavg().map((l) => l.toFixed(2)).join(' '),
  };
}

const check = (ok: boolean): string => (ok ? 'met' : '**not met**');

type Settings = { latencyMs: number; runs: number; runsLarge: number; coldRuns: number; baselineBudgetS: number; timeBin: boolean };
type BenchData = {
  date: string;
  info: Record<string, string>;
  loadEnd: string;
  settings: Settings;
  cold: ColdResult[];
  sizes: SizeResult[];
  throughput: { mixed: WorkerResult; passing: WorkerResult };
  memory: { verify1000?: WorkerResult; idle: WorkerResult };
  durationS: number;
};

function report(o: BenchData): string {
  const { latencyMs: LATENCY_MS, runs: RUNS, runsLarge: RUNS_LARGE, coldRuns: COLD_RUNS, baselineBudgetS: BASELINE_BUDGET_S, timeBin: TIME_BIN } = o.settings;
  const L: string[] = [];
  const cold = (label: string): ColdResult | undefined => o.cold.find((c) => c.label === label);
  const at = (n: number): SizeResult | undefined => o.sizes.find((s) => s.n === n);
  const cliS = (s: SizeResult): Summary => summarize(s.cli.map((r) => r.ms));
  const inS = (s: SizeResult): Summary => summarize(s.inProcess.runs.map((r) => r.ms));
  const baseS = (s: SizeResult): Summary | undefined => (s.baseline ? summarize(s.baseline.runs.map((r) => r.ms)) : undefined);
  const maxRequests = (s: SizeResult): number => Math.max(...s.cli.map((r) => totalOf(r.requests)), ...s.inProcess.runs.map((r) => totalOf(r.requests)));
  const eps = (r: WorkerResult): Summary => summarize(r.entriesPerSecond ?? []);
  const cliRss = (s: SizeResult): number | undefined => {
    const v = s.cli.map((r) => r.maxRssKB).filter((x): x is number => x !== undefined);
    return v.length > 0 ? Math.max(...v) : undefined;
  };

  L.push('# rekor-gate benchmark results', '');
  L.push(`Generated by \`npm run bench\` (bench/run.ts) on ${o.date}, in ${o.durationS.toFixed(0)} s. Raw figures: [results.json](results.json).`, '');
  L.push('| | |', '| --- | --- |');
  L.push(`| machine | ${o.info['cpus']}; ${o.info['memory']} RAM; ${o.info['os']} |`);
  L.push(`| Node.js | ${o.info['node']} |`);
  L.push(`| load average (1/5/15 min) | ${o.info['loadavg']} at the start, ${o.loadEnd} at the end |`);
  L.push(`| test log latency | ${LATENCY_MS} ms per request (injected by the test log before each answer; loopback otherwise) |`);
  L.push(`| runs | ${RUNS} per N (${RUNS_LARGE} for N >= 1000), after 1 untimed warm-up for in-process; cold start ${COLD_RUNS} per command, interleaved |`);
  L.push(`| reproduce | \`npm ci && npm run bench\` (options: \`npm run bench -- --help\`; e.g. \`BENCH_LATENCY_MS=100 npm run bench\`) |`);
  L.push('');
  L.push('Figures are medians with (min–max, runs). "CLI" is the whole process `node dist/rekor-gate.js verify --image-digest ... --key ... --trusted-root ...` (cold start, trust loading and connection set-up included);');
  L.push('"in-process" calls `verify()` with `rekorSearchFinder(createRekorClient(...))`, `trustFromTrustedRoot` and `policyFromFlags` (a fresh HTTP agent each run; modules and JIT warm);');
  L.push('the "sequential baseline" fetches the same entries the way `rekor-cli search --sha` + `rekor-cli get --uuid` does (one search, then one `GET /api/v1/log/entries/{uuid}` per result, one after another) and then runs the same checks in-process — it is spared the N+1 process starts rekor-cli would need.');
  L.push('Candidates: N-1 failing entries (alternately signed by an untrusted key, and material-digest hits: provenance of another image that lists this digest as a material), then the passing entry, added last. Every run\'s verdict is checked to accept that entry.');
  L.push('');

  // targets
  L.push('## Targets', '');
  L.push('| target | measured | |', '| --- | --- | --- |');
  for (const s of o.sizes) {
    const max = maxRequests(s);
    L.push(`| requests for N=${s.n} <= 1 search + ceil(N/10) retrieves = ${requestTarget(s.n)} | ${max} (${fmtCounts(s.cli[0]?.requests ?? { search: 0, retrieve: 0, get: 0, other: 0 })}) | ${check(max <= requestTarget(s.n))} |`);
  }
  const n1 = at(1);
  if (n1) L.push(`| N=1 verdict < 400 ms (whole process, ${LATENCY_MS} ms latency) | ${fmtMs(cliS(n1).median)} | ${check(cliS(n1).median < 400)} |`);
  const n1000 = at(1000);
  if (n1000) L.push(`| N=1000 verdict < 2 s (whole process) | ${fmtMs(cliS(n1000).median)} | ${check(cliS(n1000).median < 2000)} |`);
  const n100 = at(100);
  const b100 = n100 ? baseS(n100) : undefined;
  if (n100 && b100) {
    const rIn = b100.median / inS(n100).median;
    const rCli = b100.median / cliS(n100).median;
    L.push(`| >= 20x faster than the sequential baseline at N=100 | ${rIn.toFixed(1)}x in-process (${fmtMs(inS(n100).median)} vs ${fmtMs(b100.median)}); ${rCli.toFixed(1)}x as a whole process | ${check(rIn >= 20)} in-process, ${check(rCli >= 20)} whole process |`);
  }
  const ver = cold('rekor-gate --version');
  const help = cold('rekor-gate verify --help');
  if (ver) L.push(`| cold start < 150 ms: \`rekor-gate --version\` | ${fmtMs(summarize(ver.wall).median)} (\`node -e 0\` alone: ${fmtMs(summarize(cold('node -e 0')?.wall ?? []).median)}) | ${check(summarize(ver.wall).median < 150)} |`);
  if (help) L.push(`| cold start < 150 ms: \`rekor-gate verify --help\` | ${fmtMs(summarize(help.wall).median)} | ${check(summarize(help.wall).median < 150)} |`);
  const mixed = eps(o.throughput.mixed);
  const passing = eps(o.throughput.passing);
  L.push(`| in-process verification >= 2,000 entries/s (one core) | ${Math.round(mixed.median)}/s (the N=1000 mix), ${Math.round(passing.median)}/s (1000 passing entries) | ${check(Math.min(mixed.median, passing.median) >= 2000)} |`);
  const rss1000 = n1000 ? cliRss(n1000) : undefined;
  const inRss = o.memory.verify1000?.maxRssKB;
  if (rss1000 !== undefined || inRss !== undefined) {
    const peak = Math.max(rss1000 ?? 0, inRss ?? 0);
    L.push(`| peak memory < 200 MB at N=1000 | ${rss1000 !== undefined ? `${fmtMB(rss1000)} whole process (max RSS)` : ''}${rss1000 !== undefined && inRss !== undefined ? '; ' : ''}${inRss !== undefined ? `${fmtMB(inRss)} in-process (one run in a fresh child)` : ''} | ${check(peak < 200 * 1024)} |`);
  }
  L.push('');

  // time to verdict
  L.push(`## Time to verdict (${LATENCY_MS} ms per request)`, '');
  L.push('![time to verdict vs N](time-to-verdict.svg)', '');
  L.push('| N | requests per verdict | CLI (whole process) | in-process | of which fetching | sequential baseline | baseline requests | baseline / in-process | baseline / CLI |');
  L.push('| ---: | --- | --- | --- | --- | --- | --- | ---: | ---: |');
  for (const s of o.sizes) {
    const b = baseS(s);
    const fetch = summarize(s.inProcess.runs.map((r) => r.fetchMs));
    const bReq = s.baseline?.runs[0]?.requests;
    L.push(
      `| ${s.n} | ${fmtCounts(s.cli[0]?.requests ?? { search: 0, retrieve: 0, get: 0, other: 0 })} | ${fmtSummary(cliS(s))} | ${fmtSummary(inS(s))} | ${fmtMs(fetch.median)} | ${b ? fmtSummary(b) : (s.baselineSkipped ?? 'n/a')} | ${bReq ? fmtCounts(bReq) : ''} | ${b ? `${(b.median / inS(s).median).toFixed(1)}x` : ''} | ${b ? `${(b.median / cliS(s).median).toFixed(1)}x` : ''} |`,
    );
  }
  L.push('');
  const capped = o.sizes.filter((s) => s.baseline && s.baseline.runs.length < (s.n >= 1000 ? RUNS_LARGE : RUNS));
  if (capped.length > 0) {
    L.push(`The sequential baseline gets about ${BASELINE_BUDGET_S} s per N (\`--baseline-budget\`), so it ran fewer times where one run is long: ${capped.map((s) => `N=${s.n}: ${s.baseline?.runs.length} run(s)`).join(', ')}.`, '');
  }

  // cold start
  L.push('## Cold start (whole processes, from the bundled file)', '');
  L.push(`| command | wall | CPU (user+sys) | max RSS |`, '| --- | --- | --- | --- |');
  for (const c of o.cold) {
    const rss = c.rssKB.length > 0 ? fmtMB(Math.max(...c.rssKB)) : 'n/a';
    L.push(`| ${c.label}: \`${c.command}\` | ${fmtSummary(summarize(c.wall))} | ${c.cpu.length > 0 ? fmtSummary(summarize(c.cpu)) : 'n/a'} | ${rss} |`);
  }
  L.push('');
  if (!TIME_BIN) L.push('(/usr/bin/time is not installed: no CPU time or RSS figures for whole processes.)', '');

  // throughput and memory
  L.push('## Verification throughput and memory', '');
  L.push('Entries fetched once, then `checkCandidate` timed over all of them (schema, leaf hash, SET, inclusion proof, checkpoint signature, DSSE signature, statement, signer), single-threaded:', '');
  L.push('| entry set | entries | outcomes | entries/s |', '| --- | ---: | --- | --- |');
  const st = (r: WorkerResult): string => Object.entries(r.statuses ?? {}).map(([k, v]) => `${v} ${k}`).join(', ');
  L.push(`| the N=1000 mix | ${o.throughput.mixed.entries} | ${st(o.throughput.mixed)} | ${fmtSummary(mixed, (v) => String(Math.round(v)))} |`);
  L.push(`| 1000 passing entries | ${o.throughput.passing.entries} | ${st(o.throughput.passing)} | ${fmtSummary(passing, (v) => String(Math.round(v)))} |`);
  L.push('');
  L.push('| peak memory (max RSS) | |', '| --- | --- |');
  if (rss1000 !== undefined) L.push(`| CLI, N=1000 (whole process, max over its runs) | ${fmtMB(rss1000)} |`);
  if (inRss !== undefined) L.push(`| in-process verify(), N=1000, one run in a fresh child process | ${fmtMB(inRss)} |`);
  L.push(`| the same child with modules and trust loaded, nothing verified | ${fmtMB(o.memory.idle.maxRssKB)} |`);
  const rssVer = ver && ver.rssKB.length > 0 ? Math.max(...ver.rssKB) : undefined;
  if (rssVer !== undefined) L.push(`| \`rekor-gate --version\` | ${fmtMB(rssVer)} |`);
  L.push('');

  // where time goes (this run)
  L.push('## Where time goes', '');
  L.push('### Measured in this run', '');
  const med = (c: ColdResult | undefined): number => summarize(c?.wall ?? []).median;
  const e0 = cold('node -e 0');
  const esm = cold('empty ES module');
  const cachedVer = cold('rekor-gate --version, NODE_COMPILE_CACHE warm');
  const single = cold('single-module bundle --version (build before the lazy split)');
  const singleHelp = cold('single-module bundle verify --help');
  if (e0 && esm && ver && help) {
    L.push(`- Process start: \`node -e 0\` ${fmtMs(med(e0))}, an empty ES module ${fmtMs(med(esm))}: Node itself takes that much before any rekor-gate code runs, so \`--version\` at ${fmtMs(med(ver))} leaves ${fmtMs(med(ver) - med(esm))} for reading, compiling and running the bundle's startup path (yargs); \`verify --help\` ${fmtMs(med(help))} adds the help layout.`);
  }
  if (single && ver) {
    L.push(`- The lazy split (scripts/build.ts): the same sources bundled as one module parsed whole take ${fmtMs(med(single))} for \`--version\` (now ${fmtMs(med(ver))})${singleHelp && help ? ` and ${fmtMs(med(singleHelp))} for \`verify --help\` (now ${fmtMs(med(help))})` : ''}.`);
  }
  if (cachedVer && ver) L.push(`- V8 code cache: with a warm \`NODE_COMPILE_CACHE\`, \`--version\` takes ${fmtMs(med(cachedVer))} (${fmtMs(med(ver))} without).`);
  const loadCmds = cold('rekor-gate verify, stopped by a bad digest (loads the commands, no request)');
  const singleLoad = cold('single-module bundle verify, stopped by a bad digest');
  if (loadCmds && ver) {
    L.push(`- Loading the commands: \`verify\` stopped by a bad digest (no trust, no request) takes ${fmtMs(med(loadCmds))}${singleLoad ? ` (single-module bundle: ${fmtMs(med(singleLoad))})` : ''}, ${fmtMs(med(loadCmds) - med(ver))} more than \`--version\`: compiling and initialising the command modules (undici, ajv, @sigstore/*, and the ajv schemas compiled at module load).`);
  }
  const cliPhases = o.sizes.filter((s) => s.cli.some((r) => r.firstRequestMs !== undefined));
  if (cliPhases.length > 0) {
    L.push('- The CLI\'s runs by phase (medians): before its first request (process start, bundle, commands, trust and policy, first schema compilations) | talking to the log (first request received to last request answered) | after the last answer (checking, deciding, output, exit):');
    L.push('', '  | N | before the first request | talking to the log | after the last answer | CPU (user+sys) |', '  | ---: | ---: | ---: | ---: | ---: |');
    for (const s of cliPhases) {
      const first = summarize(s.cli.map((r) => r.firstRequestMs ?? Number.NaN)).median;
      const last = summarize(s.cli.map((r) => (r.lastRequestMs ?? Number.NaN) + LATENCY_MS)).median;
      const total = cliS(s).median;
      const cpu = s.cli.map((r) => r.cpuMs).filter((v): v is number => v !== undefined);
      L.push(`  | ${s.n} | ${fmtMs(first)} | ${fmtMs(last - first)} | ${fmtMs(total - last)} | ${cpu.length > 0 ? fmtMs(summarize(cpu).median) : 'n/a'} |`);
    }
    L.push('');
  }
  for (const s of o.sizes) {
    const cli = cliS(s).median;
    const inp = inS(s).median;
    const fetch = summarize(s.inProcess.runs.map((r) => r.fetchMs)).median;
    const waves = Math.ceil(Math.ceil(s.n / 10) / 8);
    const floor = LATENCY_MS * (1 + waves);
    L.push(
      `- N=${s.n}: in-process ${fmtMs(inp)} = fetching ${fmtMs(fetch)} (floor set by the latency: 1 search + ${waves} wave${waves === 1 ? '' : 's'} of up to 8 concurrent retrieves = ${fmtMs(floor)}) + checking and deciding ${fmtMs(inp - fetch)}; the whole process adds ${fmtMs(cli - inp)} (process start, bundle load, trust and policy loading, new connections, cold JIT).`,
    );
  }
  L.push('');
  const notes = path.join(repoRoot, 'bench', 'where-time-goes.md');
  if (existsSync(notes)) L.push(readFileSync(notes, 'utf8').trim(), '');
  return `${L.join('\n')}\n`;
}

// -------------------------------------------------------------------------------------------------- main

async function main(): Promise<void> {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'rekor-gate-bench-'));
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

    const durationS = (performance.now() - started) / 1000;
    const loadEnd = os.loadavg().map((l) => l.toFixed(2)).join(' ');
    const settings: Settings = { latencyMs: LATENCY_MS, runs: RUNS, runsLarge: RUNS_LARGE, coldRuns: COLD_RUNS, baselineBudgetS: BASELINE_BUDGET_S, timeBin: TIME_BIN !== undefined };
    const data: BenchData = { date, info, loadEnd, settings, cold, sizes, throughput: { mixed, passing }, memory: { ...(verify1000 ? { verify1000 } : {}), idle }, durationS };
    writeFileSync(path.join(OUT_DIR, 'results.json'), `${JSON.stringify(data, null, 2)}\n`);
    render(data);
    log(`wrote ${path.relative(process.cwd(), path.join(OUT_DIR, 'RESULTS.md'))}, results.json, time-to-verdict.svg in ${durationS.toFixed(0)} s`);
  } finally {
    await w.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** RESULTS.md and the chart from the figures (also `--render-only`: from results.json, after editing where-time-goes.md). */
function render(data: BenchData): void {
  const { date, info, sizes, settings } = data;
  const LATENCY_MS = settings.latencyMs;
  const svg = timeToVerdictSvg({
    title: 'rekor-gate: time to verdict vs candidate entries',
    subtitle: `test Rekor log on loopback, ${LATENCY_MS} ms per request; Node ${info['node']}, ${info['cpus']?.split(' ')[0] ?? '?'} cores; ${date.slice(0, 10)}`,
    series: [
      { label: 'rekor-gate CLI\nwhole process', color: '#1f77b4', points: sizes.map((s) => ({ n: s.n, s: summarize(s.cli.map((r) => r.ms)) })) },
      { label: 'rekor-gate in-process\nverify()', color: '#2ca02c', points: sizes.map((s) => ({ n: s.n, s: summarize(s.inProcess.runs.map((r) => r.ms)) })) },
      {
        label: 'sequential baseline\nsearch + GET per entry',
        color: '#d62728',
        dashed: true,
        points: sizes.filter((s) => s.baseline).map((s) => ({ n: s.n, s: summarize(s.baseline?.runs.map((r) => r.ms) ?? []) })),
      },
    ],
    targets: [
      ...(sizes.some((s) => s.n === 1) ? [{ n: 1, ms: 400, label: '< 400 ms' }] : []),
      ...(sizes.some((s) => s.n === 1000) ? [{ n: 1000, ms: 2000, label: '< 2 s' }] : []),
    ],
  });
  writeFileSync(path.join(OUT_DIR, 'RESULTS.md'), report(data));
  writeFileSync(path.join(OUT_DIR, 'time-to-verdict.svg'), svg);
}

(flags['render-only'] ? Promise.resolve(render(JSON.parse(readFileSync(path.join(OUT_DIR, 'results.json'), 'utf8')) as BenchData)) : main()).catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
