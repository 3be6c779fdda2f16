import { GateError } from '../errors.ts';

/**
 * What one run will take from a peer, in all: response bytes and log entries. Every answer is capped on its
 * own, but a hostile log could send many answers each under its cap; past either total the run stops with
 * RESPONSE_TOO_LARGE (exit 3), naming the cap, rather than growing until the step is OOM-killed.
 */
export type Budget = {
  /** Counts `bytes` received for `what`; throws RESPONSE_TOO_LARGE once the total passes the cap. */
  takeBytes(bytes: number, what: string): void;
  /** Counts `count` log entries received for `what`; throws RESPONSE_TOO_LARGE once the total passes the cap. */
  takeEntries(count: number, what: string): void;
  readonly bytes: number;
  readonly entries: number;
};

export type BudgetLimits = {
  /** Names the peer in messages, e.g. `the log https://rekor.example`. */
  readonly peer: string;
  readonly maxBytes: number;
  readonly maxEntries: number;
};

const MiB = 1024 * 1024;

/** Per run, from the log: 64 MiB of responses and 10,000 entries (twice the candidates kept per digest). */
export const LOG_BUDGET = { maxBytes: 64 * MiB, maxEntries: 10_000 } as const;

/** The caps that bound what a run holds in memory at once. */
export type MemoryCaps = {
  /** All the log's responses in one run (the budget above). */
  readonly runBytes: number;
  /** One HTTP response (a search, a batch of entries, a checkpoint). */
  readonly responseBytes: number;
  /** One registry manifest or referrers index. */
  readonly manifestBytes: number;
  /** One registry blob (a DSSE envelope, a bundle). */
  readonly blobBytes: number;
};

/** The caps with no memory limit, sized for the Task's 256 MiB limit. */
export const PRESENT_CAPS: MemoryCaps = { runBytes: LOG_BUDGET.maxBytes, responseBytes: 16 * MiB, manifestBytes: 4 * MiB, blobBytes: 16 * MiB };

/** Each cap's share of the memory limit: 1/4 for the run, 1/16 for one response or blob, 1/32 for a manifest. */
const SHARE = { runBytes: 4, responseBytes: 16, manifestBytes: 32, blobBytes: 16 } as const;
/** Below this, a cap gets no smaller: a run that cannot read a 256 KiB manifest reads nothing. */
const FLOOR = 256 * 1024;

/**
 * The caps under a memory limit of `limitBytes` (what `process.constrainedMemory()` reports: the cgroup's
 * limit in a container): each is its share of the limit (SHARE), floored to a KiB, never above PRESENT_CAPS,
 * never below 256 KiB. At 256 MiB and above these are PRESENT_CAPS; at 128 MiB half of each (the manifest's
 * 4 MiB holds down to 128 MiB). No limit (0,
 * undefined, or the 2^64 a cgroup without one reports): PRESENT_CAPS.
 *
 * Why shares: the run's responses can all be in flight at once (the budget counts bytes as they arrive), and
 * each is held about three times while it is parsed (the bytes, the text, the values), with Node's own ~45 MiB
 * beside them; a quarter of the limit for the run keeps that under the limit.
 */
export function capsForMemory(limitBytes: number | undefined): MemoryCaps {
  if (limitBytes === undefined || !(limitBytes > 0) || limitBytes >= Number.MAX_SAFE_INTEGER) return PRESENT_CAPS;
  const share = (k: keyof MemoryCaps): number => Math.max(FLOOR, Math.min(PRESENT_CAPS[k], Math.floor(limitBytes / SHARE[k] / 1024) * 1024));
  return { runBytes: share('runBytes'), responseBytes: share('responseBytes'), manifestBytes: share('manifestBytes'), blobBytes: share('blobBytes') };
}

export function createBudget(limits: BudgetLimits): Budget {
  let bytes = 0;
  let entries = 0;
  return {
    takeBytes(n, what) {
      bytes += n;
      if (bytes > limits.maxBytes) {
        throw new GateError(
          'RESPONSE_TOO_LARGE',
          `${limits.peer} sent more than the per-run cap of ${limits.maxBytes} bytes (${bytes} bytes so far, the last for ${what})`,
        );
      }
    },
    takeEntries(n, what) {
      entries += n;
      if (entries > limits.maxEntries) {
        throw new GateError(
          'RESPONSE_TOO_LARGE',
          `${limits.peer} sent more than the per-run cap of ${limits.maxEntries} entries (${entries} so far, the last for ${what})`,
        );
      }
    },
    get bytes() {
      return bytes;
    },
    get entries() {
      return entries;
    },
  };
}
