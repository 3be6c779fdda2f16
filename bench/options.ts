/** `npm run bench -- [options]`: the settings of a measuring run, from flags and BENCH_* variables. */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { repoRoot } from '../test/fixtures/paths.ts';

export const HELP = `Usage: node bench/run.ts [options]   (npm run bench -- [options]; build first: npm run build)

  --latency-ms MS        per-request latency the test log injects (env BENCH_LATENCY_MS; default 50)
  --sizes LIST           candidate counts N (env BENCH_SIZES; default 1,10,100,1000)
  --runs K               timed runs per N below 1000 (default 5)
  --runs-large K         timed runs per N >= 1000 (default 3)
  --baseline-budget S    seconds of sequential-baseline runs per N: runs = max(1, min(--runs, S / estimate)) (default 20)
  --baseline-max-n N     skip the sequential baseline above N (default: no limit; N=1000 takes > 50 s at 50 ms)
  --cold-runs K          runs per cold-start command (default 10)
  --image REF            the step image whose entrypoint is timed (env BENCH_IMAGE; default localhost/rekor-gate:dev, what
                         "npm run image" builds; skipped when podman or the image is missing)
  --out DIR              where RESULTS.md, results.json and time-to-verdict.svg go (default bench/)
  --peers on|off|only    the real rekor-cli and cosign beside rekor-gate on the real Rekor (bench/peers.ts; default on,
                         skipped saying why where scripts/real-stack/install.sh has not run); only: measure just
                         them, into DIR/results.json's other figures, and rewrite RESULTS.md
  --peer-sizes LIST      N for the peers (default 1,10,100)
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
    image: { type: 'string', default: process.env['BENCH_IMAGE'] ?? 'localhost/rekor-gate:dev' },
    out: { type: 'string', default: path.join(repoRoot, 'bench') },
    peers: { type: 'string', default: 'on' },
    'peer-sizes': { type: 'string', default: '1,10,100' },
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

export const LATENCY_MS = int('latency-ms', flags['latency-ms'], 0);
export const SIZES = (flags.sizes ?? '').split(',').map((s) => int('sizes', s.trim(), 1));
export const RUNS = int('runs', flags.runs, 1);
export const RUNS_LARGE = int('runs-large', flags['runs-large'], 1);
export const BASELINE_BUDGET_S = int('baseline-budget', flags['baseline-budget'], 1);
export const BASELINE_MAX_N = flags['baseline-max-n'] === undefined ? Infinity : int('baseline-max-n', flags['baseline-max-n'], 1);
export const COLD_RUNS = int('cold-runs', flags['cold-runs'], 1);
export const IMAGE = flags.image ?? 'localhost/rekor-gate:dev';
export const OUT_DIR = path.resolve(flags.out ?? 'bench');
export const PEERS_ON = flags.peers !== 'off';
export const PEERS_ONLY = flags.peers === 'only';
export const PEER_SIZES = (flags['peer-sizes'] ?? '').split(',').map((s) => int('peer-sizes', s.trim(), 1));
export const RENDER_ONLY = flags['render-only'] ?? false;
export const CLI = path.join(repoRoot, 'dist', 'rekor-gate.js');

export const WORKER = path.join(repoRoot, 'bench', 'worker.ts');
export const TIME_BIN = ['/usr/bin/time'].find((p) => existsSync(p));
