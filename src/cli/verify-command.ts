// `rekor-gate verify` for one image. What this module imports is all that runs before the log's search leaves:
// the flags of the run's frame, the HTTP layer and the Rekor client. The verifier, the trusted root and the
// policy (verify-image.ts) load while the search is on its way, so the two waits overlap.
import path from 'node:path';
import { parseImageDigest, type ImageDigest } from '../digest.ts';
import { GateError } from '../errors.ts';
import { rekorSearchFinder, startedEarly } from '../verify/finders.ts';
import type { CandidateFinder } from '../verify/verifier.ts';
import type { VerifyArgs } from './options.ts';
import { armRunDeadline, failClosed, failedRun, runMarginSeconds } from './run.ts';
import { MAX_WAIT_SECONDS, seconds, timeoutMsOf } from './timeouts.ts';
import { openTransport, type LogTransport } from './transport.ts';

/** A run that asks the log's search index: not --offline, not one named entry, not a gate on summaries first. */
function searchesTheLog(args: VerifyArgs): boolean {
  // A Kyverno policy's attestors name their own logs: the run's search is sent once the policy is read.
  const kyverno = args.kyvernoPolicy !== undefined || args.kyvernoPolicyDir !== undefined;
  return !args.offline && !kyverno && args.logIndex === undefined && args.entryUrl === undefined && (args.acceptVsaFrom?.length ?? 0) === 0;
}

/** `rekor-gate verify`: inputs are parsed and checked once, then handed down as typed values. */
export async function runVerify(args: VerifyArgs): Promise<number> {
  let digest: ImageDigest | undefined;
  // Resolved lexically first: the StepAction passes `$(step.results.VERIFIED.path)/..`.
  const resultsDir = args.resultsDir === undefined ? undefined : path.resolve(args.resultsDir);
  const run = new AbortController();
  let deadline: NodeJS.Timeout | undefined;
  let transport: LogTransport | undefined;
  try {
    if (resultsDir) failClosed(resultsDir);
    if (args.imageDigest === undefined) throw new GateError('USAGE', 'give --image-digest (one image) or --images (several)');
    digest = parseImageDigest(args.imageDigest, '--image-digest');
    const wait = seconds(args.wait, 'wait', { max: MAX_WAIT_SECONDS });
    deadline = armRunDeadline(run, wait, runMarginSeconds(timeoutMsOf(args.timeout) / 1000));
    // The search and the retrieval of what it names start now; the verifier takes them on its first poll.
    let search: CandidateFinder | undefined;
    if (searchesTheLog(args)) {
      transport = openTransport(args, run.signal);
      search = startedEarly(rekorSearchFinder(transport.rekor, digest));
    }
    const { verifyImage } = await import('./verify-image.ts');
    return await verifyImage(args, { digest, wait, resultsDir, signal: run.signal, transport, search });
  } catch (err) {
    return failedRun(err, args, resultsDir, digest?.value);
  } finally {
    clearTimeout(deadline);
    run.abort(new GateError('NETWORK', 'the run has ended'));
    // Closed by the verification when it got that far (closing again is the same close); not awaited, as the
    // requests the abort above ended may still be settling.
    transport?.close().catch(() => undefined);
  }
}
