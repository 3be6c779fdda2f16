import { describe, expect, it } from 'vitest';
import { builderId, checkPredicateType, checkSubject, parseStatement } from '../../src/attest/statement.ts';
import { parseImageDigest } from '../../src/digest.ts';
import { codeOf } from '../fixtures/errors.ts';

const hex = 'a'.repeat(64);
const digest = parseImageDigest(`sha256:${hex}`);
const stmt = (over: Record<string, unknown> = {}) =>
  Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'img', digest: { sha256: hex } }],
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: { runDetails: { builder: { id: 'https://tekton.dev/chains/v2' } } },
      ...over,
    }),
  );

describe('in-toto statements', () => {
  it('parses v1 and finds the SLSA v1 builder id', () => {
    const st = parseStatement(stmt(), 'e');
    expect(builderId(st)).toBe('https://tekton.dev/chains/v2');
    expect(() => checkSubject(st, digest, 'e')).not.toThrow();
  });

  it('finds the SLSA v0.2 builder id', () => {
    const st = parseStatement(stmt({ _type: 'https://in-toto.io/Statement/v0.1', predicate: { builder: { id: 'b' } } }), 'e');
    expect(builderId(st)).toBe('b');
  });

  it('rejects a payload that is not JSON or not a statement', () => {
    expect(codeOf(() => parseStatement(Buffer.from('nope'), 'e'))).toBe('STATEMENT_MALFORMED');
    expect(codeOf(() => parseStatement(stmt({ subject: [] }), 'e'))).toBe('STATEMENT_MALFORMED');
    expect(codeOf(() => parseStatement(stmt({ _type: 'https://example.com/x' }), 'e'))).toBe('STATEMENT_MALFORMED');
  });

  it('rejects a statement whose subject is another digest', () => {
    const st = parseStatement(stmt({ subject: [{ digest: { sha256: 'b'.repeat(64) } }] }), 'entry X');
    expect(codeOf(() => checkSubject(st, digest, 'entry X'))).toBe('SUBJECT_MISMATCH');
  });

  it('allows any predicate type by default and rejects one not in the list', () => {
    const st = parseStatement(stmt(), 'e');
    expect(() => checkPredicateType(st, [], 'e')).not.toThrow();
    expect(() => checkPredicateType(st, ['https://slsa.dev/provenance/v1'], 'e')).not.toThrow();
    expect(codeOf(() => checkPredicateType(st, ['https://slsa.dev/provenance/v0.2'], 'e'))).toBe('PREDICATE_TYPE');
  });
});
