/** The step runner itself, on a fake image (a tiny node script), so its Tekton semantics are pinned down. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveParams, runTask, substitute, type ImageEmulation } from '../fixtures/step-runner.ts';

let dir: string;
let image: ImageEmulation;

// The fake image's program: writes its env (REKOR_GATE_*/HOME/DOCKER_CONFIG) as JSON into the result named
// by OUT, pads a result to PAD bytes, lists the TRUST dir, and exits with EXIT.
const PROGRAM = `
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
const dir = path.resolve(process.env.OUT_DIR);
mkdirSync(dir, { recursive: true });
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => /^(REKOR_GATE_|HOME$|DOCKER_CONFIG$|IMAGE_ENV$)/.test(k)));
writeFileSync(path.join(dir, 'ENV'), JSON.stringify({ env, args: process.argv.slice(2), trust: process.env.REKOR_GATE_TRUST_DIR ? readdirSync(process.env.REKOR_GATE_TRUST_DIR) : null }));
if (process.env.PAD) writeFileSync(path.join(dir, 'PAD'), 'x'.repeat(Number(process.env.PAD)));
process.exit(Number(process.env.EXIT ?? 0));
`;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'step-runner-test-'));
  writeFileSync(path.join(dir, 'prog.mjs'), PROGRAM);
  image = { entrypoint: ['/bin/node', '/opt/prog.mjs'], env: { IMAGE_ENV: 'from-image' }, files: [['/bin/node', process.execPath], ['/opt', dir]] };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const task = (over: Record<string, unknown> = {}) => ({
  apiVersion: 'tekton.dev/v1',
  kind: 'Task',
  metadata: { name: 't' },
  spec: {
    params: [
      { name: 'A', type: 'string' },
      { name: 'B', type: 'string', default: '' },
      { name: 'EXIT', type: 'string', default: '0' },
      { name: 'PAD', type: 'string', default: '' },
    ],
    workspaces: [{ name: 'trust', optional: true }],
    results: [{ name: 'ENV' }, { name: 'PAD' }],
    volumes: [{ name: 'tmp', emptyDir: {} }],
    steps: [
      {
        name: 'run',
        image: 'example.invalid/fake@sha256:' + '0'.repeat(64),
        args: ['verify', '$(params.A)'],
        env: [
          { name: 'OUT_DIR', value: '/tekton/results' },
          { name: 'REKOR_GATE_A', value: '$(params.A)' },
          { name: 'REKOR_GATE_B', value: '$(params["B"])' },
          { name: 'REKOR_GATE_TRUST_DIR', value: '$(workspaces.trust.path)' },
          { name: 'REKOR_GATE_BOUND', value: '$(workspaces.trust.bound)' },
          { name: 'HOME', value: '/tmp' },
          { name: 'EXIT', value: '$(params.EXIT)' },
          { name: 'PAD', value: '$(params.PAD)' },
          { name: 'K8S', value: '$(HOSTNAME)' },
        ],
        volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
      },
    ],
    ...over,
  },
});
const envOf = (r: { results: Record<string, string> }) => JSON.parse(r.results.ENV!) as { env: Record<string, string>; args: string[]; trust: string[] | null };

describe('step runner', () => {
  it('substitutes params (defaults too) once, empty optional params stay empty env vars', async () => {
    const out = await runTask(task(), { params: { A: '$(params.B)' }, image });
    expect(out.succeeded).toBe('True');
    const { env, args } = envOf(out);
    // A value is never substituted again.
    expect(env.REKOR_GATE_A).toBe('$(params.B)');
    expect(args).toEqual(['verify', '$(params.B)']);
    expect(env.REKOR_GATE_B).toBe('');
    expect(env.IMAGE_ENV).toBe('from-image');
    expect(out.missingResults).toEqual(['PAD']);
  });

  it('an unbound optional workspace has an empty path; a bound one is mounted', async () => {
    let out = await runTask(task(), { params: { A: 'a' }, image });
    expect(envOf(out).env.REKOR_GATE_TRUST_DIR).toBe('');
    expect(envOf(out).env.REKOR_GATE_BOUND).toBe('false');
    expect(envOf(out).trust).toBeNull();
    const ws = mkdtempSync(path.join(dir, 'ws-'));
    writeFileSync(path.join(ws, 'trusted_root.json'), '{}');
    out = await runTask(task(), { params: { A: 'a' }, workspaces: { trust: ws }, image });
    expect(envOf(out).env.REKOR_GATE_TRUST_DIR).toBe(ws);
    expect(envOf(out).env.REKOR_GATE_BOUND).toBe('true');
    expect(envOf(out).trust).toEqual(['trusted_root.json']);
    // /tmp is the emptyDir volume, not the host's /tmp.
    expect(envOf(out).env.HOME).not.toBe('/tmp');
  });

  it('a non-zero exit fails the TaskRun; results written before still count', async () => {
    const out = await runTask(task(), { params: { A: 'a', EXIT: '1' }, image });
    expect(out.succeeded).toBe('False');
    expect(out.reason).toBe('step run exited with code 1');
    expect(out.results.ENV).toBeDefined();
  });

  it('results beyond the 4096-byte termination message fail the TaskRun', async () => {
    const ok = await runTask(task(), { params: { A: 'a', PAD: '2000' }, image });
    expect(ok.succeeded).toBe('True');
    const big = await runTask(task(), { params: { A: 'a', PAD: '4000' }, image });
    expect(big.succeeded).toBe('False');
    expect(big.reason).toMatch(/termination message of \d+ bytes exceeds 4096/);
  });

  it('Tekton validation: unknown or missing params, unknown variables, unbound required workspaces', async () => {
    await expect(runTask(task(), { params: {}, image })).rejects.toThrow('required param "A" has no value');
    await expect(runTask(task(), { params: { A: 'a', Z: 'z' }, image })).rejects.toThrow('param "Z" is not declared');
    expect(() => substitute('$(params.NOPE)', () => undefined, 'x')).toThrow('x: unresolved variable $(params.NOPE)');
    expect(substitute('$(HOSTNAME)', () => undefined, 'x')).toBe('$(HOSTNAME)');
    const t = task({ workspaces: [{ name: 'trust' }] });
    await expect(runTask(t, { params: { A: 'a' }, image })).rejects.toThrow('required workspace "trust" is not bound');
    expect(resolveParams([{ name: 'X', default: 'd' }], {}, 'w')).toEqual({ X: 'd' });
  });

  it('expands a step that refs a StepAction: its params from the step, its results under the step directory', async () => {
    const stepAction = {
      apiVersion: 'tekton.dev/v1beta1',
      kind: 'StepAction',
      metadata: { name: 'sa' },
      spec: {
        params: [{ name: 'A' }, { name: 'VOL', default: 'v' }],
        results: [{ name: 'ENV' }],
        image: 'example.invalid/fake@sha256:' + '0'.repeat(64),
        env: [
          { name: 'OUT_DIR', value: '$(step.results.ENV.path)/..' },
          { name: 'REKOR_GATE_A', value: '$(params.A)' },
        ],
        volumeMounts: [{ name: '$(params.VOL)', mountPath: '/tmp' }],
      },
    };
    const t = {
      metadata: { name: 'uses-sa' },
      spec: {
        params: [{ name: 'X' }],
        results: [{ name: 'ENV', value: '$(steps.s.results.ENV)' }],
        volumes: [{ name: 'v', emptyDir: {} }],
        steps: [{ name: 's', ref: { name: 'sa' }, params: [{ name: 'A', value: 'x=$(params.X)' }] }],
      },
    };
    const out = await runTask(t, { params: { X: '1' }, stepActions: { sa: stepAction }, image });
    expect(out.succeeded).toBe('True');
    expect(envOf(out).env.REKOR_GATE_A).toBe('x=1');
    const bad = { ...t, spec: { ...t.spec, steps: [{ ...t.spec.steps[0], image: 'x' }] } };
    await expect(runTask(bad, { params: { X: '1' }, stepActions: { sa: stepAction }, image })).rejects.toThrow('image cannot be used with ref');
  });
});
