/** The figures of one measuring run, as results.json holds them. */
import type { HeavyRun } from './heavy.ts';
import type { PeersResult } from './peers.ts';
import type { RequestCounts, WorkerResult } from './worker.ts';

export type CliRun = {
  ms: number;
  cpuMs?: number;
  maxRssKB?: number;
  requests: RequestCounts;
  /** When the log received the first and the last request, from spawn. */
  firstRequestMs?: number;
  lastRequestMs?: number;
};

export type SizeResult = {
  n: number;
  cli: CliRun[];
  /** The same CLI runs with a warm V8 code cache (NODE_COMPILE_CACHE), where measured. */
  inProcess: WorkerResult;
  baseline?: WorkerResult;
  baselineSkipped?: string;
};

export type ColdResult = { label: string; command: string; wall: number[]; cpu: number[]; rssKB: number[] };

export type Settings = { latencyMs: number; runs: number; runsLarge: number; coldRuns: number; baselineBudgetS: number; timeBin: boolean };

export type BenchData = {
  date: string;
  info: Record<string, string>;
  loadEnd: string;
  settings: Settings;
  cold: ColdResult[];
  /** The step image's entrypoint (`podman run IMAGE --version`), or why it was not timed. */
  image?: ColdResult[] | { skipped: string };
  sizes: SizeResult[];
  /** `verify --images` over 10 images in a registry (bench/images.ts), or why it was skipped; absent in older results. */
  images?: { n: number; cli: CliRun[] } | { skipped: string };
  /** The real rekor-cli and cosign beside rekor-gate on the real Rekor (bench/peers.ts), or why skipped; absent in older results. */
  peers?: PeersResult;
  throughput: { mixed: WorkerResult; passing: WorkerResult };
  memory: { verify1000?: WorkerResult; idle: WorkerResult };
  /** Each heavy input (bench/heavy.ts) in its own CLI process; absent in older results. */
  heavy?: HeavyRun[];
  durationS: number;
};
