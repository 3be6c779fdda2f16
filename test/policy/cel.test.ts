import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GateError } from '../../src/errors.ts';
import { loadPolicyFile } from '../../src/policy/file.ts';
import { celInput, compileConditions, INPUT_LIMITS } from '../../src/policy/cel/conditions.ts';
import { checkExpression, LIMITS } from '../../src/policy/cel/expression.ts';
import { evaluateConditions, stopSandbox } from '../../src/policy/cel/sandbox.ts';
import { chainsStatement, promotionBuild } from '../fixtures/chains-provenance.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'rekor-gate-cel-'));
});
afterAll(() => {
  stopSandbox();
  rmSync(dir, { recursive: true, force: true });
});

const HEADER = 'apiVersion: rekor-gate.dev/v1alpha1\nkind: Policy\nspec:\n  conditions:\n';

async function policyWith(conditions: { expression: string; message?: string }[]) {
  const file = path.join(dir, `p-${Math.random().toString(16).slice(2)}.json`);
  writeFileSync(file, JSON.stringify({ apiVersion: 'rekor-gate.dev/v1alpha1', kind: 'Policy', spec: { conditions } }));
  return await loadPolicyFile(file);
}

async function loadError(conditions: { expression: string }[]): Promise<GateError> {
  try {
    await policyWith(conditions);
  } catch (err) {
    expect(err).toBeInstanceOf(GateError);
    return err as GateError;
  }
  throw new Error('loaded; expected a usage error');
}

const v02 = chainsStatement(promotionBuild(), 'slsa/v1');
const v1 = chainsStatement(promotionBuild(), 'slsa/v2alpha4', 'slsa-tekton');

describe('CEL conditions in the policy file', () => {
  it('hold over statement, predicate and subject', async () => {
    const p = await policyWith([
      { expression: 'predicate.builder.id == "https://tekton.dev/chains/v2"' },
      { expression: 'statement.predicateType.startsWith("https://slsa.dev/provenance/")' },
      { expression: 'subject.exists(s, s.digest.sha256.size() == 64)' },
      { expression: 'predicate.materials.exists(m, m.uri.startsWith("git+https://github.com/acme/app") && has(m.digest.sha1))' },
      { expression: 'predicate.buildConfig.tasks.filter(t, t.name == "unit-tests").all(t, t.results.exists(r, r.name == "TEST_OUTPUT" && r.value.matches(\'"result":"SUCCESS"\')))' },
      { expression: 'size(predicate.buildConfig.tasks) == 3 && predicate.buildConfig.tasks.map(t, t.name).join(",") == "clone,unit-tests,build"' },
    ]);
    const [rule] = p.statementRules ?? [];
    expect(rule?.costly).toBe(true);
    expect(rule?.check(v02)).toEqual([]);
  });

  it('read SLSA v1.0 too (JSON integers are CEL ints)', async () => {
    const [rule] = (await policyWith([
      { expression: 'predicate.buildDefinition.resolvedDependencies.exists(d, d.name == "inputs/result" && d.uri == "git+https://github.com/acme/app.git")' },
      { expression: 'size(predicate.runDetails.byproducts) > 0' },
    ])).statementRules ?? [];
    expect(rule?.check(v1)).toEqual([]);
    const [ints] = compileConditions([{ expression: 'statement.n + 1 == 3 && statement.f > 0.5' }], () => new GateError('BAD_POLICY', 'x'));
    expect(ints?.check({ predicateType: 'x', n: 2, f: 0.75 } as never)).toEqual([]);
  });

  it('a false condition fails with its message, or the expression', async () => {
    const [rule] = (await policyWith([
      { expression: 'predicate.builder.id == "https://example.com/other"', message: 'built by the release builder' },
      { expression: 'size(subject) == 2' },
      { expression: 'true' },
    ])).statementRules ?? [];
    expect(rule?.check(v02)).toEqual(['condition 1 (built by the release builder) is false', 'condition 2 "size(subject) == 2" is false']);
  });

  it('an evaluation error, or a value that is not a bool, fails the condition, saying so', async () => {
    const [rule] = (await policyWith([{ expression: 'predicate.nothing.here == 1' }, { expression: 'predicate.builder.id' }])).statementRules ?? [];
    const got = rule?.check(v02) ?? [];
    expect(got[0]).toMatch(/^condition 1 "predicate.nothing.here == 1": evaluation error: /);
    expect(got[1]).toBe('condition 2 "predicate.builder.id": evaluation error: evaluates to string, not a bool');
  });

  it('an expression that does not parse, calls an unknown function, or is too large is a usage error naming it', async () => {
    const syntax = await loadError([{ expression: 'true' }, { expression: 'predicate.builder.id ==' }]);
    expect(syntax.code).toBe('BAD_POLICY');
    expect(syntax.message).toMatch(/:\d+:\d+: \/spec\/conditions\/1\/expression: CEL expression "predicate.builder.id ==" is not valid CEL/);
    expect((await loadError([{ expression: 'predicate.x.lowercase() == "a"' }])).message).toContain("calls 'lowercase', which CEL does not define");
    const deep = `${'('.repeat(60)}true${')'.repeat(60)}`;
    expect(checkExpression(deep)).toBeUndefined(); // parentheses alone add no nodes
    const nested = `${'[' .repeat(LIMITS.maxDepth + 1)}1${']'.repeat(LIMITS.maxDepth + 1)} != []`;
    expect((await loadError([{ expression: nested }])).message).toContain(`nests deeper than ${LIMITS.maxDepth}`);
    const wide = Array.from({ length: LIMITS.maxNodes }, (_, i) => `${i}`).join(' + ');
    expect(checkExpression(wide)).toContain(`is ${wide.length} characters long`);
    const many = `[${Array.from({ length: LIMITS.maxNodes + 1 }, () => '1').join(',')}]!=[]`;
    expect(many.length).toBeLessThanOrEqual(LIMITS.maxLength);
    expect(checkExpression(many)).toBe(`has more than ${LIMITS.maxNodes} nodes`);
    expect((await loadError([{ expression: 'x'.repeat(LIMITS.maxLength + 1) }])).message).toContain('/spec/conditions/0/expression');
  });

  it('YAML policy files carry conditions too', async () => {
    const file = path.join(dir, 'c.yaml');
    writeFileSync(file, `${HEADER}    - expression: 'predicate.builder.id.startsWith("https://tekton.dev/")'\n      message: a Tekton Chains build\n`);
    const [rule] = (await loadPolicyFile(file)).statementRules ?? [];
    expect(rule?.check(v02)).toEqual([]);
  });
});

describe('CEL evaluation is bounded', () => {
  const big = (n: number) => ({ predicateType: 'x', predicate: { xs: Array.from({ length: n }, (_, i) => i) } });

  it('a statement past the input limits is not evaluated, and the condition fails saying so', async () => {
    const [rule] = compileConditions([{ expression: 'true' }], () => new GateError('BAD_POLICY', 'x'));
    expect(rule?.check(big(INPUT_LIMITS.maxListLength + 1) as never)).toEqual([`the statement cannot be evaluated: it holds a list longer than ${INPUT_LIMITS.maxListLength}`]);
    expect(() => celInput({ s: 'x'.repeat(INPUT_LIMITS.maxStringLength + 1) })).toThrow(/string longer/);
    let deep: unknown = 1;
    for (let i = 0; i < INPUT_LIMITS.maxDepth + 2; i++) deep = [deep];
    expect(() => celInput(deep)).toThrow(/nests deeper/);
  });

  it('a condition that runs past the deadline is stopped, fails, and the next evaluation works', async () => {
    const bindings = { predicate: celInput(big(5000).predicate) };
    const loop = 'predicate.xs.all(a, predicate.xs.all(b, predicate.xs.all(c, a + b + c >= 0)))';
    expect(() => evaluateConditions([loop], bindings, 300)).toThrow(/did not finish within 300 ms/);
    expect(evaluateConditions(['size(predicate.xs) == 5000'], bindings)).toEqual([{ value: true }]);
  });

  it('a condition that exhausts the evaluator heap fails without harming the step', async () => {
    const bindings = { predicate: celInput({ ...big(5000).predicate, s: 'x'.repeat(INPUT_LIMITS.maxStringLength) }) };
    // 5000 new strings of 1 MiB each: far past the worker's heap limit (a dead worker answers nothing: the deadline ends the wait)
    const hog = 'size(predicate.xs.map(a, (predicate.s + string(a)).upperAscii())) > 0';
    expect(() => evaluateConditions([hog], bindings, 5000)).toThrow(/did not finish within 5000 ms \(or exceeded the evaluator's 48 MiB heap\)/);
    expect(evaluateConditions(['true'], {})).toEqual([{ value: true }]);
  });
});
