import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { findResources, readResource, repoRoot } from '../../scripts/tekton-resources.ts';
import { describeWithTestData, specDir } from '../fixtures/test-data.ts';
import { TektonValidator } from './schemas.ts';

describeWithTestData(import.meta.url, 'Tekton\'s CRDs and swagger (spec/tekton)', 'Tekton resources against the CRDs', () => {
  let v: TektonValidator;
  beforeAll(() => {
    v = new TektonValidator();
  });

  const resources = findResources();

  function sampleDocs(): { file: string; doc: Record<string, unknown> }[] {
    return resources.flatMap((r) => {
      const dir = path.join(repoRoot, path.dirname(r.filename), 'samples');
      return readdirSync(dir)
        .filter((f) => f.endsWith('.yaml'))
        .flatMap((f) =>
          parseAllDocuments(readFileSync(path.join(dir, f), 'utf8')).map((d) => {
            if (d.errors.length > 0) throw new Error(`${f}: ${d.errors[0]?.message}`);
            return { file: path.join(path.dirname(r.filename), 'samples', f), doc: d.toJS() as Record<string, unknown> };
          }),
        );
    });
  }

  describe('Tekton resources validate against the CRD and swagger schemas', () => {
    it('finds the Task, the StepAction and both Pipelines', () => {
      expect(resources.map((r) => `${r.kind} ${r.name}`)).toEqual([
        'Task rekor-gate',
        'StepAction rekor-gate',
        'Pipeline build-verify',
        'Pipeline promote-verified',
      ]);
    });

    it.each(resources.map((r) => [r.filename]))('%s', (filename) => {
      const doc = readResource(filename);
      expect(v.sources(doc)).toEqual(expect.objectContaining({ crd: expect.any(String), swagger: expect.any(String) }));
      expect(v.validate(doc)).toEqual([]);
    });

    it('every Tekton document of the samples validates (TaskRuns and PipelineRuns against the swagger)', () => {
      const docs = sampleDocs();
      expect(docs.length).toBeGreaterThanOrEqual(6);
      for (const { file, doc } of docs) {
        if (doc.apiVersion === 'v1') {
          expect(['ConfigMap', 'Secret'], file).toContain(doc.kind);
          continue;
        }
        expect([file, v.validate(doc)]).toEqual([file, []]);
      }
    });
  });

  describe('the CRD schemas are permissive, hence the second pass', () => {
    it('the CRDs preserve unknown fields in param values, volumes and embedded specs', () => {
      const task = readFileSync(specDir('tekton', '300-task.yaml'), 'utf8');
      const pipeline = readFileSync(specDir('tekton', '300-pipeline.yaml'), 'utf8');
      expect(task).toContain('x-kubernetes-preserve-unknown-fields: true');
      expect(pipeline).toContain('x-kubernetes-preserve-unknown-fields: true');
      const crd = parse(task) as { spec: { versions: { name: string; schema: { openAPIV3Schema: { properties: { spec: { properties: Record<string, Record<string, unknown>> } } } } }[] } };
      const v1 = crd.spec.versions.find((x) => x.name === 'v1')!;
      expect(v1.schema.openAPIV3Schema.properties.spec.properties.volumes?.['x-kubernetes-preserve-unknown-fields']).toBe(true);
    });

    it('only the swagger pass catches a misspelt field inside a volume (a preserved region)', () => {
      const task = readResource('task/rekor-gate/0.1/rekor-gate.yaml') as { spec: { volumes?: Record<string, unknown>[] } };
      task.spec.volumes = [{ name: 'tmp', emptydir: {} }];
      const errors = v.validate(task);
      expect(errors.some((e) => e.startsWith('crd '))).toBe(false);
      expect(errors).toContain('swagger /spec/volumes/0: must NOT have additional properties (emptydir)');
    });

    it('the swagger pass catches a misspelt field in a resolver reference and in a PipelineRun', () => {
      const p = readResource('pipelines/build-verify/0.1/build-verify.yaml') as { spec: { tasks: { taskRef: Record<string, unknown> }[] } };
      p.spec.tasks[0]!.taskRef.resolvr = 'git';
      expect(v.validate(p).join('\n')).toMatch(/\/spec\/tasks\/0\/taskRef: must NOT have additional properties \(resolvr\)/);
      const run = { apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', metadata: { name: 'x' }, spec: { pipelineRef: { name: 'build-verify' }, paramz: [] } };
      expect(v.validate(run)).toContain('swagger /spec: must NOT have additional properties (paramz)');
    });
  });

  describe('validation rejects a broken Task', () => {
    const broken = (): Record<string, any> => readResource('task/rekor-gate/0.1/rekor-gate.yaml');

    it('a misspelt step field', () => {
      const t = broken();
      t.spec.steps[0].securityContxt = t.spec.steps[0].securityContext;
      delete t.spec.steps[0].securityContext;
      expect(v.validate(t)).toContain('crd /spec/steps/0: must NOT have additional properties (securityContxt)');
    });

    it('a wrong type (workspace optional: "yes") and a non-string annotation', () => {
      const t = broken();
      t.spec.workspaces[0].optional = 'yes';
      t.metadata.annotations['tekton.dev/pipelines.minVersion'] = 0.5;
      const errors = v.validate(t);
      expect(errors).toContain('crd /spec/workspaces/0/optional: must be boolean');
      expect(errors).toContain('crd /metadata/annotations/tekton.dev~1pipelines.minVersion: must be string');
    });

    it('a step without a name, an unknown top-level spec field, a bad quantity and a bad label value', () => {
      const t = broken();
      delete t.spec.steps[0].name;
      t.spec.stepz = [];
      t.spec.steps[0].computeResources.limits.memory = '256 MB';
      t.metadata.labels['app.kubernetes.io/version'] = 'v 0.1';
      const errors = v.validate(t).join('\n');
      expect(errors).toMatch(/crd \/spec\/steps\/0: must have required property 'name'/);
      expect(errors).toMatch(/crd \/spec: must NOT have additional properties \(stepz\)/);
      expect(errors).toMatch(/crd \/spec\/steps\/0\/computeResources\/limits\/memory: must match pattern/);
      expect(errors).toMatch(/\/metadata\/labels\/app.kubernetes.io~1version: must match pattern/);
    });

    it('a StepAction field a StepAction cannot have (computeResources)', () => {
      const sa = readResource('stepaction/rekor-gate/0.1/rekor-gate.yaml') as Record<string, any>;
      sa.spec.computeResources = { limits: { memory: '256Mi' } };
      expect(v.validate(sa)).toContain('crd /spec: must NOT have additional properties (computeResources)');
    });
  });
});
