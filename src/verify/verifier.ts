import type { ImageDigest } from '../digest.ts';
import type { Hint } from '../errors.ts';
import type { Policy } from '../policy/policy.ts';
import type { Trust } from '../trust/index.ts';
import { isUnanchored } from '../policy/matcher.ts';
import { checkCandidate } from './check-candidate.ts';
import { decide, decideSignature, whyNone } from './decide.ts';
import type { Candidate } from './candidate.ts';
import { mergeCandidates } from './merge.ts';
import type { CandidateOutcome, Verdict } from './types.ts';

/**
 * Finds candidates; called once per poll. Implementations cache what cannot change (log entries) and resolve
 * once every request they make has been answered: no check runs while a request of the run is still to be sent.
 * `note` tells the report what a source left out (a bound it hit, content it skipped).
 */
export type CandidateFinder = (note?: (message: string) => void) => Promise<Candidate[]>;

export type VerifyRequest = {
  readonly digest: ImageDigest;
  readonly imageUrl?: string;
  readonly rekorUrl: string;
  readonly policy: Policy;
  readonly trust: Trust;
  /** Seconds to keep polling for an acceptable entry (Chains uploads after the build ends). */
  readonly waitSeconds: number;
};

export type VerifyDeps = {
  readonly finders: readonly CandidateFinder[];
  readonly entryUrl: (uuid: string) => string;
  readonly progress: (message: string) => void;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
  /** Words a failed candidate's hint (what to give instead) in its reason, as the caller names its inputs. */
  readonly advise?: (hint: Hint) => string;
};

function policyWarnings(policy: Policy): string[] {
  return policy.keyless.flatMap((s) =>
    (['identity', 'issuer'] as const).flatMap((field) => {
      const m = s[field];
      return m.kind === 'regexp' && isUnanchored(m)
        ? [`${field} regexp /${m.source}/ is not anchored at both ends (^...$, no top-level |): it also accepts values that merely contain a match`]
        : [];
    }),
  );
}

/**
 * The verification pipeline: gather candidates from every source -> check each (entry, log, attestation,
 * statement, signer) -> decide (the newest passing one), polling while `waitSeconds` allows.
 */
export async function verify(req: VerifyRequest, deps: VerifyDeps): Promise<Verdict> {
  const deadline = deps.now() + req.waitSeconds * 1000;
  const minSigners = req.policy.minSigners ?? 1;
  let outcomes: CandidateOutcome[] = [];
  let polls = 0;
  let interval = 2000;
  const notes = new Set<string>();
  const note = (m: string): void => {
    notes.add(m);
  };
  for (;;) {
    polls++;
    const ctx = { digest: req.digest, trust: req.trust, policy: req.policy, now: Math.floor(deps.now() / 1000), advise: deps.advise };
    // Gather, then check: the checks (synchronous) never hold back a request still to be sent.
    const found = (await Promise.all(deps.finders.map((f) => f(note)))).flat();
    outcomes = mergeCandidates(found).map((c) => checkCandidate(c, ctx));
    const attestations = outcomes.filter((o) => o.role !== 'signature');
    const { accepted: best, reason: attestationReason } = decide(attestations, minSigners);
    const signature = req.policy.requireSignature ? decideSignature(outcomes) : undefined;
    const attested = best !== undefined || req.policy.requireAttestation === false;
    const done = attested && (signature === undefined || signature.accepted !== undefined);
    const reason = (req.policy.requireAttestation === false ? undefined : attestationReason) ?? signature?.reason;
    const remaining = deadline - deps.now();
    if (done || remaining <= 0) {
      return {
        verified: done,
        imageDigest: req.digest.value,
        imageUrl: req.imageUrl,
        rekorUrl: req.rekorUrl,
        accepted: done && best ? { ...best, entryUrl: best.entryUrl ?? deps.entryUrl(best.uuid) } : undefined,
        candidates: outcomes,
        reason,
        polls,
        warnings: [...policyWarnings(req.policy), ...notes],
        ...(signature ? { signature } : {}),
      };
    }
    const pause = Math.min(interval, remaining);
    deps.progress(
      `waiting for an acceptable attestation of ${req.digest.value} (${reason ?? whyNone(outcomes)}); polling again in ${(pause / 1000).toFixed(1)}s, ${Math.ceil(remaining / 1000)}s left`,
    );
    await deps.sleep(pause);
    interval = Math.min(interval * 1.5, 10_000);
  }
}
