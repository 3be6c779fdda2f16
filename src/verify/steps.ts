import { builderId, checkPredicateType, checkSubject, checkVsa, parseStatement, type Statement } from '../attest/statement.ts';
import type { ImageDigest } from '../digest.ts';
import { GateError, errorMessage, type Hint } from '../errors.ts';
import type { Policy } from '../policy/policy.ts';
import type { Trust } from '../trust/index.ts';
import { COSIGN_SIGN_PREDICATE_TYPE } from '../signature/payload.ts';
import { locationOf, type Candidate, type CandidateSource } from './candidate.ts';
import type { CandidateOutcome, CheckName } from './types.ts';
import { capped } from '../text.ts';

export type CheckContext = {
  readonly digest: ImageDigest;
  readonly trust: Trust;
  readonly policy: Policy;
  /** Verification time in Unix seconds (only for the policy's maximum age). */
  readonly now: number;
  /** Words a failure's hint (what to give instead) for the reason, as the caller names its inputs; none: left out. */
  readonly advise?: (hint: Hint) => string;
};

const SOURCE_TEXT: Record<CandidateSource, string> = {
  'rekor-search': "the log's search",
  'att-tag': "the registry's .att tag",
  'sig-tag': "the registry's .sig tag",
  'referrer-bundle': 'a Sigstore bundle referrer in the registry',
  'log-index': 'the log index given',
  'entry-url': 'the entry URL given',
  vsa: 'a verification summary referrer',
};

/**
 * How a candidate was found, for messages: "the registry's .att tag (<location>)", or the log's search, which
 * also returns entries that name the digest only as a material (so a subject mismatch is no surprise there).
 */
export function foundBy(c: Candidate): string {
  const names = c.sources.map((s) => SOURCE_TEXT[s]).join(' and ');
  if (c.sources.length > 0 && c.sources.every((s) => s === 'rekor-search')) {
    return `${names}, which also returns entries that list the digest as a material: probably how this one was found`;
  }
  const registry = c.sources.some((s) => s === 'att-tag' || s === 'sig-tag' || s === 'referrer-bundle');
  const location = locationOf(c);
  return `${names || 'an unknown source'}${registry && location ? ` (${location})` : ''}`;
}

/** A check that failed, tagged with the step it failed in. */
export class CheckFailure extends Error {
  readonly check: CheckName;
  readonly inner: unknown;
  constructor(check: CheckName, inner: unknown) {
    super(errorMessage(inner));
    this.check = check;
    this.inner = inner;
  }
}

export function step<T>(check: CheckName, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw err instanceof CheckFailure ? err : new CheckFailure(check, err);
  }
}

/** What a passing outcome shows of its statement and signer: peers' strings, capped. */
export function shownFields(st: Statement, signerLabel: string): { predicateType: string; signer: string; builderId?: string } {
  const id = builderId(st);
  return { predicateType: capped(st.predicateType), signer: capped(signerLabel), ...(id !== undefined ? { builderId: capped(id) } : {}) };
}

/** An outcome's role: a cosign 3 signature statement (predicate type https://sigstore.dev/cosign/sign/v1) is an image signature. */
export function roleOf(st: Statement): { role?: 'signature' } {
  return st.predicateType === COSIGN_SIGN_PREDICATE_TYPE ? { role: 'signature' } : {};
}
/** How many of a rule's failures a reason shows. */
const MAX_RULE_FAILURES = 3;

/** A candidate's reason is ours, quoting peers' strings capped: at most this long all told. */
export const MAX_REASON = 1024;

/** The outcome of a candidate whose checks threw; its reason ends with the hint, as `advise` words it. */
export function failedOutcome(base: Omit<CandidateOutcome, 'status'>, err: unknown, advise?: (hint: Hint) => string): CandidateOutcome {
  const check = err instanceof CheckFailure ? err.check : 'entry';
  const cause = err instanceof CheckFailure ? err.inner : err;
  // Whatever else a check threw came from reading what a peer sent (JSON nested past the stack, say): the
  // candidate fails alone, as malformed, and never as an internal error of the run.
  if (!(cause instanceof GateError)) {
    return { ...base, status: 'failed', check, code: 'ENTRY_MALFORMED', reason: `entry ${base.uuid}: could not be read (${capped(errorMessage(cause), 200)})` };
  }
  const advice = cause.hint && advise ? `; ${advise(cause.hint)}` : '';
  return { ...base, status: 'failed', check, code: cause.code, reason: capped(`${errorMessage(cause)}${advice}`, MAX_REASON) };
}

/** The policy's statement rules, the cheap ones or the costly ones; the first failing rule rejects, naming its failures. */
function judgeRules(st: Statement, policy: Policy, where: string, costly: boolean): void {
  for (const rule of policy.statementRules ?? []) {
    if ((rule.costly ?? false) !== costly) continue;
    const failures = rule.check(st);
    if (failures.length > 0) {
      const shown = failures.slice(0, MAX_RULE_FAILURES).map((f) => capped(f, 400));
      if (failures.length > MAX_RULE_FAILURES) shown.push(`and ${failures.length - MAX_RULE_FAILURES} more`);
      throw new GateError('POLICY', `${where}: ${rule.name} fails: ${shown.join('; ')}`);
    }
  }
}

/**
 * The statement's costly policy rules (CEL conditions): judged last, once the candidate's signatures and signer
 * passed, so that unsigned or untrusted statements never cost an evaluation.
 */
export function checkCostlyRules(st: Statement, ctx: CheckContext, where: string): void {
  step('statement', () => judgeRules(st, ctx.policy, where, true));
}

/**
 * The statement checks: an in-toto statement whose subject includes the image digest, an allowed predicate
 * type, not a verification summary, and the policy file's rules (builder IDs, predicate schema, maximum age).
 */
export function checkStatement(payload: Buffer, integratedTime: number, ctx: CheckContext, where: string, foundBy?: string): Statement {
  const st = parseStatement(payload, where);
  checkSubject(st, ctx.digest, where, foundBy);
  // cosign 3's image signature: a statement about the image, judged as a signature (roleOf), not by the attestation rules.
  if (st.predicateType === COSIGN_SIGN_PREDICATE_TYPE) return st;
  checkPredicateType(st, ctx.policy.predicateTypes, where);
  // No policy asks for VSAs yet: a verification summary is never evidence.
  checkVsa(st, ctx.digest, undefined, where);
  const policy = ctx.policy;
  if (policy.builderIds && policy.builderIds.length > 0) {
    const id = builderId(st);
    if (!id || !policy.builderIds.includes(id)) {
      throw new GateError('POLICY', `${where}: builder ID ${id === undefined ? '(none)' : capped(id)} is not one of the allowed ${policy.builderIds.join(', ')}`);
    }
  }
  if (policy.predicateSchema) {
    const err = policy.predicateSchema(st.predicate ?? {});
    if (err) throw new GateError('POLICY', `${where}: the predicate does not satisfy the policy's predicateSchema: ${capped(err, 1024)}`);
  }
  judgeRules(st, policy, where, false);
  const max = policy.maxAgeSeconds;
  if (max !== undefined && ctx.now - integratedTime > max) {
    throw new GateError(
      'POLICY',
      `${where}: the attestation was logged ${Math.round((ctx.now - integratedTime) / 3600)}h ago, older than the policy's maximum age of ${Math.round(max / 3600)}h`,
    );
  }
  return st;
}
