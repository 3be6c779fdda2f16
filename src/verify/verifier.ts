import { crypto as sigcrypto } from '@sigstore/core';
import type { ImageDigest } from '../digest.ts';
import type { Policy } from '../policy/policy.ts';
import type { Trust } from '../trust/index.ts';
import { isUnanchored } from '../policy/matcher.ts';
import { recordedEnvelopeHash } from './bodies.ts';
import { checkCandidate } from './check-candidate.ts';
import { decide, whyNone } from './decide.ts';
import type { Candidate, CandidateOutcome, Verdict } from './types.ts';

/**
 * Finds candidates; called once per poll. Implementations cache what cannot change (log entries), and may
 * hand each candidate to `early` as soon as it is fetched, so that checking overlaps the requests in flight.
 * `note` tells the report what a source left out (a bound it hit, content it skipped).
 */
export type CandidateFinder = (early?: (c: Candidate) => void, note?: (message: string) => void) => Promise<Candidate[]>;

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
};

/** Same entry (leaf hash) found by several sources: one candidate, the registry envelope kept. */
export function mergeCandidates(found: readonly Candidate[]): Candidate[] {
  const byLeaf = new Map<string, Candidate>();
  for (const c of found) {
    const leaf = c.bundleJson !== undefined ? c.uuid : c.uuid.slice(-64);
    const prev = byLeaf.get(leaf);
    if (!prev) {
      byLeaf.set(leaf, { ...c, sources: [...c.sources] });
      continue;
    }
    for (const s of c.sources) if (!prev.sources.includes(s)) prev.sources.push(s);
    // The log's copy of the entry wins over a registry pointer the log could not serve.
    if (prev.lookupError && !c.lookupError) {
      prev.uuid = c.uuid;
      prev.entry = c.entry;
      delete prev.lookupError;
    }
    // Exact uploaded bytes (an .att layer) win over an envelope re-encoded from a bundle.
    if (c.registryEnvelope && (!prev.registryEnvelope || (c.envelopeExact && !prev.envelopeExact))) {
      prev.registryEnvelope = c.registryEnvelope;
      prev.envelopeExact = c.envelopeExact;
      prev.registryLocation = c.registryLocation;
    }
  }
  return attachLooseEnvelopes([...byLeaf.values()]);
}

/**
 * An .att layer without a log pointer stands beside the candidate whose body records its hash (the binding is
 * then checked like any registry envelope); one that matches no candidate fails with its `lookupError` (the
 * registry holds an attestation with no log proof), so that the summary says so.
 */
function attachLooseEnvelopes(candidates: Candidate[]): Candidate[] {
  const loose = candidates.filter((c) => c.looseEnvelope);
  if (loose.length === 0) return candidates;
  const rest = candidates.filter((c) => !c.looseEnvelope);
  const byHash = new Map(loose.map((l) => [l.uuid.slice('envelope:'.length), l]));
  const attached = new Set<Candidate>();
  for (const c of rest) {
    if (c.registryEnvelope || c.bundleJson !== undefined) continue;
    const l = byHash.get(recordedEnvelopeHash(c.entry.body) ?? '');
    if (!l) continue;
    attached.add(l);
    c.registryEnvelope = l.registryEnvelope;
    c.envelopeExact = true;
    c.registryLocation = l.registryLocation;
    for (const s of l.sources) if (!c.sources.includes(s)) c.sources.push(s);
  }
  const unmatched = loose.filter((l) => !attached.has(l) && l.lookupError).map((l) => ({ ...l, looseEnvelope: false }));
  return [...rest, ...unmatched];
}

/**
 * Checks a candidate once per poll: what decides its outcome is its entry, the registry envelope beside it
 * and a failed lookup; where it was found only changes what the outcome reports.
 */
function memoized(check: (c: Candidate) => CandidateOutcome): (c: Candidate) => CandidateOutcome {
  const seen = new Map<string, CandidateOutcome>();
  return (c) => {
    const key = memoKey(c);
    let outcome = key === undefined ? undefined : seen.get(key);
    if (!outcome) {
      outcome = check(c);
      if (key !== undefined) seen.set(key, outcome);
    }
    return { ...outcome, sources: [...c.sources], registryLocation: c.registryLocation };
  };
}

/**
 * A short digest of what decides a candidate's outcome. Undefined when the peer's JSON cannot be serialized
 * (nested too deep for the stack): the candidate is then checked without memo, and fails on its own.
 */
function memoKey(c: Candidate): string | undefined {
  try {
    const envelope = c.registryEnvelope ? sigcrypto.digest('sha256', c.registryEnvelope).toString('hex') : '';
    const bundle = c.bundleJson === undefined ? '' : JSON.stringify(c.bundleJson);
    const text = [c.uuid, JSON.stringify(c.entry), envelope, c.envelopeExact ?? '', c.lookupError?.message ?? '', bundle].join('|');
    return sigcrypto.digest('sha256', Buffer.from(text)).toString('hex');
  } catch {
    return undefined;
  }
}

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
    const ctx = { digest: req.digest, trust: req.trust, policy: req.policy, now: Math.floor(deps.now() / 1000) };
    const judge = memoized((c) => checkCandidate(c, ctx));
    const found = (await Promise.all(deps.finders.map((f) => f(judge, note)))).flat();
    outcomes = mergeCandidates(found).map(judge);
    const { accepted: best, reason } = decide(outcomes, minSigners);
    const remaining = deadline - deps.now();
    if (best || remaining <= 0) {
      return {
        verified: best !== undefined,
        imageDigest: req.digest.value,
        imageUrl: req.imageUrl,
        rekorUrl: req.rekorUrl,
        accepted: best ? { ...best, entryUrl: best.entryUrl ?? deps.entryUrl(best.uuid) } : undefined,
        candidates: outcomes,
        reason,
        polls,
        warnings: [...policyWarnings(req.policy), ...notes],
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
