import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { findResources, KIND_DIRS, readResource, repoRoot } from '../../scripts/tekton-resources.ts';
import { lintPipeline, lintRun, lintTaskLike, ourTasks } from './lint.ts';
import { taskInterface, type TaskInterface } from './upstream.ts';

type Any = Record<string, any>;
const resources = findResources();
const task = (): Any => readResource('task/rekor-gate/0.1/rekor-gate.yaml');
const stepAction = (): Any => readResource('stepaction/rekor-gate/0.1/rekor-gate.yaml');
const pipeline = (name: string): Any => readResource(`pipelines/${name}/0.1/${name}.yaml`);

describe('catalog conventions (Tekton catalog, Artifact Hub directory-based catalog)', () => {
  it.each(resources.map((r) => [r.filename, r]))('%s', (_f, r) => {
    const doc = readResource(r.filename) as Any;
    expect(doc.apiVersion).toBe(r.kind === 'StepAction' ? 'tekton.dev/v1beta1' : 'tekton.dev/v1');
    expect(doc.kind).toBe(r.kind);
    // Artifact Hub reads <dir>/<name>/<version>/<name>.yaml and wants the label to be that (semver) version.
    expect(doc.metadata.name).toBe(r.name);
    expect(doc.metadata.labels['app.kubernetes.io/version']).toBe(r.version);
    expect(r.version).toMatch(/^\d+\.\d+(\.\d+)?$/);
    const a = doc.metadata.annotations;
    expect(a['tekton.dev/pipelines.minVersion']).toMatch(/^\d+\.\d+\.\d+$/);
    for (const k of ['tekton.dev/categories', 'tekton.dev/tags', 'tekton.dev/displayName']) expect(a[k], k).toMatch(/\S/);
    expect(a['tekton.dev/platforms']).toMatch(/^(linux\/[a-z0-9]+)(,linux\/[a-z0-9]+)*$/);
    expect(['security']).toContain(a['artifacthub.io/category']);
    expect(a['artifacthub.io/license']).toBe('Apache-2.0');
    // One summary line, then paragraphs (catalog convention); Artifact Hub requires a description.
    expect(doc.spec.description).toMatch(/^\S[^\n]+\n/);
    const dir = path.join(repoRoot, path.dirname(r.filename));
    expect(readdirSync(path.join(dir, 'samples')).some((f) => f.endsWith('.yaml'))).toBe(true);
    // The README beside it documents every param and result.
    const readme = readFileSync(path.join(dir, 'README.md'), 'utf8');
    for (const p of [...(doc.spec.params ?? []), ...(doc.spec.results ?? []), ...(doc.spec.workspaces ?? [])]) {
      expect(readme, `${r.filename} README: ${p.name}`).toContain(`\`${p.name}\``);
    }
  });
});

describe('the step: pinned image, no shell, non-root, read-only root, bounded', () => {
  const steps: [string, Any, Any | undefined][] = [
    ['Task', task().spec.steps[0], task().spec],
    ['StepAction', stepAction().spec, undefined],
  ];
  it.each(steps)('%s', (_k, step, taskSpec) => {
    // A param-free reference, pinned by digest (the release substitutes the placeholder digest).
    expect(step.image).toMatch(/^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)+@sha256:[0-9a-f]{64}$/);
    expect(step.script).toBeUndefined();
    expect(step.command).toEqual(['/nodejs/bin/node', '/app/rekor-gate.js']);
    expect(step.args).toEqual(['verify']);
    // No fixed uid or gid: OpenShift's restricted SCC assigns them (an arbitrary uid with gid 0).
    expect(step.securityContext).toEqual({
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    // Nothing to mount: what the CLI writes outside Tekton's own directories goes to /tekton/home, the
    // writable emptyDir Tekton gives every step, so no Task must declare a volume for it.
    expect(step.volumeMounts).toBeUndefined();
    const homes = (step.env as Any[]).filter((e) => /^(HOME|REKOR_GATE_TUF_CACHE_DIR)$/.test(e.name));
    expect(homes.map((e) => e.name).sort()).toEqual(['HOME', 'REKOR_GATE_TUF_CACHE_DIR']);
    for (const e of homes) expect(e.value === '/tekton/home' || e.value.startsWith('/tekton/home/'), e.name).toBe(true);
    if (taskSpec) {
      expect(step.computeResources.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
      expect(step.computeResources.limits).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
      expect(taskSpec.volumes).toBeUndefined();
    } else {
      // StepActionSpec has no computeResources (tektoncd/pipeline pkg/apis/pipeline/v1beta1/stepaction_types.go):
      // the step referencing it sets them
      expect(step.computeResources).toBeUndefined();
    }
  });

  it("the StepAction's sample Task gives its step the Task's computeResources (docs/tekton.md: how they were chosen)", () => {
    const sample = parseAllDocuments(readFileSync(path.join(repoRoot, 'stepaction/rekor-gate/0.1/samples/task-using-stepaction.yaml'), 'utf8'))[0]!.toJS() as Any;
    expect(sample.spec.steps[0].computeResources).toEqual(task().spec.steps[0].computeResources);
  });
});

describe('variable references resolve', () => {
  it('the Task', () => expect(lintTaskLike(task())).toEqual([]));
  it('the StepAction', () => expect(lintTaskLike(stepAction())).toEqual([]));
  it('a reference to an undeclared param or result is reported', () => {
    const t = task();
    t.spec.steps[0].env.push({ name: 'X', value: '$(params.NOPE)' }, { name: 'Y', value: '$(results.NOPE.path)' });
    expect(lintTaskLike(t)).toEqual([
      `steps[0].env[${t.spec.steps[0].env.length - 2}].value: $(params.NOPE) - no such param`,
      `steps[0].env[${t.spec.steps[0].env.length - 1}].value: $(results.NOPE.path) - no such result`,
    ]);
  });
});

describe('Pipelines pass params, workspaces and results by the names the Tasks declare', () => {
  const ours = ourTasks();
  it.each([['build-verify'], ['promote-verified']])('%s', (name) => {
    expect(lintPipeline(pipeline(name), ours)).toEqual([]);
  });

  it('build-verify: rekor-gate reads buildah IMAGE_DIGEST and IMAGE_URL and waits for Chains', () => {
    const spec = pipeline('build-verify').spec;
    const build = spec.tasks.find((t: Any) => t.taskRef.params?.some((p: Any) => /buildah/.test(p.value)));
    const gate = spec.tasks.find((t: Any) => t.taskRef.name === 'rekor-gate');
    const param = (t: Any, n: string) => t.params.find((p: Any) => p.name === n)?.value;
    expect(param(gate, 'IMAGE_DIGEST')).toBe(`$(tasks.${build.name}.results.IMAGE_DIGEST)`);
    expect(param(gate, 'IMAGE_URL')).toBe(`$(tasks.${build.name}.results.IMAGE_URL)`);
    const wait = param(gate, 'WAIT_SECONDS');
    const waitParam = spec.params.find((p: Any) => `$(params.${p.name})` === wait);
    expect(Number(waitParam.default)).toBeGreaterThan(0);
  });

  it('promote-verified: skopeo-copy runs only when VERIFIED is "true", on the verified digest', () => {
    const spec = pipeline('promote-verified').spec;
    const gate = spec.tasks.find((t: Any) => t.taskRef.name === 'rekor-gate');
    const copy = spec.tasks.find((t: Any) => t.taskRef.params?.some((p: Any) => /skopeo-copy/.test(p.value)));
    expect(copy.when).toEqual([{ input: `$(tasks.${gate.name}.results.VERIFIED)`, operator: 'in', values: ['true'] }]);
    const src = copy.params.find((p: Any) => p.name === 'srcImageURL').value;
    expect(src).toContain('@$(params.IMAGE_DIGEST)');
    expect(gate.params.find((p: Any) => p.name === 'IMAGE_DIGEST').value).toBe('$(params.IMAGE_DIGEST)');
    // The whole index is copied, so the promoted image keeps the digest that was verified.
    expect(copy.params.find((p: Any) => p.name === 'multiArch').value).toBe('all');
  });

  it('reports a result buildah does not emit, a when on an undeclared result, and a missing workspace', () => {
    const p = pipeline('build-verify');
    const gate = p.spec.tasks.find((t: Any) => t.taskRef.name === 'rekor-gate');
    gate.params.find((x: Any) => x.name === 'IMAGE_DIGEST').value = '$(tasks.build-image.results.DIGEST)';
    gate.when = [{ input: '$(tasks.fetch-source.results.VERIFIED)', operator: 'in', values: ['true'] }];
    p.spec.tasks[0].workspaces = [];
    expect(lintPipeline(p, ours)).toEqual([
      'tasks[verify-provenance].params[0].value: $(tasks.build-image.results.DIGEST) - task build-image emits no result DIGEST (it emits IMAGE_DIGEST, IMAGE_URL)',
      'tasks[verify-provenance].when[0].input: $(tasks.fetch-source.results.VERIFIED) - task fetch-source emits no result VERIFIED (it emits commit, url, committer-date)',
      'tasks[fetch-source]: required workspace output is not bound',
    ].sort((a, b) => (a.startsWith('tasks[fetch') ? -1 : b.startsWith('tasks[fetch') ? 1 : 0)));
  });

  it('reports a when expression on a result of the rekor-gate Task that it does not declare', () => {
    const p = pipeline('promote-verified');
    p.spec.tasks[1].when[0].input = '$(tasks.verify.results.VERIFIED_OK)';
    expect(lintPipeline(p, ours)).toEqual([
      'tasks[promote].when[0].input: $(tasks.verify.results.VERIFIED_OK) - task verify emits no result VERIFIED_OK (it emits VERIFIED, REKOR_UUID, REKOR_LOG_INDEX, REKOR_INTEGRATED_TIME, REKOR_LOG_URL, PREDICATE_TYPE, SIGNER, BUILDER_ID, VSA_POLICY_DIGEST, SIGNATURE_SIGNER, REPORT)',
    ]);
  });
});

describe('samples run what they name, with declared params and workspaces', () => {
  const interfaces: Record<string, TaskInterface> = {
    'rekor-gate': taskInterface(task()),
    'build-verify': taskInterface(pipeline('build-verify')),
    'promote-verified': taskInterface(pipeline('promote-verified')),
  };
  const samples = resources.flatMap((r) => {
    const dir = path.join(repoRoot, path.dirname(r.filename), 'samples');
    return readdirSync(dir).map((f) => path.join(path.dirname(r.filename), 'samples', f));
  });
  it.each(samples.map((s) => [s]))('%s', (file) => {
    for (const d of parseAllDocuments(readFileSync(path.join(repoRoot, file), 'utf8'))) {
      const doc = d.toJS() as Any;
      if (doc.kind === 'TaskRun' || doc.kind === 'PipelineRun') {
        const ref = doc.spec.taskRef?.name ?? doc.spec.pipelineRef?.name;
        expect(lintRun(doc, interfaces[ref]!)).toEqual([]);
      } else if (doc.kind === 'Task') {
        // A Task embedding the StepAction: its step params are the StepAction's; it declares no volume for it.
        expect(lintTaskLike(doc)).toEqual([]);
        const sa = taskInterface(stepAction());
        const step = doc.spec.steps.find((s: Any) => s.ref?.name === 'rekor-gate');
        const run = { spec: { params: step.params } };
        expect(lintRun(run, sa)).toEqual([]);
        expect(doc.spec.volumes).toBeUndefined();
      } else {
        expect(['ConfigMap', 'Secret']).toContain(doc.kind);
      }
    }
  });
});

it('the resources are found (every it.each and loop over them below has some to check)', () => {
  expect(resources.map((r) => r.filename)).toEqual(
    expect.arrayContaining(['task/rekor-gate/0.1/rekor-gate.yaml', 'stepaction/rekor-gate/0.1/rekor-gate.yaml']),
  );
});

it('every resource directory has the files Artifact Hub shows (README.md, samples/)', () => {
  for (const r of resources) {
    const dir = path.join(repoRoot, path.dirname(r.filename));
    expect(existsSync(path.join(dir, 'README.md')), dir).toBe(true);
  }
});

describe('Artifact Hub (Tekton Hub closed on 2026-01-08)', () => {
  it('each kind directory is an Artifact Hub repository with its artifacthub-repo.yml', () => {
    for (const dir of Object.values(KIND_DIRS)) {
      const md = parse(readFileSync(path.join(repoRoot, dir, 'artifacthub-repo.yml'), 'utf8')) as Any;
      // Artifact Hub refuses a file that is not a mapping, and a repositoryID that is not a UUID.
      expect(md, dir).toBeTypeOf('object');
      expect(md.repositoryID === '' || /^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$/.test(md.repositoryID), dir).toBe(true);
      for (const o of md.owners ?? []) expect(o.email, dir).toMatch(/@/);
      expect(Object.keys(md).every((k) => ['repositoryID', 'owners', 'ignore'].includes(k)), dir).toBe(true);
    }
  });

  it.each(resources.map((r) => [r.filename]))('%s carries the annotations Artifact Hub reads, well-formed', (f) => {
    const a = (readResource(f) as Any).metadata.annotations as Record<string, string>;
    expect(a['artifacthub.io/provider']).toMatch(/\S/);
    const links = parse(a['artifacthub.io/links']!) as Any[];
    for (const l of links) expect(l.url).toMatch(/^https:\/\//);
    expect(links.map((l) => l.name)).toContain('support');
    const changes = parse(a['artifacthub.io/changes']!) as Any[];
    expect(changes.length).toBeGreaterThan(0);
    for (const c of changes) {
      expect(['added', 'changed', 'deprecated', 'removed', 'fixed', 'security']).toContain(c.kind);
      expect(c.description).toMatch(/\S/);
    }
    if (a['artifacthub.io/maintainers']) for (const m of parse(a['artifacthub.io/maintainers']) as Any[]) expect(m.email).toMatch(/@/);
  });

  it('no document sends users to Tekton Hub, and hub resolver examples use type artifact and our catalogs', () => {
    const docs = ['README.md', 'docs/tekton.md', ...resources.map((r) => path.join(path.dirname(r.filename), 'README.md'))];
    let examples = 0;
    for (const d of docs) {
      const text = readFileSync(path.join(repoRoot, d), 'utf8');
      expect(text, d).not.toMatch(/hub\.tekton\.dev|api\.hub\.tekton/);
      // Every hub resolver example: type artifact, a catalog of ours, a kind.
      for (const m of text.matchAll(/resolver: hub\n((?:\s+.*\n){1,14})/g)) {
        examples += 1;
        const block = m[1]!;
        expect(block, d).toMatch(/name: type\b[^\n]*\n\s*value: artifact/);
        expect(block, d).toMatch(/name: catalog\b[^\n]*\n\s*value: rekor-gate-(tasks|pipelines|stepactions)\b/);
        expect(block, d).toMatch(/name: kind\b[^\n]*\n\s*value: (task|pipeline|stepaction)\b/);
      }
    }
    expect(readFileSync(path.join(repoRoot, 'docs/tekton.md'), 'utf8')).toMatch(/value: stepaction/);
    // the loop checked something: the documents do show hub resolver examples
    expect(examples).toBeGreaterThan(0);
  });
});
