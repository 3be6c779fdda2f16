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

export function checkSubject(statement: Statement, digest: ImageDigest, where: string): void {
  if (!hasSubject(statement, digest)) {
    const seen = statement.subject
      .map((s) => capped(Object.entries(s.digest).map(([a, v]) => `${a}:${v}`).join(',')))
      .slice(0, 3)
      .join(' ');
    throw new GateError(
      'SUBJECT_MISMATCH',
      `${where}: the statement's subject does not include ${digest.value} (subjects: ${seen}); the entry was probably found through a material digest`,
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
