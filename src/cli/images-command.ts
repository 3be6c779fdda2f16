import path from 'node:path';
import { parseImageDigest } from '../digest.ts';
import { GateError } from '../errors.ts';
import { renderManyJson, renderManyText } from '../report/many.ts';
import { manyResultValues } from '../tekton/many-results.ts';
import { resultsBudget, writeResults } from '../tekton/results.ts';
import { manyExitCode, verifyEach, type ImageOutcome, type ManyVerdict, type Subject } from '../verify/many.ts';
import { verify } from '../verify/verifier.ts';
import { printable } from '../text.ts';
import { adviser } from './hints.ts';
import { policyFromFlags, resolveDirFlags } from './inputs.ts';
import type { VerifyArgs } from './options.ts';
import { openLog } from './session.ts';
import { MAX_WAIT_SECONDS, seconds, timeoutMsOf } from './timeouts.ts';
import { abortedBy, armRunDeadline, failClosed, failedRun, runMarginSeconds } from './run.ts';
import { findersFor } from './finders-for.ts';
import { VERSION } from './version.ts';

/** At most this many images in one run (Chains' IMAGES of a large monorepo build stays far below). */
export const MAX_IMAGES = 256;
const ENTRY = /^([^\s@,]+)@(sha256:[0-9a-f]{64})$/;

/**
 * `--images`: Chains' IMAGES type hint, `REF@sha256:<hex>` items separated by commas and/or newlines (blank items
 * ignored; the same item twice counts once). Anything else is a usage error naming the item.
 */
export function parseImagesList(text: string): Subject[] {
  const items = [...new Set(text.split(/[\s,]+/).filter((s) => s !== ''))];
  if (items.length === 0) throw new GateError('USAGE', '--images is empty: give REF@sha256:<64 hex> items, comma- or newline-separated');
  if (items.length > MAX_IMAGES) throw new GateError('USAGE', `--images lists ${items.length} images, more than the ${MAX_IMAGES} one run verifies`);
  return items.map((item) => {
    const m = ENTRY.exec(item);
    if (!m) throw new GateError('BAD_IMAGE_REF', `--images item "${printable(item.slice(0, 200))}" is not REF@sha256:<64 lower-case hex>`);
    return { imageUrl: item, digest: parseImageDigest(m[2] as string) };
  });
}

/** The flags of a single-subject run (one entry, or a summary of one image) given with `args`: none go with --images or --platforms. */
export function singleSubjectFlags(args: VerifyArgs): string[] {
  const flags: [unknown, string][] = [
    [args.logIndex, '--log-index'],
    [args.entryUrl, '--entry-url'],
    [args.vsa ?? args.vsaDir, '--vsa'],
    [args.vsaPush || undefined, '--vsa-push'],
    [args.vsaUpload || undefined, '--vsa-upload'],
    [args.vsaKey ?? args.vsaKeyDir, '--vsa-key'],
    [args.vsaPolicyUri ?? args.vsaPolicyDigest ?? args.maxAge, '--vsa-policy-uri/--vsa-policy-digest/--max-age'],
    [args.acceptVsaFrom?.length || undefined, '--accept-vsa-from'],
  ];
  return flags.filter(([v]) => v !== undefined && v !== '').map(([, f]) => f);
}

/** The flags that name one image, one entry or a summary of one image: not with --images. */
function checkAlone(args: VerifyArgs): void {
  const image: [unknown, string][] = [
    [args.imageDigest, '--image-digest'],
    [args.imageUrl, '--image-url'],
  ];
  const given = [...image.filter(([v]) => v !== undefined && v !== '').map(([, f]) => f), ...singleSubjectFlags(args)];
  if (given.length > 0) throw new GateError('USAGE', `--images verifies each listed image by its own reference: not with ${given.join(', ')}`);
}

/** `rekor-gate verify --images LIST`: each image through the single-image pipeline, one log session shared. */
export function runVerifyImages(args: VerifyArgs & { images: string }): Promise<number> {
  return runMany(args, async () => {
    checkAlone(args);
    return { subjects: parseImagesList(args.images), known: [] };
  });
}

/** What a run over several subjects verifies, and outcomes already known (a platform the index lacks). */
export type Plan = { readonly subjects: readonly Subject[]; readonly known: readonly ImageOutcome[] };

/** Several subjects, each through the single-image pipeline under one log session; `plan` may read the registry. */
export async function runMany(args: VerifyArgs, plan: (signal: AbortSignal) => Promise<Plan>): Promise<number> {
  const resultsDir = args.resultsDir === undefined ? undefined : path.resolve(args.resultsDir);
  const run = new AbortController();
  let deadline: NodeJS.Timeout | undefined;
  try {
    if (resultsDir) failClosed(resultsDir);
    const files = resolveDirFlags(args);
    const file = files.policy ? await (await import('../policy/file.ts')).loadPolicyFile(files.policy) : undefined;
    const policy = policyFromFlags(args, file);
    const wait = seconds(args.wait, 'wait', { max: MAX_WAIT_SECONDS });
    const margin = runMarginSeconds(timeoutMsOf(args.timeout) / 1000);
    const budget = resultsBudget(args.resultsBudget, '--results-budget');
    deadline = armRunDeadline(run, wait, margin);
    const work = async (): Promise<ManyVerdict> => {
      const { subjects, known } = await plan(run.signal);
      const s = await openLog(args, { certificateAuthorities: policy.keyless.length > 0 }, run.signal);
      try {
        return await verifyEach(subjects, async (sub) => {
          const { finders, entryUrl } = await findersFor({ ...args, imageUrl: sub.imageUrl }, policy, s, sub.digest, run.signal);
          const progress = (line: string) => process.stderr.write(`${printable(`${sub.imageUrl}: ${line}`)}\n`);
          return verify(
            { digest: sub.digest, imageUrl: sub.imageUrl, rekorUrl: s.rekorUrl, policy, trust: s.trust, waitSeconds: wait },
            { finders, entryUrl, progress, sleep: (ms) => new Promise((r) => setTimeout(r, ms)), now: () => Date.now(), advise: adviser(sub) },
          );
        }, undefined, known);
      } finally {
        await s.close();
      }
    };
    const running = work();
    running.catch(() => {});
    const m = await Promise.race([running, abortedBy(run.signal)]);
    if (resultsDir) writeResults(resultsDir, manyResultValues(m, budget));
    process.stdout.write(args.output === 'json' ? renderManyJson(m, VERSION) : renderManyText(m));
    const code = manyExitCode(m);
    return code === 0 || args.failOnUnverified ? code : 0;
  } catch (err) {
    return failedRun(err, args, resultsDir);
  } finally {
    clearTimeout(deadline);
    run.abort(new GateError('NETWORK', 'the run has ended'));
  }
}
