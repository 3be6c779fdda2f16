import { GateError, errorMessage, exitCodeFor } from '../errors.ts';
import { mapLimit } from '../net/concurrency.ts';
import { capped } from '../text.ts';
import type { ImageOutcome, ManyVerdict, Subject, Verdict } from './types.ts';

export type { ImageOutcome, ManyVerdict, Subject } from './types.ts';

/** How many images are verified at once: each runs its own log search and registry reads under the run's shared request budget. */
export const IMAGE_CONCURRENCY = 4;

function outcomeOf(s: Subject, result: { verdict: Verdict } | { err: unknown }): ImageOutcome {
  const base = { imageUrl: s.imageUrl, imageDigest: s.digest.value, ...(s.label !== undefined ? { label: s.label } : {}) };
  if ('verdict' in result) return { ...base, status: result.verdict.verified ? 'verified' : 'failed', verdict: result.verdict };
  const err = result.err;
  const code = err instanceof GateError ? err.code : 'INTERNAL';
  return { ...base, status: exitCodeFor(err) === 3 ? 'unreachable' : 'error', code, reason: capped(errorMessage(err), 1024) };
}

/**
 * Verifies each image with `one` (the single-image pipeline), at most `limit` at a time; one image's failure or
 * error never stops the others. A usage error (exit 2) is the run's, not an image's: it is thrown.
 */
export async function verifyEach(
  subjects: readonly Subject[],
  one: (s: Subject) => Promise<Verdict>,
  limit = IMAGE_CONCURRENCY,
  known: readonly ImageOutcome[] = [],
): Promise<ManyVerdict> {
  const images = await mapLimit(subjects, limit, async (s) => {
    try {
      return outcomeOf(s, { verdict: await one(s) });
    } catch (err) {
      if (exitCodeFor(err) === 2) throw err;
      return outcomeOf(s, { err });
    }
  });
  return summarise([...images, ...known]);
}

export function summarise(images: readonly ImageOutcome[]): ManyVerdict {
  const count = (st: ImageOutcome['status'][]) => images.filter((i) => st.includes(i.status)).length;
  const passed = count(['verified']);
  return { verified: images.length > 0 && passed === images.length, total: images.length, passed, failed: count(['failed', 'error']), unreachable: count(['unreachable']), images };
}

/** Exit code of a run over several images: 0 all verified, 3 if any could not be checked, else 1. */
export function manyExitCode(m: ManyVerdict): 0 | 1 | 3 {
  if (m.verified) return 0;
  return m.unreachable > 0 ? 3 : 1;
}
