import path from 'node:path';
import { parseImageDigest, type ImageDigest } from '../digest.ts';
import { GateError, errorMessage, exitCodeFor } from '../errors.ts';
import type { Policy } from '../policy/policy.ts';
import { renderErrorJson, renderJson, renderText } from '../report/render.ts';
import { checkResultsDir, MIN_RESULTS_BUDGET, resultsBudget, resultValues, writeResults } from '../tekton/results.ts';
import { lookupFinder, rekorSearchFinder, sameEntryAs } from '../verify/finders.ts';
import type { Verdict } from '../verify/types.ts';
import { verify, type CandidateFinder } from '../verify/verifier.ts';
import { parseEntryUrl, parseLogIndex } from './entry-url.ts';
import { policyFromFlags, resolveDirFlags } from './inputs.ts';
import type { VerifyArgs } from './options.ts';
import { MAX_WAIT_SECONDS, openLog, reportError, seconds, timeoutMsOf, type LogSession } from './session.ts';
import { printable } from '../text.ts';
import { VERSION } from './version.ts';

const stderr = (line: string): void => {
  process.stderr.write(`${printable(line)}\n`);
};

/** Writes the VSA (imported only with --vsa): signed with --vsa-key, logged with --vsa-upload. */
async function writeSummary(
  file: string | undefined,
  verdict: Verdict,
  policy: Policy,
  verifierId: string,
  keyPem: string | undefined,
  upload: LogSession | undefined,
): Promise<object | undefined> {
  const { signVsa, summaryOf, uploadVsa, writeVsa } = await import('../vsa/index.ts');
  const statement = summaryOf(verdict, policy, { verifierId, verifierVersion: VERSION, timeVerified: new Date() });
  if (!keyPem) {
    if (file) writeVsa(file, statement);
    return undefined;
  }
  const envelope = signVsa(statement, keyPem);
  if (file) writeVsa(file, envelope);
  if (upload) {
    const logged = await uploadVsa(upload.rekor, upload.trust, envelope, keyPem);
    stderr(`VSA logged as entry ${logged.uuid} (log index ${logged.logIndex}): ${logged.url}`);
  }
  return envelope;
}

/** Where candidates come from: the search, or the one entry named; plus the registry with --image-url. */
export async function findersFor(args: VerifyArgs, s: LogSession, digest: ImageDigest, signal: AbortSignal): Promise<{ finders: CandidateFinder[]; entryUrl: (uuid: string) => string }> {
  if (args.offline && (args.logIndex !== undefined || args.entryUrl !== undefined)) {
    throw new GateError('USAGE', '--offline cannot fetch --log-index or --entry-url from the log');
  }
  let rekor = s.rekor;
  let lookup: CandidateFinder | undefined;
  if (args.entryUrl !== undefined) {
    const named = parseEntryUrl(args.entryUrl, s.rekorUrl, s.trust);
    rekor = s.clientFor(named.rekorUrl);
    lookup = lookupFinder(rekor, named, 'entry-url');
  } else if (args.logIndex !== undefined) {
    lookup = lookupFinder(rekor, { logIndex: parseLogIndex(args.logIndex, '--log-index') }, 'log-index');
  }
  const registry: CandidateFinder[] = [];
  if (args.imageUrl) {
    // The registry side (OCI client, its schemas) is imported only when there is a registry to read.
    const { loadDockerConfigFromEnv } = await import('../registry/index.ts');
    const { registryFinder } = await import('../verify/registry-finder.ts');
    registry.push(
      await registryFinder({
        imageUrl: args.imageUrl,
        digest,
        rekor: args.offline ? undefined : rekor,
        registry: { dockerConfig: await loadDockerConfigFromEnv(process.env), timeoutMs: s.timeoutMs, signal, dispatcher: s.pool, userAgent: `rekor-gate/${VERSION}` },
      }),
    );
  }
  const entryUrl = (uuid: string) => rekor.entryUrl(uuid);
  if (lookup) return { finders: [sameEntryAs(lookup, registry)], entryUrl };
  const finders = args.offline ? registry : [rekorSearchFinder(rekor, digest), ...registry];
  if (finders.length === 0) throw new GateError('USAGE', '--offline needs --image-url: without the log, only the registry can name entries');
  return { finders, entryUrl };
}

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

/** A verdict reached without the log (a summary accepted, or none acceptable): results, then the report. */
function finish(verdict: Verdict, args: VerifyArgs, resultsDir: string | undefined, budget: number): number {
  if (resultsDir) writeResults(resultsDir, resultValues(verdict, budget));
  process.stdout.write(args.output === 'json' ? renderJson(verdict, VERSION) : renderText(verdict));
  return verdict.verified || !args.failOnUnverified ? 0 : 1;
}

/** Fails closed from the start, and finds out now (before any request) whether the directory takes a write. */
export function failClosed(resultsDir: string): void {
  checkResultsDir(resultsDir);
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
      writeResults(resultsDir, resultValues({ error: `[${tag}] ${errorMessage(err)}`, imageDigest }, budget));
    } catch {
      // the directory was checked first; nothing more to do
    }
  }
  if (args.output === 'json') process.stdout.write(renderErrorJson(tag, errorMessage(err), VERSION));
  // Audit mode turns "not verified" and "could not reach" into success (VERIFIED=false); bad input still fails.
  if (!args.failOnUnverified && exitCodeFor(err) !== 2) return 0;
  return code;
}

/** `rekor-gate verify`: inputs are parsed and checked here once, then handed down as typed values. */
export async function runVerify(args: VerifyArgs): Promise<number> {
  let digest: ImageDigest | undefined;
  // Resolved lexically first: the StepAction passes `$(step.results.VERIFIED.path)/..`.
  const resultsDir = args.resultsDir === undefined ? undefined : path.resolve(args.resultsDir);
  const run = new AbortController();
  let deadline: NodeJS.Timeout | undefined;
  try {
    if (resultsDir) failClosed(resultsDir);
    if (args.imageDigest === undefined) throw new GateError('USAGE', 'give --image-digest (one image) or --images (several)');
    digest = parseImageDigest(args.imageDigest);
    const files = resolveDirFlags(args);
    const flow = await import('./vsa-flow.ts');
    flow.checkVsaFlags(args, files.vsaKey !== undefined);
    // A gate that only accepts summaries (--accept-vsa-from and no signer) has no attestation policy.
    const hasSigners = [args.key?.length, args.keyDir, args.publicKey?.length, args.certificateIdentity, args.certificateIdentityRegexp, files.policy].some(Boolean);
    // The policy file's loader (yaml, the policy schema) is imported only when a file is given.
    const file = files.policy ? (await import('../policy/file.ts')).loadPolicyFile(files.policy) : undefined;
    const vsaOnly = !hasSigners && (args.acceptVsaFrom?.length ?? 0) > 0;
    const policy = vsaOnly ? undefined : policyFromFlags(args, file);
    const wait = seconds(args.wait, 'wait', { max: MAX_WAIT_SECONDS });
    const timeoutS = timeoutMsOf(args.timeout) / 1000;
    const budget = resultsBudget(args.resultsBudget);
    const vsaKeyPem = files.vsaKey ? (await import('../vsa/index.ts')).readSigningKeyFile(files.vsaKey) : undefined;
    if (files.vsaKey && !files.vsa && !args.vsaPush) throw new GateError('USAGE', '--vsa-key needs --vsa FILE (or --vsa-dir) or --vsa-push');
    if (args.vsaUpload && !files.vsaKey) throw new GateError('USAGE', '--vsa-upload needs --vsa-key: only a signed VSA can be logged');
    if (args.vsaUpload && args.offline) throw new GateError('USAGE', '--vsa-upload sends to the log: not with --offline');
    const margin = runMarginSeconds(timeoutS);
    deadline = armRunDeadline(run, wait, margin);
    const byVsa = await flow.acceptVsaVerdict(args, digest, hasSigners, run.signal);
    if (byVsa) return finish(byVsa, args, resultsDir, budget);
    if (!policy) throw new GateError('INTERNAL', 'no policy and no verdict from --accept-vsa-from');
    const work = async (): Promise<Verdict> => {
      const s = await openLog(args, { certificateAuthorities: policy.keyless.length > 0 }, run.signal);
      try {
        const { finders, entryUrl } = await findersFor(args, s, digest as ImageDigest, run.signal);
        return await verify(
          { digest: digest as ImageDigest, imageUrl: args.imageUrl, rekorUrl: s.rekorUrl, policy, trust: s.trust, waitSeconds: wait },
          { finders, entryUrl, progress: stderr, sleep: (ms) => new Promise((r) => setTimeout(r, ms)), now: () => Date.now() },
        ).then(async (verdict) => {
          // Results first: a gate must not print VERIFIED and then fail to record it.
          if (resultsDir) writeResults(resultsDir, resultValues(verdict, budget));
          process.stdout.write(args.output === 'json' ? renderJson(verdict, VERSION) : renderText(verdict));
          if (files.vsa || vsaKeyPem) {
            const envelope = await writeSummary(files.vsa, verdict, policy, args.vsaVerifierId, vsaKeyPem, args.vsaUpload ? s : undefined);
            if (envelope && args.vsaPush && verdict.verified) await flow.pushSummary(args, digest as ImageDigest, envelope, run.signal);
          }
          return verdict;
        });
      } finally {
        await s.close();
      }
    };
    const running = work();
    running.catch(() => {}); // after the deadline its rejection is no longer awaited
    const verdict = await Promise.race([running, abortedBy(run.signal)]);
    if (verdict.verified) return 0;
    return args.failOnUnverified ? 1 : 0;
  } catch (err) {
    return failedRun(err, args, resultsDir, digest?.value);
  } finally {
    clearTimeout(deadline);
    run.abort(new GateError('NETWORK', 'the run has ended'));
  }
}
