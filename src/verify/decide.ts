import type { CandidateOutcome } from './types.ts';

/** The newest passing candidate: latest integrated time, then highest log index. */
export function newestPassing(outcomes: readonly CandidateOutcome[]): CandidateOutcome | undefined {
  let best: CandidateOutcome | undefined;
  for (const o of outcomes) {
    if (o.status !== 'passed') continue;
    if (
      !best ||
      (o.integratedTime ?? 0) > (best.integratedTime ?? 0) ||
      ((o.integratedTime ?? 0) === (best.integratedTime ?? 0) && (o.logIndex ?? 0) > (best.logIndex ?? 0))
    ) {
      best = o;
    }
  }
  return best;
}

/** One line on why nothing passed, for the summary and the wait messages. */
export function whyNone(outcomes: readonly CandidateOutcome[]): string {
  if (outcomes.length === 0) return 'no entry in the log or the registry names this digest';
  const counts = new Map<string, number>();
  for (const o of outcomes) {
    const key = o.status === 'skipped' ? 'skipped (not an attestation kind)' : `${o.check} check failed (${o.code})`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return `${outcomes.length} candidate(s), none passed: ${[...counts].map(([k, n]) => `${n} ${k}`).join('; ')}`;
}
