import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readResource, repoRoot } from '../../scripts/tekton-resources.ts';
import { RESULT_NAMES } from '../../src/tekton/results.ts';
import {
  envForFlag,
  FIXED_ENV,
  FLAGS_USED,
  PARAM_BINDINGS,
  REQUIRED_PARAMS,
  RESULT_FILES,
  STEP_ARGS,
  STEPACTION_WORKSPACE_PARAMS,
  WORKSPACE_BINDINGS,
} from './contract.ts';

type Any = Record<string, any>;
const task = readResource('task/rekor-gate/0.1/rekor-gate.yaml') as Any;
const stepAction = readResource('stepaction/rekor-gate/0.1/rekor-gate.yaml') as Any;
const envOf = (step: Any): Record<string, string> => Object.fromEntries((step.env as Any[]).map((e) => [e.name, e.value]));

describe('the Task against the CLI contract', () => {
  const step = task.spec.steps[0];
  const env = envOf(step);

  it('runs `verify` and passes everything else through env (no empty flags from empty params)', () => {
    expect(step.args).toEqual([...STEP_ARGS]);
    for (const a of step.args as string[]) expect(a).not.toContain('$(');
  });

  it('every param reaches exactly the env var of its CLI flag', () => {
    const params = (task.spec.params as Any[]).map((p) => p.name).sort();
    expect(params).toEqual(Object.keys(PARAM_BINDINGS).sort());
    for (const [param, b] of Object.entries(PARAM_BINDINGS)) {
      expect(b.env).toBe(envForFlag(b.flag!));
      const carriers = Object.entries(env).filter(([, v]) => v.includes(`$(params.${param})`));
      expect(carriers, param).toEqual([[b.env, `$(params.${param})`]]);
    }
  });

  it('every workspace path reaches its env var; fixed env values are as the contract says', () => {
    for (const [ws, b] of Object.entries(WORKSPACE_BINDINGS)) expect(env[b.env]).toBe(`$(workspaces.${ws}.path)`);
    expect((task.spec.workspaces as Any[]).map((w) => w.name).sort()).toEqual(Object.keys(WORKSPACE_BINDINGS).sort());
    for (const w of task.spec.workspaces as Any[]) expect(w.optional, w.name).toBe(true);
    for (const [name, f] of Object.entries(FIXED_ENV)) expect(env[name], name).toBe(f.task);
    // Nothing else is set.
    const expected = [...Object.values(PARAM_BINDINGS), ...Object.values(WORKSPACE_BINDINGS), ...Object.values(FIXED_ENV)].map((b) => b.env);
    expect(Object.keys(env).sort()).toEqual(expected.sort());
  });

  it('declares every result the CLI writes, and no other', () => {
    expect((task.spec.results as Any[]).map((r) => r.name)).toEqual([...RESULT_FILES]);
    expect([...RESULT_NAMES]).toEqual([...RESULT_FILES]);
    for (const r of task.spec.results as Any[]) expect(r.description, r.name).toMatch(/\S/);
  });

  it('defaults work for the public-good instance and enforce by default', () => {
    const def = Object.fromEntries((task.spec.params as Any[]).map((p) => [p.name, p.default]));
    expect(def.REKOR_URL).toBe('https://rekor.sigstore.dev');
    expect(def.FAIL_ON_UNVERIFIED).toBe('true');
    expect(def.WAIT_SECONDS).toBe('0');
    expect(def.OFFLINE).toBe('false');
    expect(def.RESULTS_BUDGET).toBe('4096');
    // IMAGE_URL is required: Chains v0.29+ logs dsse entries whose envelope only the registry holds.
    expect(Object.entries(def).filter(([, v]) => v === undefined).map(([k]) => k)).toEqual([...REQUIRED_PARAMS]);
    for (const [k, v] of Object.entries(def)) if (!(REQUIRED_PARAMS as readonly string[]).includes(k)) expect(typeof v, k).toBe('string');
  });

  it('describes every param and workspace, names results in UPPER_SNAKE, and fixes no uid', () => {
    for (const p of [...(task.spec.params as Any[]), ...(task.spec.workspaces as Any[]), ...(stepAction.spec.params as Any[])]) {
      expect(p.description, p.name).toMatch(/\S{3}/);
    }
    for (const r of task.spec.results as Any[]) expect(r.name).toMatch(/^[A-Z][A-Z0-9_]*$/);
    for (const sc of [task.spec.steps[0].securityContext, stepAction.spec.securityContext]) {
      expect(sc.runAsNonRoot).toBe(true);
      // OpenShift's restricted SCC assigns the uid (with gid 0): a fixed one would be refused.
      expect(sc.runAsUser).toBeUndefined();
      expect(sc.runAsGroup).toBeUndefined();
      expect(sc.readOnlyRootFilesystem).toBe(true);
    }
  });
});

describe('the StepAction exposes the same step', () => {
  const env = envOf(stepAction.spec);
  const taskEnv = envOf(task.spec.steps[0]);

  it('same params (plus the workspace paths and the /tmp volume name), same results, same image and command', () => {
    const params = (stepAction.spec.params as Any[]).map((p) => p.name);
    expect(params).toEqual([...(task.spec.params as Any[]).map((p) => p.name), ...Object.keys(STEPACTION_WORKSPACE_PARAMS)]);
    const defaults = (spec: Any) => Object.fromEntries((spec.params as Any[]).map((p) => [p.name, p.default]));
    const saDefaults = defaults(stepAction.spec);
    for (const [k, v] of Object.entries(defaults(task.spec))) expect(saDefaults[k], k).toBe(v);
    expect((stepAction.spec.results as Any[]).map((r) => r.name)).toEqual([...RESULT_FILES]);
    expect(stepAction.spec.image).toBe(task.spec.steps[0].image);
    expect(stepAction.spec.command).toEqual(task.spec.steps[0].command);
    expect(stepAction.spec.args).toEqual(task.spec.steps[0].args);
    expect(stepAction.spec.securityContext).toEqual(task.spec.steps[0].securityContext);
  });

  it('the same env, but workspace paths come from params and results go to the step results directory', () => {
    for (const [param, ws] of Object.entries(STEPACTION_WORKSPACE_PARAMS)) {
      const b = WORKSPACE_BINDINGS[ws]!;
      expect(env[b.env]).toBe(`$(params.${param})`);
      expect(taskEnv[b.env]).toBe(`$(workspaces.${ws}.path)`);
    }
    for (const [name, f] of Object.entries(FIXED_ENV)) expect(env[name], name).toBe(f.stepAction);
    const fromWorkspaces = Object.values(WORKSPACE_BINDINGS).map((b) => b.env);
    const same = Object.keys(taskEnv).filter((k) => ![...fromWorkspaces, 'REKOR_GATE_RESULTS_DIR'].includes(k));
    for (const k of same) expect(env[k], k).toBe(taskEnv[k]);
    expect(Object.keys(env).sort()).toEqual(Object.keys(taskEnv).sort());
  });

  it('declares no volume and mounts nothing: it runs in a Task that declares nothing for it', () => {
    expect(stepAction.spec.volumeMounts).toBeUndefined();
    expect(task.spec.volumes).toBeUndefined();
    expect(task.spec.steps[0].volumeMounts).toBeUndefined();
  });
});

describe('the CLI knows every flag the Task relies on', () => {
  const bundle = path.join(repoRoot, 'dist', 'rekor-gate.js');

  it('`rekor-gate verify --help` lists each flag', () => {
    if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run \`npm run build\` first (this test never skips)`);
    const r = spawnSync(process.execPath, [bundle, 'verify', '--help'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    const help = `${r.stdout}\n${r.stderr}`;
    const missing = FLAGS_USED.filter((f) => !new RegExp(`(^|[\\s,])${f}([\\s,=]|$)`, 'm').test(help));
    expect(missing).toEqual([]);
  });
});
