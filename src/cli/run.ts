// The frame of a verify run, one image or several: results written VERIFIED=false before anything else, the
// run's deadline, and the one failure path (report, results, JSON, exit code).
import { GateError, exitCodeFor } from '../errors.ts';
import { renderErrorJson } from '../report/render.ts';
import { checkResultsDir, MIN_RESULTS_BUDGET, resultValues, writeResults } from '../tekton/results.ts';
import { explain } from './hints.ts';
import type { VerifyArgs } from './options.ts';
import { reportError } from './report-error.ts';
import { VERSION } from './version.ts';

/**
 * The run's own deadline beyond --wait: time for the last poll's requests, each bounded by --timeout
 * (10 s + 4 x --timeout: 130 s by default, at most 2410 s).
 */
export function runMarginSeconds(timeoutSeconds: number): number {
  return 10 + 4 * timeoutSeconds;
}

/** Rejects with `signal`'s reason once it aborts (never resolves). */
export function abortedBy(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    if (signal.aborted) reject(signal.reason as Error);
    else signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
  });
}

/** Fails closed from the start, and finds out now (before any request) whether the directory takes a write. */
export function failClosed(resultsDir: string): void {
  checkResultsDir(resultsDir, '--results-dir');
  writeResults(resultsDir, { VERIFIED: 'false' });
}

/** Aborts `run` when the whole run outlasts --wait plus the margin for its last requests. */
export function armRunDeadline(run: AbortController, wait: number, margin: number): NodeJS.Timeout {
  return setTimeout(() => {
    run.abort(new GateError('NETWORK', `the run did not finish within its deadline of ${wait + margin} s (--wait ${wait} s + ${margin} s for the last requests, 10 s + 4 x --timeout): the log or the registry is too slow`));
  }, (wait + margin) * 1000);
}

/**
 * A run that ended in an error: the report on stderr, the error in the results (unless the results directory is
 * what failed) and in JSON output; its exit code (audit mode turns all but bad input into success).
 */
export function failedRun(err: unknown, args: VerifyArgs, resultsDir: string | undefined, imageDigest?: string): number {
  const code = reportError(err);
  const tag = err instanceof GateError ? err.code : 'INTERNAL';
  if (resultsDir && !(err instanceof GateError && err.code === 'BAD_RESULTS_DIR')) {
    try {
      const budget = Number.isFinite(args.resultsBudget) && args.resultsBudget >= MIN_RESULTS_BUDGET ? args.resultsBudget : undefined;
      writeResults(resultsDir, resultValues({ error: `[${tag}] ${explain(err)}`, imageDigest }, budget));
    } catch {
      // the directory was checked first; nothing more to do
    }
  }
  if (args.output === 'json') process.stdout.write(renderErrorJson(tag, explain(err), VERSION));
  // Audit mode turns "not verified" and "could not reach" into success (VERIFIED=false); bad input still fails.
  if (!args.failOnUnverified && exitCodeFor(err) !== 2) return 0;
  return code;
}
