import { describe, expect, it } from 'vitest';
import { compileProvenanceRules, type ProvenanceRulesDoc } from '../../src/policy/provenance/rules.ts';
import { buildFacts, NEEDS_SLSA_TEKTON } from '../../src/policy/provenance/facts.ts';
import {
  bundleTask,
  CATALOG,
  chainsStatement,
  DIGEST,
  FORMATS,
  gitTask,
  promotionBuild,
  SOURCE,
  TEST_COMMIT,
  type BuildSpec,
  type Format,
  type BuildType,
} from '../fixtures/chains-provenance.ts';

/** Every failure of every rule of `doc` on the statement. */
function judge(doc: ProvenanceRulesDoc, b: BuildSpec, format: Format, buildType: BuildType): string[] {
  const st = chainsStatement(b, format, buildType);
  return compileProvenanceRules(doc).flatMap((r) => r.check(st).map((f) => `${r.name}: ${f}`));
}

const TRUSTED: ProvenanceRulesDoc['trustedTasks'] = [
  { bundle: `${CATALOG}/git-clone` },
  { bundle: `${CATALOG}/buildah` },
  { git: 'https://github.com/acme/tekton-tasks', path: 'task/' },
];

/** v1.0 with Chains' default build type: a PipelineRun's Tasks carry no names, params, results or refs as written. */
const opaque = (format: Format, buildType: BuildType) => format !== 'slsa/v1' && buildType === 'slsa';

describe.each(FORMATS)('provenance rules on a PipelineRun, $label', ({ format, buildType }) => {
  const run = (doc: ProvenanceRulesDoc, b: BuildSpec = promotionBuild()) => judge(doc, b, format, buildType);

  it('reads the facts where the format keeps them', () => {
    const facts = buildFacts(chainsStatement(promotionBuild(), format, buildType).predicateType, chainsStatement(promotionBuild(), format, buildType).predicate);
    expect(facts.run).toBe('PipelineRun');
    expect(facts.sources).toEqual([{ uri: `git+${SOURCE.url}.git`, digest: { sha1: SOURCE.commit } }]);
    expect(facts.tasks.filter((t) => t.kind === 'pipelineTask')).toHaveLength(3);
    expect(facts.allTasks.known).toBe(!opaque(format, buildType));
  });

  it('source: passes for the allowed repository (and commit), fails for another, naming the material', () => {
    expect(run({ source: [{ repository: SOURCE.url }] })).toEqual([]);
    expect(run({ source: [{ repository: `${SOURCE.url}.git`, commits: [SOURCE.commit] }] })).toEqual([]);
    const other = run({ source: [{ repository: 'https://github.com/acme/other' }] });
    expect(other).toHaveLength(1);
    expect(other[0]).toContain('provenance rule source');
    expect(other[0]).toContain(`material git+${SOURCE.url}.git`);
    expect(other[0]).toContain(SOURCE.commit);
    expect(run({ source: [{ repository: SOURCE.url, commits: ['9'.repeat(40)] }] })[0]).toContain(`commit ${SOURCE.commit} is not one of the allowed commits`);
  });

  it('source: fails when no git source is recorded', () => {
    const [f] = run({ source: [{ repository: SOURCE.url }] }, promotionBuild({ source: undefined }));
    expect(f).toContain('no git source is recorded');
    expect(f).toContain('CHAINS-GIT_URL');
  });

  it('trustedTasks: pinned catalog Tasks pass; else fails saying which Chains setting records the facts', () => {
    const got = run({ trustedTasks: TRUSTED });
    if (opaque(format, buildType)) {
      expect(got[0]).toContain(NEEDS_SLSA_TEKTON);
      expect(got.join('\n')).toContain('builddefinition.buildtype: https://tekton.dev/chains/v2/slsa-tekton');
    } else {
      expect(got).toEqual([]);
    }
  });

  it('trustedTasks: with the digests and commits listed, the resolved ones are judged (no ref as written needed)', () => {
    const pinnedByPolicy: ProvenanceRulesDoc['trustedTasks'] = [
      { bundle: `${CATALOG}/git-clone`, digests: [`sha256:${DIGEST.clone}`] },
      { bundle: `${CATALOG}/buildah`, digests: [`sha256:${DIGEST.buildah}`] },
      { git: 'https://github.com/acme/tekton-tasks', commits: [TEST_COMMIT] },
    ];
    const got = run({ trustedTasks: pinnedByPolicy });
    // Still, the default v1.0 build type cannot say that no other Task ran.
    expect(got).toEqual(opaque(format, buildType) ? [`provenance rule trustedTasks: cannot tell that every Task of the PipelineRun came from a trusted source: ${NEEDS_SLSA_TEKTON}`] : []);
    const wrongDigest = run({ trustedTasks: [{ ...pinnedByPolicy[0], digests: [`sha256:${'0'.repeat(64)}`] } as never, ...pinnedByPolicy.slice(1)] });
    expect(wrongDigest.join('\n')).toContain(`${CATALOG}/git-clone {sha256:${DIGEST.clone}}, not a trusted source`);
    expect(wrongDigest.join('\n')).toContain('not one of the allowed digests');
  });

  it('trustedTasks: an untrusted bundle fails naming the Task and where it came from', () => {
    const b = promotionBuild();
    b.tasks.push(bundleTask('scan', 'trivy', 'f'.repeat(64)));
    const got = run({ trustedTasks: TRUSTED }, b).join('\n');
    expect(got).toContain(`${CATALOG}/trivy {sha256:${'f'.repeat(64)}}, not a trusted source`);
    expect(got).toContain(opaque(format, buildType) ? 'pipelineTask entry' : "Task 'scan'");
  });

  it('trustedTasks: a bundle referenced by tag, a git Task at a branch, an inline Task: each fails', () => {
    const b = promotionBuild();
    b.tasks[0] = bundleTask('clone', 'git-clone', DIGEST.clone, {}, false);
    b.tasks[1] = gitTask('unit-tests', 'task/unit-tests.yaml', 'main', TEST_COMMIT);
    b.tasks.push({ name: 'notify', ref: 'inline' });
    const got = run({ trustedTasks: TRUSTED }, b).join('\n');
    if (opaque(format, buildType)) {
      // Not a word of the refs as written is in this provenance, and the inline Task is not listed at all.
      expect(got).toContain('cannot tell whether its reference was pinned');
      expect(got).not.toContain('notify');
    } else {
      expect(got).toContain(`Task 'clone': referenced as bundle ${CATALOG}/git-clone:0.9, not pinned by digest or commit`);
      expect(got).toContain("Task 'unit-tests': referenced as git revision main, not pinned");
      expect(got).toContain("Task 'notify': defined inline (taskSpec)");
    }
  });

  it('trustedTasks: a git Task outside the allowed path fails', () => {
    const b = promotionBuild();
    b.tasks[1] = gitTask('unit-tests', 'hack/unit-tests.yaml', TEST_COMMIT, TEST_COMMIT);
    const got = run({ trustedTasks: TRUSTED }, b).join('\n');
    expect(got).toContain(opaque(format, buildType) ? 'the path in the repository is not recorded' : 'path hack/unit-tests.yaml is not under task/');
  });

  it('requiredTasks: a test Task whose result says success passes; a failing result fails with its value', () => {
    const doc: ProvenanceRulesDoc = { requiredTasks: [{ name: 'unit-tests', result: { name: 'TEST_OUTPUT', pattern: '"result":"SUCCESS"' } }] };
    const pass = run(doc);
    const b = promotionBuild();
    b.tasks[1] = gitTask('unit-tests', 'task/unit-tests.yaml', TEST_COMMIT, TEST_COMMIT, { results: { TEST_OUTPUT: '{"result":"FAILURE","failures":3}' } });
    const fail = run(doc, b).join('\n');
    if (opaque(format, buildType)) {
      expect(pass[0]).toContain("no Task named 'unit-tests' ran as far as the provenance tells");
      expect(pass[0]).toContain(NEEDS_SLSA_TEKTON);
    } else {
      expect(pass).toEqual([]);
      expect(fail).toContain(`Task 'unit-tests': result TEST_OUTPUT is ${JSON.stringify('{"result":"FAILURE","failures":3}')}, expected /"result":"SUCCESS"/`);
    }
  });

  it('requiredTasks: by source works in every format; a Task that did not run fails', () => {
    expect(run({ requiredTasks: [{ git: 'https://github.com/acme/tekton-tasks.git' }] }).filter((f) => !f.includes('path'))).toEqual([]);
    expect(run({ requiredTasks: [{ bundle: `${CATALOG}/buildah` }] })).toEqual([]);
    expect(run({ requiredTasks: [{ bundle: `${CATALOG}/trivy` }] })[0]).toContain(`no Task from bundle ${CATALOG}/trivy ran`);
    if (!opaque(format, buildType)) expect(run({ requiredTasks: [{ name: 'scan' }] })[0]).toContain("no Task named 'scan' ran (Tasks seen: Task 'clone', Task 'unit-tests', Task 'build')");
  });

  it("parameters: buildah's TLSVERIFY=false is forbidden; a required run param must be there", () => {
    const doc: ProvenanceRulesDoc = { parameters: { forbidden: [{ name: 'TLSVERIFY', value: 'false' }], required: [{ name: 'git-url', value: SOURCE.url }] } };
    const b = promotionBuild();
    b.tasks[2] = bundleTask('build', 'buildah', DIGEST.buildah, { params: { IMAGE: 'registry.example/acme/app', TLSVERIFY: 'false' } });
    if (opaque(format, buildType)) {
      // The Tasks' params are not recorded: a forbidden param cannot be ruled out.
      expect(run(doc).join('\n')).toContain('cannot rule out param TLSVERIFY');
    } else {
      expect(run(doc)).toEqual([]);
      expect(run(doc, b)).toEqual([`provenance rule parameters: Task 'build': param TLSVERIFY is "false", which the policy forbids ("false")`]);
    }
    const noUrl = run({ parameters: { required: [{ name: 'git-url', value: 'https://github.com/acme/other' }] } });
    expect(noUrl[0]).toContain('param git-url must be set to "https://github.com/acme/other"; found the PipelineRun: "https://github.com/acme/app"');
  });

  it('parameters: a param forbidden at the run level fails in every format', () => {
    const b = promotionBuild({ params: { 'git-url': SOURCE.url, 'skip-tests': 'true' } });
    const got = run({ parameters: { forbidden: [{ name: 'skip-tests', pattern: '^true$' }] } }, b);
    expect(got[0]).toContain('the PipelineRun: param skip-tests is "true", which the policy forbids (/^true$/)');
  });
});

describe.each(FORMATS.filter((f) => f.buildType === 'slsa'))('provenance rules on a TaskRun, $label', ({ format, buildType }) => {
  const taskRun = (over: Partial<BuildSpec['tasks'][number]> = {}, pinned = true): BuildSpec => ({
    run: 'TaskRun',
    name: 'build-7',
    source: SOURCE,
    tasks: [bundleTask('build', 'buildah', DIGEST.buildah, { params: { TLSVERIFY: 'true' }, results: { IMAGE_DIGEST: 'sha256:x' }, ...over }, pinned)],
  });
  const run = (doc: ProvenanceRulesDoc, b = taskRun()) => judge(doc, b, format, buildType);

  it('source and parameters read the TaskRun', () => {
    expect(run({ source: [{ repository: SOURCE.url }], parameters: { forbidden: [{ name: 'TLSVERIFY', value: 'false' }] } })).toEqual([]);
    expect(run({ parameters: { forbidden: [{ name: 'TLSVERIFY', value: 'false' }] } }, taskRun({ params: { TLSVERIFY: 'false' } }))[0]).toContain('the TaskRun: param TLSVERIFY is "false"');
  });

  it('trustedTasks: the Task from a pinned trusted bundle passes where the ref as written is kept (v1.0), else the policy must list digests', () => {
    const got = run({ trustedTasks: TRUSTED });
    if (format === 'slsa/v1') {
      expect(got[0]).toContain('cannot tell whether its reference was pinned: SLSA v0.2 provenance of a TaskRun');
      expect(run({ trustedTasks: [{ bundle: `${CATALOG}/buildah`, digests: [`sha256:${DIGEST.buildah}`] }] })).toEqual([]);
    } else {
      expect(got).toEqual([]);
      expect(run({ trustedTasks: TRUSTED }, taskRun({}, false))[0]).toContain(`referenced as bundle ${CATALOG}/buildah:0.9, not pinned`);
    }
  });

  it('trustedTasks: a git Task run by a TaskRun is judged with its path (v0.2 configSource.entryPoint, v1.0 buildConfigSource.path)', () => {
    const b: BuildSpec = { run: 'TaskRun', name: 'test-3', source: SOURCE, tasks: [gitTask('unit-tests', 'task/unit-tests.yaml', TEST_COMMIT, TEST_COMMIT)] };
    const trusted = [{ git: 'https://github.com/acme/tekton-tasks', path: 'task/', commits: [TEST_COMMIT] }];
    expect(run({ trustedTasks: trusted }, b)).toEqual([]);
    expect(run({ trustedTasks: [{ ...trusted[0], path: 'pipeline/' } as never] }, b)[0]).toContain('path task/unit-tests.yaml is not under pipeline/');
  });

  it('requiredTasks with a result: v1.0 reads the byproducts; v0.2 does not record TaskRun results', () => {
    const b = taskRun({ results: { TEST_OUTPUT: 'passed' } });
    const got = run({ requiredTasks: [{ bundle: `${CATALOG}/buildah`, result: { name: 'TEST_OUTPUT', value: 'passed' } }] }, b);
    if (format === 'slsa/v1') expect(got[0]).toContain('its results are not recorded');
    else expect(got).toEqual([]);
  });
});

describe('provenance rules on what is not Chains provenance', () => {
  it('fail, saying why', () => {
    const [rule] = compileProvenanceRules({ source: [{ repository: SOURCE.url }] });
    expect(rule?.check({ predicateType: 'https://spdx.dev/Document', predicate: {} })[0]).toContain('not Tekton Chains provenance: predicate type');
    expect(rule?.check({ predicateType: 'https://slsa.dev/provenance/v0.2', predicate: { buildType: 'https://github.com/actions' } })[0]).toContain('is not a Tekton TaskRun or PipelineRun');
    expect(rule?.check({ predicateType: 'https://slsa.dev/provenance/v1', predicate: { buildDefinition: { buildType: 7 } } })[0]).toContain('not of the shape Chains writes');
  });

  it('an invalid result pattern is a usage error naming it', () => {
    expect(() => compileProvenanceRules({ requiredTasks: [{ name: 'x', result: { name: 'R', pattern: '(a)\\1' } }] })).toThrow(/requiredTasks\/0\/result pattern/);
  });
});
