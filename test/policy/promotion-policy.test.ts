// The promotion policy promote-verified's sample ships (pipelines/promote-verified/0.1/samples/promotion-policy.yaml),
// loaded as the step loads it, judged on Chains provenance of each format.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadPolicyFile } from '../../src/policy/file.ts';
import { stopSandbox } from '../../src/policy/cel/sandbox.ts';
import type { Policy } from '../../src/policy/policy.ts';
import { bundleTask, chainsStatement, DIGEST, FORMATS, gitTask, promotionBuild, TEST_COMMIT } from '../fixtures/chains-provenance.ts';

const SAMPLE = path.resolve(import.meta.dirname, '..', '..', 'pipelines', 'promote-verified', '0.1', 'samples', 'promotion-policy.yaml');
const dir = mkdtempSync(path.join(tmpdir(), 'rekor-gate-promotion-'));
afterAll(() => {
  stopSandbox();
  rmSync(dir, { recursive: true, force: true });
});

async function samplePolicy(): Promise<Policy> {
  const cm = parse(readFileSync(SAMPLE, 'utf8')) as { data: Record<string, string> };
  const file = path.join(dir, 'policy.yaml');
  writeFileSync(file, cm.data['policy.yaml'] as string);
  return await loadPolicyFile(file);
}

/** Every failure of the policy's statement rules. */
const failures = (p: Policy, st: ReturnType<typeof chainsStatement>) => (p.statementRules ?? []).flatMap((r) => r.check(st).map((f) => `${r.name}: ${f}`));

describe('the promotion policy in docs/policy.md', () => {
  it('loads, and passes a promotion build', async () => {
    const doc = readFileSync(path.resolve(import.meta.dirname, '..', '..', 'docs', 'policy.md'), 'utf8');
    const example = /## A promotion policy[\s\S]*?```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(example).toBeDefined();
    writeFileSync(path.join(dir, 'chains.pub'), generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString());
    writeFileSync(path.join(dir, 'docs-promotion.yaml'), example as string);
    const p = await loadPolicyFile(path.join(dir, 'docs-promotion.yaml'));
    expect(failures(p, chainsStatement(promotionBuild(), 'slsa/v2alpha4', 'slsa-tekton'))).toEqual([]);
  });
});

describe('the promote-verified sample promotion policy', () => {
  let policy: Policy;
  beforeAll(async () => {
    policy = await samplePolicy();
  });

  it('loads, with its signer, provenance rules and condition', () => {
    expect(policy.keys).toHaveLength(1);
    expect(policy.statementRules?.map((r) => r.name)).toEqual(['provenance rule source', 'provenance rule trustedTasks', 'provenance rule requiredTasks', 'provenance rule parameters', 'CEL conditions']);
  });

  it.each(FORMATS)('$label: passes a promotion build, or says which Chains setting it needs', ({ format, buildType }) => {
    const got = failures(policy, chainsStatement(promotionBuild(), format, buildType));
    if (format !== 'slsa/v1' && buildType === 'slsa') expect(got.join('\n')).toContain('builddefinition.buildtype: https://tekton.dev/chains/v2/slsa-tekton');
    else expect(got).toEqual([]);
  });

  it.each(FORMATS.filter((f) => f.format === 'slsa/v1' || f.buildType === 'slsa-tekton'))('$label: fails an unpinned Task, failed tests, TLSVERIFY=false', ({ format, buildType }) => {
    const b = promotionBuild();
    b.tasks = [
      bundleTask('clone', 'git-clone', DIGEST.clone, {}, false),
      gitTask('unit-tests', 'task/unit-tests.yaml', TEST_COMMIT, TEST_COMMIT, { results: { TEST_OUTPUT: '{"result":"FAILURE"}' } }),
      bundleTask('build', 'buildah', DIGEST.buildah, { params: { TLSVERIFY: 'false' } }),
    ];
    const got = failures(policy, chainsStatement(b, format, buildType)).join('\n');
    expect(got).toContain("provenance rule trustedTasks: Task 'clone': referenced as bundle registry.example.com/tekton-catalog/git-clone:0.9, not pinned by digest or commit");
    expect(got).toContain("provenance rule requiredTasks: Task 'unit-tests': result TEST_OUTPUT is");
    expect(got).toContain("provenance rule parameters: Task 'build': param TLSVERIFY is \"false\", which the policy forbids");
  });
});
