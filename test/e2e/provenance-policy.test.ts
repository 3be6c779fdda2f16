// Provenance rules and CEL conditions through the built program (dist/, with its CEL worker thread): a Chains
// statement logged in the test log, judged by policy files that pass it and that fail it.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainsStatement, CATALOG, promotionBuild, SOURCE } from '../fixtures/chains-provenance.ts';
import { logIntotoV001, randomDigest, runCli, startWorld, worldFlags, type World } from '../fixtures/world.ts';
import type { Statement } from '../fixtures/statements.ts';

let w: World;
beforeAll(async () => {
  w = await startWorld();
});
afterAll(async () => {
  await w.close();
});

let n = 0;
function policyFile(spec: Record<string, unknown>): string {
  const file = path.join(w.dir, `provenance-policy-${n++}.json`);
  writeFileSync(file, JSON.stringify({ apiVersion: 'rekor-gate.dev/v1alpha1', kind: 'Policy', spec: { signers: [{ keyPath: w.keyPath }], ...spec } }));
  return file;
}

/** A Chains PipelineRun's provenance for a new image, logged. */
function logged(format: 'slsa/v1' | 'slsa/v2alpha4'): string {
  const d = randomDigest();
  const st = chainsStatement(promotionBuild(), format, 'slsa-tekton') as unknown as Statement;
  st.subject = [{ name: 'registry.local/acme/app', digest: { sha256: d.hex } }];
  logIntotoV001(w, st);
  return d.value;
}

async function verify(digest: string, policy: string) {
  const r = await runCli([...worldFlags(w, digest), '--policy', policy, '--output', 'json']);
  return { ...r, out: r.stdout ? JSON.parse(r.stdout) : undefined };
}

const PROMOTION = {
  provenance: {
    source: [{ repository: SOURCE.url }],
    trustedTasks: [{ bundle: `${CATALOG}/git-clone` }, { bundle: `${CATALOG}/buildah` }, { git: 'https://github.com/acme/tekton-tasks', path: 'task/' }],
    requiredTasks: [{ name: 'unit-tests', result: { name: 'TEST_OUTPUT', pattern: '"result":"SUCCESS"' } }],
    parameters: { forbidden: [{ name: 'TLSVERIFY', value: 'false' }] },
  },
};

describe('provenance rules and CEL conditions gate the image', () => {
  it.each(['slsa/v1', 'slsa/v2alpha4'] as const)('%s: the promotion policy passes; a failing rule fails with POLICY naming it', async (format) => {
    const d = logged(format);
    const ok = await verify(d, policyFile({ ...PROMOTION, conditions: [{ expression: 'subject.exists(s, s.name.startsWith("registry.local/"))' }] }));
    expect(ok.code, ok.stderr).toBe(0);
    const bad = await verify(d, policyFile({ provenance: { ...PROMOTION.provenance, source: [{ repository: 'https://github.com/acme/other' }] } }));
    expect(bad.code).toBe(1);
    expect(bad.out.candidates[0]).toMatchObject({ check: 'statement', code: 'POLICY' });
    expect(bad.out.candidates[0].reason).toContain(`provenance rule source fails: material git+${SOURCE.url}.git`);
  });

  it('a false CEL condition fails the candidate after its signer passed, with its message', async () => {
    const d = logged('slsa/v2alpha4');
    const r = await verify(d, policyFile({ conditions: [{ expression: 'predicate.runDetails.builder.id == "https://example.com/x"', message: 'the release builder' }] }));
    expect(r.code).toBe(1);
    expect(r.out.candidates[0]).toMatchObject({ check: 'statement', code: 'POLICY' });
    expect(r.out.candidates[0].reason).toContain('CEL conditions fails: condition 1 (the release builder) is false');
  });

  it('an invalid CEL expression is a usage error naming it', async () => {
    const r = await runCli([...worldFlags(w, randomDigest().value), '--policy', policyFile({ conditions: [{ expression: 'predicate.x ==' }] })]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('/spec/conditions/0/expression: CEL expression "predicate.x ==" is not valid CEL');
  });
});
