// `rekor-gate verify` for one image, once the log's search has left (verify-command.ts): the policy, the trusted
// root, the finders and the verifier; then results, the report and the VSA.
import { GateError } from '../errors.ts';
import type { ImageDigest } from '../digest.ts';
import type { Policy } from '../policy/policy.ts';
import { renderJson, renderText } from '../report/render.ts';
import { resultsBudget, resultValues, writeResults } from '../tekton/results.ts';
import type { Verdict } from '../verify/types.ts';
import { verify, type CandidateFinder } from '../verify/verifier.ts';
import { findersFor } from './finders-for.ts';
import { adviser } from './hints.ts';
import { policyFromFlags, resolveDirFlags } from './inputs.ts';
import { kyvernoPolicyFile } from './kyverno-policy-file.ts';
import type { VerifyArgs } from './options.ts';
import { abortedBy } from './run.ts';
import { openLog, type LogSession } from './session.ts';
import type { LogTransport } from './transport.ts';
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

/** A verdict reached without the log (a summary accepted, or none acceptable): results, then the report. */
function finish(verdict: Verdict, args: VerifyArgs, resultsDir: string | undefined, budget: number): number {
  if (resultsDir) writeResults(resultsDir, resultValues(verdict, budget));
  process.stdout.write(args.output === 'json' ? renderJson(verdict, VERSION) : renderText(verdict));
  return verdict.verified || !args.failOnUnverified ? 0 : 1;
}


/** What verify-command.ts has set up: the parsed digest and --wait, the run's signal, the search under way. */
export type Started = {
  readonly digest: ImageDigest;
  readonly wait: number;
  readonly resultsDir: string | undefined;
  readonly signal: AbortSignal;
  /** The run's transport to the log, when the search has started on it. */
  readonly transport?: LogTransport | undefined;
  readonly search?: CandidateFinder | undefined;
};

/** The rest of `rekor-gate verify` for one image; errors are the caller's (verify-command.ts). */
export async function verifyImage(args: VerifyArgs, st: Started): Promise<number> {
  const { digest, wait, resultsDir, signal } = st;
  const files = resolveDirFlags(args);
  const flow = await import('./vsa-flow.ts');
  flow.checkVsaFlags(args, files.vsaKey !== undefined);
  // A gate that only accepts summaries (--accept-vsa-from and no signer) has no attestation policy.
  const hasSigners = [args.key?.length, args.keyDir, args.publicKey?.length, args.certificateIdentity, args.certificateIdentityRegexp, files.policy].some(Boolean);
  // The Kyverno policy (its loader imported only when one is given): its requirements are added to the flags'.
  const kyvernoFile = kyvernoPolicyFile(args);
  const kyverno = kyvernoFile ? await (await import('./kyverno-flow.ts')).loadAdmission(kyvernoFile, args.kyvernoIgnoreTlog) : undefined;
  if (kyverno && !args.imageUrl) throw new GateError('USAGE', '--kyverno-policy needs --image-url: its rules apply by image reference, and the signatures it requires are in the registry');
  // The policy file's loader (yaml, the policy schema) is imported only when a file is given.
  const file = files.policy ? await (await import('../policy/file.ts')).loadPolicyFile(files.policy) : undefined;
  const vsaOnly = !hasSigners && (args.acceptVsaFrom?.length ?? 0) > 0;
  const policy = vsaOnly || (kyverno && !hasSigners) ? undefined : policyFromFlags(args, file);
  const budget = resultsBudget(args.resultsBudget, '--results-budget');
  const vsaKeyPem = files.vsaKey ? (await import('../vsa/index.ts')).readSigningKeyFile(files.vsaKey) : undefined;
  if (files.vsaKey && !files.vsa && !args.vsaPush) throw new GateError('USAGE', '--vsa-key needs --vsa FILE (or --vsa-dir) or --vsa-push');
  if (args.vsaUpload && !files.vsaKey) throw new GateError('USAGE', '--vsa-upload needs --vsa-key: only a signed VSA can be logged');
  if (args.vsaUpload && args.offline) throw new GateError('USAGE', '--vsa-upload sends to the log: not with --offline');
  const byVsa = await flow.acceptVsaVerdict(args, digest, hasSigners, signal);
  // A summary stands in for the flags' attestations only: a Kyverno policy given beside it is still applied.
  if (byVsa && !kyverno) return finish(byVsa, args, resultsDir, budget);
  if (!policy && !kyverno) throw new GateError('INTERNAL', 'no policy and no verdict from --accept-vsa-from');
  if (policy?.requireSignature && !args.imageUrl) {
    throw new GateError('USAGE', `an image signature is required (${args.requireSignature ? '--require-signature' : 'the policy file\'s signature.required'}) and only the registry holds it: give --image-url`);
  }
  const work = async (): Promise<Verdict> => {
    const s = await openLog(args, { certificateAuthorities: kyverno !== undefined || (policy?.keyless.length ?? 0) > 0 }, signal, st.transport);
    try {
      let verdict: Verdict | undefined = byVsa;
      if (policy && !byVsa) {
        const { finders, entryUrl } = await findersFor(args, policy, s, digest, signal, st.search);
        verdict = await verify(
          { digest, imageUrl: args.imageUrl, rekorUrl: s.rekorUrl, policy, trust: s.trust, waitSeconds: wait },
          { finders, entryUrl, progress: stderr, sleep: (ms) => new Promise((r) => setTimeout(r, ms)), now: () => Date.now(), advise: adviser(args) },
        );
      }
      if (kyverno) verdict = await (await import('./kyverno-flow.ts')).admissionVerdict(args, kyverno, verdict, policy, s, digest, wait, signal);
      if (!verdict) throw new GateError('INTERNAL', 'no verdict');
      // The policy a summary records, reported with the verdict so that a later gate can pin it (--vsa-policy-digest).
      const recorded = policy && !byVsa && (files.vsa || vsaKeyPem) ? (await import('../vsa/index.ts')).summaryPolicyOf(policy) : undefined;
      if (recorded) verdict = { ...verdict, summaryPolicy: { uri: recorded.uri, digest: `sha256:${recorded.sha256}` } };
      // Results first: a gate must not print VERIFIED and then fail to record it.
      if (resultsDir) writeResults(resultsDir, resultValues(verdict, budget));
      process.stdout.write(args.output === 'json' ? renderJson(verdict, VERSION) : renderText(verdict));
      // A run passed on another's summary writes none (as without --kyverno-policy, finish()).
      if ((files.vsa || vsaKeyPem) && !byVsa) {
        if (!policy) throw new GateError('USAGE', 'a verification summary (--vsa, --vsa-key) records the flags\' policy: give a signer flag or --policy beside --kyverno-policy');
        const envelope = await writeSummary(files.vsa, verdict, policy, args.vsaVerifierId, vsaKeyPem, args.vsaUpload ? s : undefined);
        if (verdict.summaryPolicy) {
          const p = verdict.summaryPolicy;
          stderr(`VSA made under the policy ${p.uri} ${p.digest}: a later gate pins it with --vsa-policy-uri ${p.uri} --vsa-policy-digest ${p.digest}`);
        }
        if (envelope && args.vsaPush && verdict.verified) await flow.pushSummary(args, digest, envelope, signal);
      }
      return verdict;
    } finally {
      await s.close();
    }
  };
  const running = work();
  running.catch(() => {}); // after the deadline its rejection is no longer awaited
  const verdict = await Promise.race([running, abortedBy(signal)]);
  if (verdict.verified) return 0;
  return args.failOnUnverified ? 1 : 0;
}
