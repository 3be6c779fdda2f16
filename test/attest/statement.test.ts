import { describe, expect, it } from 'vitest';
import { builderId, checkPredicateType, checkSubject, checkVsa, parseStatement } from '../../src/attest/statement.ts';
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

describe('verification summaries (VSA) are not evidence', () => {
  const POLICY = 'https://policies.example.test/release.yaml';
  const v1 = (result: string, policy = POLICY, resource = `oci://r.test/app@sha256:${hex}`) =>
    parseStatement(
      stmt({
        predicateType: 'https://slsa.dev/verification_summary/v1',
        predicate: { verifier: { id: 'x' }, verificationResult: result, policy: { uri: policy }, resourceUri: resource },
      }),
      'e',
    );
  const v02 = (result: string) =>
    parseStatement(
      stmt({ predicateType: 'https://slsa.dev/verification_summary/v0.2', predicate: { verification_result: result, policy: { uri: POLICY }, resource_uri: `sha256:${hex}` } }),
      'e',
    );

  it('never counts by default, PASSED or FAILED, v1 or v0.2: VSA_NOT_EVIDENCE', () => {
    for (const st of [v1('FAILED'), v1('PASSED'), v02('FAILED'), v02('PASSED')]) {
      expect(codeOf(() => checkVsa(st, digest, undefined, 'e'))).toBe('VSA_NOT_EVIDENCE');
    }
    expect(() => checkVsa(v1('FAILED'), digest, undefined, 'entry X')).toThrow(/^entry X: the statement is a verification summary \(https:\/\/slsa\.dev\/verification_summary\/v1, verificationResult FAILED, policy https:\/\/policies/);
  });

  it('a policy that asks for VSAs takes only a PASSED one, for its policy and this image', () => {
    const accept = { policyUri: POLICY };
    expect(() => checkVsa(v1('PASSED'), digest, accept, 'e')).not.toThrow();
    expect(() => checkVsa(v02('PASSED'), digest, accept, 'e')).not.toThrow();
    expect(() => checkVsa(v1('FAILED'), digest, accept, 'e')).toThrow(/only a PASSED summary/);
    expect(() => checkVsa(v1('PASSED', 'https://other.test/p'), digest, accept, 'e')).toThrow(/not made under the policy/);
    expect(() => checkVsa(v1('PASSED', POLICY, `oci://r.test/app@sha256:${'b'.repeat(64)}`), digest, accept, 'e')).toThrow(/its resource .* is not sha256:a{64}/);
  });

  it('leaves every other predicate type alone', () => {
    expect(() => checkVsa(parseStatement(stmt(), 'e'), digest, undefined, 'e')).not.toThrow();
  });
});

