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

/** Distinct policy signers with a passing entry. */
export function passingSigners(outcomes: readonly CandidateOutcome[]): Set<string> {
  return new Set(outcomes.filter((o) => o.status === 'passed' && o.policySigner).map((o) => o.policySigner as string));
}

export type Decision = { readonly accepted?: CandidateOutcome; readonly reason?: string };

/** Verified when at least `minSigners` distinct trusted signers each have a passing entry; report the newest passing one. */
export function decide(outcomes: readonly CandidateOutcome[], minSigners: number): Decision {
  const best = newestPassing(outcomes);
  if (!best) return { reason: whyNone(outcomes) };
  const signers = passingSigners(outcomes);
  if (signers.size < minSigners) {
    return { reason: `the policy needs ${minSigners} distinct signers, only ${signers.size} have a passing entry (${[...signers].join(', ')})` };
  }
  return { accepted: best };
}

/** The image signature required: the newest passing one, or why none passed. */
export function decideSignature(outcomes: readonly CandidateOutcome[]): { accepted?: CandidateOutcome; reason?: string } {
  const signatures = outcomes.filter((o) => o.role === 'signature');
  const accepted = newestPassing(signatures);
  if (accepted) return { accepted };
  if (signatures.length === 0) return { reason: 'an image signature is required, and the registry holds none for this digest (no .sig layer, no signature bundle referrer)' };
  return { reason: `an image signature is required: ${whyNone(signatures).replace('candidate(s)', 'signature(s)')}` };
}
