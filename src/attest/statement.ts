import type { ImageDigest } from '../digest.ts';
import { GateError } from '../errors.ts';
import { schemaError } from './schemas.ts';
import { capped } from '../text.ts';

export type Statement = {
  _type: string;
  subject: { name?: string; digest: Record<string, string> }[];
  predicateType: string;
  predicate?: Record<string, unknown>;
};

/** Parses an in-toto statement (v0.1 or v1) from a DSSE payload. `where` names the entry for messages. */
export function parseStatement(payload: Buffer, where: string): Statement {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new GateError('STATEMENT_MALFORMED', `${where}: the attestation payload is not JSON`);
  }
  const err = schemaError('statement', value);
  if (err) throw new GateError('STATEMENT_MALFORMED', `${where}: the attestation is not an in-toto statement: ${err}`);
  return value as Statement;
}

export function hasSubject(statement: Statement, digest: ImageDigest): boolean {
  return statement.subject.some((s) => s.digest[digest.algorithm]?.toLowerCase() === digest.hex);
}

/** `foundBy` says how the entry was found (the log's search, the registry ...), for the message. */
export function checkSubject(statement: Statement, digest: ImageDigest, where: string, foundBy?: string): void {
  if (!hasSubject(statement, digest)) {
    const seen = statement.subject
      .map((s) => capped(Object.entries(s.digest).map(([a, v]) => `${a}:${v}`).join(',')))
      .slice(0, 3)
      .join(' ');
    throw new GateError(
      'SUBJECT_MISMATCH',
      `${where}: the statement's subject does not include ${digest.value} (subjects: ${seen})${foundBy ? `; found by ${foundBy}` : ''}`,
    );
  }
}

export function checkPredicateType(statement: Statement, allowed: readonly string[], where: string): void {
  if (allowed.length > 0 && !allowed.includes(statement.predicateType)) {
    throw new GateError(
      'PREDICATE_TYPE',
      `${where}: predicate type ${capped(statement.predicateType)} is not one of the allowed ${allowed.join(', ')}`,
    );
  }
}

function stringAt(obj: unknown, path: readonly string[]): string | undefined {
  let cur: unknown = obj;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return typeof cur === 'string' ? cur : undefined;
}

/** The builder ID of SLSA provenance v0.1/v0.2 (`predicate.builder.id`) or v1 (`predicate.runDetails.builder.id`). */
export function builderId(statement: Statement): string | undefined {
  return stringAt(statement.predicate, ['runDetails', 'builder', 'id']) ?? stringAt(statement.predicate, ['builder', 'id']);
}

/** SLSA verification summary attestations (VSA) v1 and v0.2. */
export const VSA_PREDICATE_TYPES: readonly string[] = ['https://slsa.dev/verification_summary/v1', 'https://slsa.dev/verification_summary/v0.2'];

/**
 * What a policy that asks for VSAs explicitly names: the policy the summary must have been made under. A URI alone
 * names a path (rekor-gate:flags, a file:// path), not what it held: `policyDigest` (lower-case hex sha256) pins that.
 */
export type VsaAcceptance = { readonly policyUri: string; readonly policyDigest?: string | undefined };

/**
 * A VSA records another verifier's decision, not how the image was built: it is never evidence by itself
 * (VSA_NOT_EVIDENCE), whatever its result and whoever signed it, so that a gate's own FAILED summary, logged with
 * --vsa-upload, never passes a later gate. Only a policy that asks for VSAs explicitly (`accept`) takes one, and
 * then only with verificationResult PASSED, for the policy it names and for this image as its resource.
 */
export function checkVsa(statement: Statement, digest: ImageDigest, accept: VsaAcceptance | undefined, where: string): void {
  if (!VSA_PREDICATE_TYPES.includes(statement.predicateType)) return;
  const p = statement.predicate;
  const result = stringAt(p, ['verificationResult']) ?? stringAt(p, ['verification_result']);
  const policyUri = stringAt(p, ['policy', 'uri']);
  const resource = stringAt(p, ['resourceUri']) ?? stringAt(p, ['resource_uri']);
  const what = `${where}: the statement is a verification summary (${capped(statement.predicateType)}, verificationResult ${capped(result ?? '(none)')}, policy ${capped(policyUri ?? '(none)')})`;
  if (!accept) {
    throw new GateError(
      'VSA_NOT_EVIDENCE',
      `${what}: another verifier's decision is not evidence of how the image was built, so it never counts as the image's attestation`,
    );
  }
  if (result !== 'PASSED') throw new GateError('VSA_NOT_EVIDENCE', `${what}: only a PASSED summary is accepted`);
  if (policyUri !== accept.policyUri) throw new GateError('VSA_NOT_EVIDENCE', `${what}: not made under the policy ${accept.policyUri}`);
  if (accept.policyDigest !== undefined) {
    const named = stringAt(p, ['policy', 'digest', 'sha256'])?.toLowerCase();
    if (named !== accept.policyDigest) {
      throw new GateError('VSA_NOT_EVIDENCE', `${what}: its policy digest ${named ? `sha256:${capped(named)}` : '(none)'} is not sha256:${accept.policyDigest}`);
    }
  }
  if (!resource?.includes(digest.hex)) {
    throw new GateError('VSA_NOT_EVIDENCE', `${what}: its resource ${capped(resource ?? '(none)')} is not ${digest.value}`);
  }
}

