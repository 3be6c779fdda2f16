import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyOperator, compileConditions } from '../../src/kyverno/conditions.ts';
import { appliesTo, normalizedForms, wildcardMatch } from '../../src/kyverno/images.ts';
import { loadKyvernoPolicy } from '../../src/kyverno/index.ts';
import { generateSigner } from '../fixtures/signers.ts';

const KEY = generateSigner().publicKeyPem;
const indent = (t: string, n: number) => t.trim().split('\n').map((l) => `${' '.repeat(n)}${l}`).join('\n');

function load(text: string, allowIgnoreTlog = false) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rekor-gate-kyverno-unit-'));
  const f = path.join(dir, 'p.yaml');
  writeFileSync(f, text);
  return () => loadKyvernoPolicy(f, { allowIgnoreTlog });
}

/** A ClusterPolicy with one verifyImages entry: `entry` is its YAML (4 spaces in), after `- `. */
const policy = (entry: string, head = 'apiVersion: kyverno.io/v1\nkind: ClusterPolicy') => `${head}
metadata: {name: p}
spec:
  rules:
  - name: r
    verifyImages:
    - ${entry.trim().split('\n').join('\n      ')}
`;

const keys = (more = '') => `imageReferences: ["*"]
attestors:
- entries:
  - keys:
      publicKeys: |-
${indent(KEY, 8)}
      rekor: {url: https://rekor.example.com}
${more}`;

describe('kyverno.io/v1 verifyImages compiled', () => {
  it('compiles keys attestors with count, several keys as several entries, and a nested attestor', () => {
    const two = `${KEY}\n${generateSigner().publicKeyPem}`;
    const ap = load(
      policy(`imageReferences: ["registry.example.com/*"]
skipImageReferences: ["registry.example.com/test/*"]
attestors:
- count: 1
  entries:
  - keys:
      publicKeys: |-
${indent(two, 8)}
      rekor: {url: https://rekor.example.com}
  - attestor:
      entries:
      - keyless:
          subject: https://github.com/acme/*
          issuer: https://token.actions.githubusercontent.com
          rekor: {url: https://rekor.sigstore.dev}`),
    )();
    const rule = ap.rules[0]!;
    expect(rule).toMatchObject({ policy: 'ClusterPolicy/p', rule: 'r', entry: 'verifyImages[0]', type: 'Cosign' });
    const set = rule.attestors[0]!;
    expect(set.count).toBe(1);
    expect(set.entries.map((e) => e.kind)).toEqual(['signer', 'signer', 'nested']);
    expect(set.entries[0]).toMatchObject({ log: { url: 'https://rekor.example.com', ignoreTlog: false } });
  });

  it('count null means every entry (Kyverno RequiredCount); no rekor block means the public log', () => {
    const ap = load(policy(`imageReferences: ["*"]
attestors:
- entries:
  - keys:
      publicKeys: |-
${indent(KEY, 8)}
  - keys:
      publicKeys: |-
${indent(generateSigner().publicKeyPem, 8)}`))();
    expect(ap.rules[0]!.attestors[0]!.count).toBe(2);
    expect(ap.rules[0]!.attestors[0]!.entries[0]).toMatchObject({ log: { url: 'https://rekor.sigstore.dev' } });
  });

  const refusals: [string, string, string][] = [
    ['no imageReferences', keys().replace('imageReferences: ["*"]\n', ''), 'verifyImages[0].imageReferences: is missing'],
    ['a rekor block without url', keys().replace('rekor: {url: https://rekor.example.com}', 'rekor: {ignoreTlog: false}'), 'keys.rekor.url: is empty'],
    ['ignoreTlog: true', keys().replace('rekor: {url: https://rekor.example.com}', 'rekor: {url: https://rekor.example.com, ignoreTlog: true}'), 'keys.rekor.ignoreTlog: true: the transparency log would not be checked'],
    ['Notary', `type: Notary\n${keys()}`, 'verifyImages[0].type: Notary'],
    ['kms keys', keys().replace(/publicKeys: \|-\n(?: {8}.*\n)+/, 'kms: awskms:///arn\n'), 'keys.kms: not supported: KMS keys'],
    ['a k8s Secret', keys().replace(/publicKeys: \|-\n(?: {8}.*\n)+/, 'secret: {name: cosign, namespace: ns}\n'), 'keys.secret: not supported'],
    ['mutateDigest-only', 'imageReferences: ["*"]\nmutateDigest: true', 'has neither attestors nor attestations'],
    ['repository', `repository: other/repo\n${keys()}`, 'verifyImages[0].repository: not supported'],
    ['an unknown field', `colour: blue\n${keys()}`, 'verifyImages[0].colour: unknown field'],
    ['a count above the entries', keys().replace('- entries:', '- count: 2\n  entries:'), 'count: 2 cannot exceed the number of entries (1)'],
    ['keyless roots', `imageReferences: ["*"]\nattestors:\n- entries:\n  - keyless: {subject: a, issuer: b, roots: x, rekor: {url: https://r.example.com}}`, 'keyless.roots: not supported'],
    ['ctlog.ignoreSCT', keys().replace('rekor: {url: https://rekor.example.com}', 'rekor: {url: https://rekor.example.com}\n      ctlog: {ignoreSCT: true}'), 'ctlog.ignoreSCT: not supported'],
    ['a custom JMESPath function', `${keys()}attestations:\n- type: https://slsa.dev/provenance/v1\n  conditions:\n  - all:\n    - {key: "{{ to_upper(builder.id) }}", operator: Equals, value: X}`, 'calls to_upper()'],
    ['an unknown operator', `${keys()}attestations:\n- type: https://slsa.dev/provenance/v1\n  conditions:\n  - all:\n    - {key: "{{ builder.id }}", operator: Matches, value: X}`, 'operator Matches is not a Kyverno condition operator'],
  ];
  for (const [what, entry, message] of refusals) {
    it(`refuses ${what}, naming the rule and the field`, () => {
      expect(load(policy(entry))).toThrow(expect.objectContaining({ code: 'BAD_POLICY', message: expect.stringContaining(`rule r ${message.startsWith('verifyImages') ? '' : 'verifyImages[0]'}`) }));
      expect(load(policy(entry))).toThrow(message);
    });
  }

  it('dispatches by apiVersion/kind: another kind is refused by name', () => {
    expect(load(policy(keys(), 'apiVersion: policies.kyverno.io/v1alpha1\nkind: ImageValidatingPolicy'))).toThrow('policies.kyverno.io/v1alpha1 ImageValidatingPolicy is not a policy kind rekor-gate reads');
    // an ImageValidatingPolicy is read as one (a ClusterPolicy's spec is not one)
    expect(load(policy(keys(), 'apiVersion: policies.kyverno.io/v1\nkind: ImageValidatingPolicy'))).toThrow("not an ImageValidatingPolicy rekor-gate can read: /spec must have required property 'attestors'");
    expect(load(policy(keys(), 'apiVersion: kyverno.io/v1\nkind: Policy'))().rules[0]!.policy).toBe('Policy/p');
  });
});

describe('image references', () => {
  it('normalizes as Kyverno does and matches its globs (* crosses /)', () => {
    expect(normalizedForms('nginx')).toEqual(['docker.io/library/nginx:latest']);
    expect(normalizedForms('registry.local:5000/acme/app:v1', 'sha256:ab')).toEqual(['registry.local:5000/acme/app:v1', 'registry.local:5000/acme/app@sha256:ab']);
    expect(wildcardMatch('registry.local:5000/*', 'registry.local:5000/acme/app:v1')).toBe(true);
    expect(wildcardMatch('ghcr.io/acme/app:v?', 'ghcr.io/acme/app:v1')).toBe(true);
    expect(wildcardMatch('ghcr.io/acme/*', 'ghcr.io/other/app:v1')).toBe(false);
    const rule = { imageReferences: ['registry.local/*'], skipImageReferences: ['registry.local/test/*'] };
    expect(appliesTo(rule, 'registry.local/acme/app:v1')).toBe(true);
    expect(appliesTo(rule, 'registry.local/test/app:v1')).toBe(false);
  });

  it('a skip glob that matches only one of the forms admission may see does not skip the rule', () => {
    // A pod naming the image by digest is matched on registry/path@digest, where '*:latest' does not match.
    const rule = { imageReferences: ['*'], skipImageReferences: ['*:latest'] };
    expect(appliesTo(rule, 'registry.local/acme/app:latest', 'sha256:ab')).toBe(true);
    expect(appliesTo(rule, 'registry.local/acme/app:latest')).toBe(false);
    // The form the rule references must be one the skip glob leaves.
    expect(appliesTo({ imageReferences: ['*@sha256:*'], skipImageReferences: ['registry.local/acme/*@*'] }, 'registry.local/acme/app:latest', 'sha256:ab')).toBe(false);
  });
});

describe("Kyverno's condition operators and their coercions", () => {
  const cases: [string, unknown, unknown, boolean][] = [
    ['Equals', 'https://tekton.dev/chains/v2', 'https://tekton.dev/*', true],
    ['Equals', 5, '5', true],
    ['Equals', true, true, true],
    ['Equals', '1h', '60m', true],
    ['NotEquals', 'a', 'b', true],
    ['AnyIn', ['a', 'x'], ['a', 'b'], true],
    ['AllIn', ['a', 'x'], ['a', 'b'], false],
    ['AllIn', 'a', '["a","b"]', true],
    ['AnyNotIn', ['a', 'x'], ['a', 'b'], true],
    ['AllNotIn', ['x', 'y'], ['a', 'b'], true],
    ['NotIn', 'c', ['a', 'b'], true],
    ['GreaterThan', 10, '9', true],
    ['GreaterThanOrEquals', '2', 2, true],
    ['LessThan', '1h', '2h', true],
    ['DurationLessThanOrEquals', '90m', '2h', true],
    ['DurationGreaterThan', '1s', '2s', false],
  ];
  for (const [op, key, value, expected] of cases) {
    it(`${op} ${JSON.stringify(key)} ${JSON.stringify(value)} is ${expected}`, () => {
      expect(applyOperator(op as never, key, value)).toBe(expected);
    });
  }

  it('evaluates all/any blocks with {{ }} JMESPath over the predicate, naming the failed condition', () => {
    const check = compileConditions(
      [{ all: [{ key: '{{ builder.id }}', operator: 'Equals', value: 'https://tekton.dev/chains/v2' }], any: [{ key: '{{ length(materials) }}', operator: 'GreaterThan', value: 0, message: 'needs materials' }] }],
      'attestations[0]',
    );
    expect(check({ builder: { id: 'https://tekton.dev/chains/v2' }, materials: [{}] })).toBeUndefined();
    expect(check({ builder: { id: 'https://tekton.dev/chains/v2' }, materials: [] })).toContain('needs materials');
    expect(check({ builder: { id: 'other' }, materials: [{}] })).toContain('conditions[0].all');
    expect(check({ materials: [{}] })).toContain('resolves to nothing');
  });
});

describe('where a rule reads signatures', () => {
  it('records type and cosignOCI11', () => {
    const entry = (head: string) => `${head}\nimageReferences: ["*"]\nattestors:\n- entries:\n  - keys:\n      publicKeys: |-\n${indent(KEY, 8)}\n      rekor: {url: https://r.example.com}`;
    expect(load(policy(entry('type: SigstoreBundle')))().rules[0]).toMatchObject({ type: 'SigstoreBundle', cosignOCI11: false });
    expect(load(policy(entry('cosignOCI11: true')))().rules[0]).toMatchObject({ type: 'Cosign', cosignOCI11: true });
  });
});

describe('rekor.ignoreTlog: true', () => {
  const entry = keys().replace('rekor: {url: https://rekor.example.com}', 'rekor: {ignoreTlog: true}');
  it('is refused unless allowed, with the hint that allows it', () => {
    expect(load(policy(entry))).toThrow(expect.objectContaining({ code: 'BAD_POLICY', hint: { give: 'ignore-tlog' }, message: expect.stringContaining('keys.rekor.ignoreTlog: true: the transparency log would not be checked') }));
  });
  it('once allowed, marks the key attestor as not checking the log; keyless and attestations stay refused', () => {
    expect(load(policy(entry), true)().rules[0]!.attestors[0]!.entries[0]).toMatchObject({ log: { ignoreTlog: true } });
    const keyless = `imageReferences: ["*"]\nattestors:\n- entries:\n  - keyless: {subject: a, issuer: b, rekor: {ignoreTlog: true}}`;
    expect(load(policy(keyless), true)).toThrow('keyless.rekor.ignoreTlog: true: not supported for keyless');
    const att = `${keys()}attestations:\n- type: https://slsa.dev/provenance/v1\n  attestors:\n  - entries:\n    - keys:\n        publicKeys: |-\n${indent(KEY, 10)}\n        rekor: {ignoreTlog: true}`;
    expect(load(policy(att), true)).toThrow('is not supported for attestations');
  });
});
