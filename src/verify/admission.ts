// The cluster's admission policy applied at the gate: each verifyImages entry that applies to the image, its
// attestors as required image signatures and its attestations as required attestations, each judged by verify().
import type { AdmissionPolicy, AttestationRequirement, AttestorEntry, AttestorEvidence, AttestorSet, CompiledIvp, ImageRule, IvpAttestor, LogChoice } from '../kyverno/index.ts';
import { appliesTo, imageData, ivpMatches, judgeImage } from '../kyverno/index.ts';
import { GateError } from '../errors.ts';
import type { Policy, StatementRule } from '../policy/policy.ts';
import type { AdmissionOutcome, CandidateOutcome, Verdict } from './types.ts';

/** One verify() run for a signer and the log its attestor names (the CLI opens that log). */
export type AdmissionRun = (policy: Policy, log: LogChoice | undefined) => Promise<Verdict>;

/** An attestor entry; one of the flags' signers has no log of its own (the run's log: undefined). */
type Entry = AttestorEntry | (Omit<Extract<AttestorEntry, { kind: 'signer' }>, 'log'> & { readonly log?: LogChoice });
type Group = Omit<AttestorSet, 'entries'> & { readonly entries: readonly Entry[] };

export type AdmissionResult = {
  readonly verified: boolean;
  readonly outcomes: readonly AdmissionOutcome[];
  /** The verdicts of the runs, for their candidates. */
  readonly verdicts: readonly Verdict[];
  /**
   * The rules that did not apply to the image (no imageReferences glob matches, or a skip one does), and the
   * ImageValidatingPolicies whose matchImageReferences it does not match.
   */
  readonly skipped: readonly string[];
};

type Ctx = { readonly rule: ImageRule; readonly run: AdmissionRun; readonly verdicts: Verdict[]; readonly outcomes: AdmissionOutcome[] };

/**
 * Which registry sources a rule's signatures (attestations) may come from: a SigstoreBundle rule reads bundle
 * referrers, a Cosign rule the .sig (.att) tag, and referrers too only with cosignOCI11 (kyverno
 * api/kyverno/v1/image_verification_types.go); never the log's search (cosign VerifyImageAttestations reads the
 * registry only), so an entry found only there satisfies nothing admission will see.
 */
function fromRightPlace(rule: ImageRule, o: CandidateOutcome, which: 'signature' | 'attestation' = 'signature'): boolean {
  if (rule.type === 'SigstoreBundle') return o.sources.includes('referrer-bundle');
  return o.sources.includes(which === 'signature' ? 'sig-tag' : 'att-tag') || (rule.cosignOCI11 && o.sources.includes('referrer-bundle'));
}

/** Why a run did not satisfy the requirement: its reason, and the first failed candidate's own reason. */
function reasonOf(v: Verdict, which: 'signature' | 'attestation'): string {
  const why = (which === 'signature' ? v.signature?.reason : v.reason) ?? v.reason ?? 'not verified';
  const first = v.candidates.find((c) => c.status === 'failed' && (c.role === 'signature') === (which === 'signature'));
  return first?.reason ? `${why}; first: ${first.reason}` : why;
}

/** A path within the verifyImages entry (`.attestors[0].entries[1].keys`): the rule and entry are named beside it. */
function relative(rule: ImageRule, p: string): string {
  const prefix = `${rule.policy} rule ${rule.rule} ${rule.entry}`;
  return p.startsWith(prefix) ? p.slice(prefix.length) : p;
}

/** Whether one attestor entry is satisfied: a signer's signature (or attestation) passes, or its nested set does. */
async function entryPasses(c: Ctx, e: Entry, what: { kind: 'signature' } | { kind: 'attestation'; a: AttestationRequirement }): Promise<boolean> {
  if (e.kind === 'nested') return setPasses(c, e.set, what);
  const base = { keys: e.keys, keyless: e.keyless, predicateTypes: [] as string[] };
  const policy: Policy =
    what.kind === 'signature'
      ? { ...base, requireSignature: true, requireAttestation: false, ...(e.log?.ignoreTlog ? { signatureWithoutLog: true } : {}) }
      : { ...base, predicateTypes: [what.a.type], ...(what.a.conditions ? { predicateSchema: what.a.conditions } : {}) };
  const v = await c.run(policy, e.log);
  c.verdicts.push(v);
  const role = (o: CandidateOutcome): boolean => (o.role === 'signature') === (what.kind === 'signature');
  const rightPlace = v.candidates.find((o) => role(o) && o.status === 'passed' && fromRightPlace(c.rule, o, what.kind));
  const accepted = rightPlace ?? (what.kind === 'signature' ? v.signature?.accepted : v.accepted);
  const passed = (what.kind === 'signature' || v.verified) && accepted !== undefined && fromRightPlace(c.rule, accepted, what.kind);
  c.outcomes.push({
    policy: c.rule.policy,
    rule: c.rule.rule,
    entry: c.rule.entry,
    at: what.kind === 'signature' ? relative(c.rule, e.path) : `${relative(c.rule, e.path)} (${what.a.type})`,
    requirement: what.kind,
    passed,
    ...(passed && accepted ? { uuid: accepted.uuid, signer: accepted.signer ?? '' } : { reason: accepted && !passed ? `the ${what.kind} found (${accepted.sources.join('+')}) is not where a ${c.rule.type} rule reads them` : reasonOf(v, what.kind) }),
  });
  return passed;
}

async function setPasses(c: Ctx, set: Group, what: { kind: 'signature' } | { kind: 'attestation'; a: AttestationRequirement }): Promise<boolean> {
  let passed = 0;
  for (const e of set.entries) {
    if (await entryPasses(c, e, what)) passed++;
    if (passed >= set.count) return true;
  }
  return false;
}

/** The log an IVP attestor names (ctlog.url, ctlog.rekorPubKey); undefined: the run's. */
const ivpLog = (t: IvpAttestor): LogChoice | undefined =>
  t.rekorUrl === undefined ? undefined : { url: t.rekorUrl, ignoreTlog: false, ...(t.rekorPublicKey ? { publicKeyPem: t.rekorPublicKey } : {}) };

/**
 * The verified evidence an ImageValidatingPolicy's validations read, by attestor: whether verify() accepted an
 * image signature by it, and for each named intoto attestation the statement of a candidate verify() passed
 * (every check: log, DSSE signature, signer, subject, predicate type). The statement is handed back by a costly
 * statement rule, which verify() judges last, once a candidate's signatures and signer passed (steps.ts); it
 * rejects nothing. A run that verified nothing leaves the attestation absent: extractPayload then fails.
 */
async function ivpEvidence(p: CompiledIvp, run: AdmissionRun, verdicts: Verdict[]): Promise<Record<string, AttestorEvidence>> {
  const out: Record<string, AttestorEvidence> = {};
  for (const t of p.attestors) {
    const log = ivpLog(t);
    const base = { keys: t.keys, keyless: t.keyless };
    const sig = await run({ ...base, predicateTypes: [], requireSignature: true, requireAttestation: false }, log);
    verdicts.push(sig);
    const attestations: Record<string, unknown> = {};
    for (const a of p.attestations) {
      const seen: unknown[] = [];
      const handBack: StatementRule = {
        name: `ImageValidatingPolicy ${p.name} attestation ${a.name}`,
        costly: true,
        check: (st) => {
          if (st.predicateType === a.type) seen.push(st);
          return [];
        },
      };
      const v = await run({ ...base, predicateTypes: [a.type], statementRules: [handBack] }, log);
      verdicts.push(v);
      if (v.verified && seen.length > 0) attestations[a.name] = seen[0];
    }
    out[t.name] = { signature: sig.verified && sig.signature?.accepted !== undefined, attestations };
  }
  return out;
}

/** What each attestor's evidence verified, for the outcome of a policy that passed. */
function evidenceLine(ev: Readonly<Record<string, AttestorEvidence>>): string {
  const parts = Object.entries(ev).flatMap(([name, e]) => [...(e.signature ? [`signature by ${name}`] : []), ...Object.keys(e.attestations).map((a) => `attestation ${a} by ${name}`)]);
  return parts.length > 0 ? parts.join(', ') : 'nothing verified';
}

/**
 * Applies one ImageValidatingPolicy that matches the image: the evidence of its attestors verified, then its
 * validations judged over it (Kyverno's image library answering from that evidence). Each failure is an outcome
 * naming the policy, where (`spec.validations[0]`) and why (the validation's message).
 */
async function applyIvp(p: CompiledIvp, image: { ref: string; digest: string }, run: AdmissionRun, verdicts: Verdict[], outcomes: AdmissionOutcome[]): Promise<boolean> {
  const evidence = await ivpEvidence(p, run, verdicts);
  const judged = judgeImage(p, image.ref, evidence, imageData(image.ref, image.digest));
  const policy = `ImageValidatingPolicy/${p.name}`;
  if (judged.passed) {
    outcomes.push({ policy, rule: '', entry: 'spec.validations', at: '', requirement: 'validation', passed: true, signer: evidenceLine(evidence) });
  }
  for (const f of judged.findings) outcomes.push({ policy, rule: '', entry: f.at, at: '', requirement: 'validation', passed: false, reason: f.reason });
  return judged.passed;
}

/**
 * Applies the policy's rules to the image: every rule that applies must hold, each of its attestor sets (at
 * least `count` entries with a passing image signature) and each attestation (of its type, by its attestors, its
 * conditions on the predicate). `flagSigners` sign an attestation that names no attestors.
 */
export async function verifyAdmission(ap: AdmissionPolicy, image: { ref: string; digest: string }, flagSigners: Pick<Policy, 'keys' | 'keyless'> | undefined, run: AdmissionRun): Promise<AdmissionResult> {
  const verdicts: Verdict[] = [];
  const outcomes: AdmissionOutcome[] = [];
  const skipped: string[] = [];
  let verified = true;
  for (const rule of ap.rules) {
    if (!appliesTo(rule, image.ref, image.digest)) {
      skipped.push(`${rule.policy} rule ${rule.rule} ${rule.entry}`);
      continue;
    }
    const c: Ctx = { rule, run, verdicts, outcomes };
    for (const set of rule.attestors) if (!(await setPasses(c, set, { kind: 'signature' }))) verified = false;
    for (const a of rule.attestations) {
      let sets: readonly Group[] = a.attestors;
      if (sets.length === 0) {
        if (!flagSigners || (flagSigners.keys.length === 0 && flagSigners.keyless.length === 0)) {
          throw new GateError('BAD_POLICY', `${rule.policy} rule ${rule.rule} ${a.path}: names no attestors, and no other signer is given: rekor-gate checks an attestation only by a named signer`, {
            hint: { give: 'signer', withPolicyFile: false },
          });
        }
        sets = [{ path: `${a.path}.attestors (the signers given)`, count: 1, entries: [{ kind: 'signer', path: `${a.path} (the signers given)`, keys: flagSigners.keys, keyless: flagSigners.keyless }] }];
      }
      for (const set of sets) if (!(await setPasses(c, set, { kind: 'attestation', a }))) verified = false;
    }
  }
  for (const p of ap.ivps ?? []) {
    let matches: boolean;
    try {
      matches = ivpMatches(p, image.ref);
    } catch (err) {
      outcomes.push({ policy: `ImageValidatingPolicy/${p.name}`, rule: '', entry: 'spec.matchImageReferences', at: '', requirement: 'validation', passed: false, reason: `could not be evaluated: ${(err as Error).message}` });
      verified = false;
      continue;
    }
    if (!matches) {
      skipped.push(`ImageValidatingPolicy/${p.name}`);
      continue;
    }
    if (!(await applyIvp(p, image, run, verdicts, outcomes))) verified = false;
  }
  if (outcomes.length === 0) verified = false;
  return { verified, outcomes, verdicts, skipped };
}

/** The verdict of a run that applied the admission policy: the flags' own verdict (if any) and the policy's. */
export function withAdmission(own: Verdict | undefined, adm: AdmissionResult, base: Pick<Verdict, 'imageDigest' | 'imageUrl' | 'rekorUrl'>): Verdict {
  const failed = adm.outcomes.filter((o) => !o.passed);
  const why =
    adm.outcomes.length === 0
      ? `no rule or ImageValidatingPolicy of the admission policy applies to ${base.imageUrl ?? base.imageDigest} (skipped: ${adm.skipped.join(', ') || 'none'})`
      : failed.length > 0
        ? `the admission policy is not satisfied: ${failed.map((o) => `${o.rule ? `rule ${o.rule}` : o.policy} ${o.entry}${o.at}: ${o.reason ?? ''}`).join('; ')}`
        : undefined;
  const seen = new Set<string>();
  const candidates = [...(own?.candidates ?? []), ...adm.verdicts.flatMap((v) => v.candidates)].filter((c) => {
    const k = `${c.role ?? ''}${c.uuid}${c.registryLocation ?? ''}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  const verified = (own?.verified ?? true) && adm.verified;
  const accepted = own?.accepted ?? adm.verdicts.find((v) => v.verified && v.accepted)?.accepted;
  const signature = own?.signature ?? adm.verdicts.find((v) => v.signature?.accepted)?.signature;
  return {
    ...base,
    verified,
    ...(verified && accepted ? { accepted } : {}),
    candidates,
    ...(own && !own.verified ? { reason: own.reason } : why ? { reason: why } : {}),
    polls: Math.max(own?.polls ?? 0, ...adm.verdicts.map((v) => v.polls)),
    warnings: [...(own?.warnings ?? []), ...new Set(adm.verdicts.flatMap((v) => v.warnings))],
    ...(signature ? { signature } : {}),
    admission: { verified: adm.verified, outcomes: adm.outcomes, skipped: adm.skipped },
  };
}
