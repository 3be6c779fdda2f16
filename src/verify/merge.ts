// One candidate per entry, whatever number of sources named it.
import { recordedEnvelopeHash } from './bodies.ts';
import type { Candidate, CandidateSource, EnvelopeCandidate, RegistryCopy } from './candidate.ts';

/**
 * The key that says two candidates are the same entry: the 64-hex leaf hash that ends an entry ID (a registry
 * names an entry by it, the log's search by the 80-hex ID); a bundle's own name. Undefined for an envelope
 * awaiting its entry, which joins an entry by the hash its body records instead.
 */
export function leafOf(c: Candidate): string | undefined {
  if (c.kind === 'envelope') return undefined;
  // An image signature is judged apart from the attestations, even were it to name the same entry.
  if (c.kind === 'signature') return `signature:${c.uuid}@${c.location}`;
  return c.kind === 'bundle' ? c.uuid : c.uuid.slice(-64);
}

const union = (a: readonly CandidateSource[], b: readonly CandidateSource[]): CandidateSource[] => [...a, ...b.filter((s) => !a.includes(s))];

/** Exact uploaded bytes (an .att layer) win over an envelope re-encoded from a bundle; otherwise the first found. */
function better(a: RegistryCopy | undefined, b: RegistryCopy | undefined): RegistryCopy | undefined {
  if (!a) return b;
  return b && b.exact && !a.exact ? b : a;
}

/** Two candidates for the same entry as one: the log's copy of the entry wins over a lookup that failed. */
function join(prev: Candidate, c: Candidate): Candidate {
  const sources = union(prev.sources, c.sources);
  if (prev.kind === 'entry' || prev.kind === 'failed') {
    const envelope = better(prev.envelope, c.kind === 'entry' || c.kind === 'failed' ? c.envelope : undefined);
    const base = prev.kind === 'failed' && c.kind === 'entry' ? c : prev;
    return { ...base, sources, ...(envelope ? { envelope } : {}) };
  }
  return { ...prev, sources };
}

/** Same entry (leaf hash) found by several sources: one candidate, the registry envelope kept. Inputs are not changed. */
export function mergeCandidates(found: readonly Candidate[]): Candidate[] {
  const byLeaf = new Map<string, Candidate>();
  const loose: EnvelopeCandidate[] = [];
  for (const c of found) {
    const leaf = leafOf(c);
    if (leaf === undefined) {
      if (c.kind === 'envelope') loose.push(c);
      continue;
    }
    const prev = byLeaf.get(leaf);
    byLeaf.set(leaf, prev ? join(prev, c) : { ...c, sources: [...c.sources] });
  }
  return attachLooseEnvelopes([...byLeaf.values()], loose);
}

/**
 * An .att layer without a log pointer stands beside the entry whose body records its hash (the binding is then
 * checked like any registry envelope); one that matches no entry stays, and fails as unproven (the registry
 * holds an attestation with no log proof), so that the summary says so.
 */
function attachLooseEnvelopes(candidates: Candidate[], loose: readonly EnvelopeCandidate[]): Candidate[] {
  if (loose.length === 0) return candidates;
  const byHash = new Map(loose.map((l) => [l.hash, l]));
  const attached = new Set<EnvelopeCandidate>();
  const out = candidates.map((c): Candidate => {
    if (c.kind !== 'entry' || c.envelope) return c;
    const l = byHash.get(recordedEnvelopeHash(c.entry.body) ?? '');
    if (!l) return c;
    attached.add(l);
    return { ...c, envelope: l.envelope, sources: union(c.sources, l.sources) };
  });
  return [...out, ...loose.filter((l) => !attached.has(l))];
}
