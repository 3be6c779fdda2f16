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

/** Per run, from the log: 64 MiB of responses and 10,000 entries (twice the candidates kept per digest). */
export const LOG_BUDGET = { maxBytes: 64 * 1024 * 1024, maxEntries: 10_000 } as const;

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
