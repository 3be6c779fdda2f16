import { builderId, checkPredicateType, checkSubject, parseStatement, type Statement } from '../attest/statement.ts';
import type { ImageDigest } from '../digest.ts';
import { GateError, errorMessage } from '../errors.ts';
import type { Policy } from '../policy/policy.ts';
import type { Trust } from '../trust/index.ts';
import type { CandidateOutcome, CheckName } from './types.ts';

export type CheckContext = {
  readonly digest: ImageDigest;
  readonly trust: Trust;
  readonly policy: Policy;
  /** Verification time in Unix seconds (only for the policy's maximum age). */
  readonly now: number;
};

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

/** The outcome of a candidate whose checks threw. */
export function failedOutcome(base: Omit<CandidateOutcome, 'status'>, err: unknown): CandidateOutcome {
  const check = err instanceof CheckFailure ? err.check : 'entry';
  const cause = err instanceof CheckFailure ? err.inner : err;
  // Whatever else a check threw came from reading what a peer sent (JSON nested past the stack, say): the
  // candidate fails alone, as malformed, and never as an internal error of the run.
  if (!(cause instanceof GateError)) {
    return { ...base, status: 'failed', check, code: 'ENTRY_MALFORMED', reason: `entry ${base.uuid}: could not be read (${errorMessage(cause).slice(0, 200)})` };
  }
  return { ...base, status: 'failed', check, code: cause.code, reason: errorMessage(cause) };
}

/**
 * The statement checks: an in-toto statement whose subject includes the image digest, an allowed predicate
 * type, and the policy file's rules (builder IDs, predicate schema, maximum age).
 */
export function checkStatement(payload: Buffer, integratedTime: number, ctx: CheckContext, where: string): Statement {
  const st = parseStatement(payload, where);
  checkSubject(st, ctx.digest, where);
  checkPredicateType(st, ctx.policy.predicateTypes, where);
  const policy = ctx.policy;
  if (policy.builderIds && policy.builderIds.length > 0) {
    const id = builderId(st);
    if (!id || !policy.builderIds.includes(id)) {
      throw new GateError('POLICY', `${where}: builder ID ${id ?? '(none)'} is not one of the allowed ${policy.builderIds.join(', ')}`);
    }
  }
  if (policy.predicateSchema) {
    const err = policy.predicateSchema(st.predicate ?? {});
    if (err) throw new GateError('POLICY', `${where}: the predicate does not satisfy the policy's predicateSchema: ${err}`);
  }
  const max = policy.maxAgeSeconds;
  if (max !== undefined && ctx.now - integratedTime > max) {
    throw new GateError(
      'POLICY',
      `${where}: the attestation was logged ${Math.round((ctx.now - integratedTime) / 3600)}h ago, older than the policy's maximum age of ${Math.round(max / 3600)}h`,
    );
  }
  return st;
}
