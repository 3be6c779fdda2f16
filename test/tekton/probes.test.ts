/**
 * Runs catalog.yaml's probes the way a cluster would run their TaskRuns: the Task YAML's step, executed by
 * the step runner on the bundled CLI (the image's entrypoint), against the test Rekor log on loopback.
 * The probes' ${PLACEHOLDERS} are filled with that log, the attestations uploaded to it and the signers.
 * Needs `npm run build` (dist/rekor-gate.js); fails loudly without it.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readResource, repoRoot } from '../../scripts/tekton-resources.ts';
import { imageSubject, slsaV1Statement } from '../fixtures/statements.ts';
import { runTask, type TaskRunOutcome } from '../fixtures/step-runner.ts';
import { IDENTITY, ISSUER, keylessSigner, logIntotoV001, provenance, randomDigest, startWorld, type World } from '../fixtures/world.ts';
import { RESULT_FILES } from './contract.ts';
import { imageEmulation } from './dockerfile.ts';

type Any = Record<string, any>;
interface Probe {
  name: string;
  resourceName: string;
  workspaces?: Any[];
  params?: { name: string; value: string }[];
  assert: { status?: { conditions?: { name: string; type: string; regexp: string }[] }; results?: string[] };
}

const catalog = parse(readFileSync(path.join(repoRoot, 'catalog.yaml'), 'utf8')) as Any;
const probes = catalog.catalog.probe.tasks as Probe[];
const bundle = path.join(repoRoot, 'dist', 'rekor-gate.js');

let world: World;
let dir: string;
/** Placeholder values, and the host directory behind each ConfigMap/Secret a probe binds. */
const values: Record<string, string> = {};
const volumes: Record<string, string> = {};
let late: { digest: string; statement: ReturnType<typeof provenance> };

beforeAll(async () => {
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run \`npm run build\` first (this test never skips)`);
  world = await startWorld();
  dir = mkdtempSync(path.join(os.tmpdir(), 'rekor-gate-probes-'));
  // The `trust` ConfigMap: the log's (and the test Fulcio's) trusted_root.json, nothing else.
  const trust = path.join(dir, 'configmap-rekor-gate-probe-trust');
  mkdirSync(trust);
  copyFileSync(world.trustedRootPath, path.join(trust, 'trusted_root.json'));
  volumes['configMap:rekor-gate-probe-trust'] = trust;

  const keySigned = randomDigest().value;
  logIntotoV001(world, provenance(keySigned));
  const keyless = randomDigest().value;
  const ks = await keylessSigner(world);
  const st = slsaV1Statement({ subjects: [imageSubject('registry.local/acme/app', keyless)], builderId: 'https://tekton.dev/chains/v2' });
  logIntotoV001(world, st, { signer: ks.signer, certificatePem: ks.certificatePem });
  const lateDigest = randomDigest().value;
  late = { digest: lateDigest, statement: provenance(lateDigest) };

  Object.assign(values, {
    REKOR_URL: world.log.url,
    PUBLIC_KEY: world.signer.publicKeyPem,
    KEY_SIGNED_DIGEST: keySigned,
    KEYLESS_DIGEST: keyless,
    KEYLESS_IDENTITY: IDENTITY,
    KEYLESS_ISSUER: ISSUER,
    LATE_SIGNED_DIGEST: lateDigest,
    UNSIGNED_DIGEST: randomDigest().value,
  });
});

afterAll(async () => {
  await world?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function fill(s: string): string {
  return s.replace(/\$\{([A-Z_]+)\}/g, (_, k: string) => {
    const v = values[k];
    if (v === undefined) throw new Error(`probe placeholder \${${k}} has no value`);
    return v;
  });
}

/** A probe's workspace binding -> the host directory the harness prepared for it. */
function bindWorkspaces(ws: Any[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const w of ws ?? []) {
    const key = w.configMap ? `configMap:${w.configMap.name}` : w.secret ? `secret:${w.secret.secretName}` : undefined;
    const host = key ? volumes[key] : w.emptyDir ? mkdtempSync(path.join(dir, 'emptydir-')) : undefined;
    if (!host) throw new Error(`probe workspace ${w.name}: no volume prepared for ${JSON.stringify(w)}`);
    out[w.name] = host;
  }
  return out;
}

function check(probe: Probe, out: TaskRunOutcome): void {
  const log = `${probe.name}\n--- stdout\n${out.steps.map((s) => s.stdout).join('')}\n--- stderr\n${out.steps.map((s) => s.stderr).join('')}\n--- results\n${JSON.stringify(out.results, null, 1)}`;
  for (const c of probe.assert.status?.conditions ?? []) {
    expect(c.type).toBe('Succeeded');
    expect(out.succeeded, `${c.name}: ${out.reason ?? ''}\n${log}`).toMatch(new RegExp(c.regexp));
  }
  for (const rule of probe.assert.results ?? []) {
    const eq = rule.indexOf('=');
    const key = rule.slice(0, eq);
    expect(out.results[key], `${rule}\n${log}`).toBeDefined();
    expect(out.results[key], `${rule}\n${log}`).toMatch(new RegExp(fill(rule.slice(eq + 1))));
  }
  // The CLI writes every declared result, verified or not (a Pipeline may read any of them).
  expect(out.missingResults, log).toEqual([]);
  for (const s of out.steps) expect(s.terminationMessageBytes).toBeLessThanOrEqual(4096);
}

describe('catalog.yaml probes, run as TaskRuns of the Task on the bundled CLI', () => {
  const task = readResource('task/rekor-gate/0.1/rekor-gate.yaml');

  it('there are probes for the Task, covering success, keyless, waiting, audit and enforcing', () => {
    expect(probes.length).toBeGreaterThanOrEqual(6);
    for (const p of probes) expect(p.resourceName).toBe('rekor-gate');
  });

  it.each(probes.map((p) => [p.name, p]))('%s', async (_n, probe) => {
    const params = Object.fromEntries((probe.params ?? []).map((p) => [p.name, fill(p.value)]));
    let timer: NodeJS.Timeout | undefined;
    if (params.IMAGE_DIGEST === late.digest) {
      // Chains signs after the build TaskRun ends: the entry appears while the step is already polling.
      timer = setTimeout(() => logIntotoV001(world, late.statement), 2500);
    }
    try {
      const out = await runTask(task, { params, workspaces: bindWorkspaces(probe.workspaces), image: imageEmulation(), timeoutMs: 90_000 });
      check(probe, out);
      if (timer) expect(out.steps[0]!.stdout + out.steps[0]!.stderr).not.toBe('');
    } finally {
      if (timer) clearTimeout(timer);
    }
  });
});

describe('the StepAction, embedded in a Task of your own (its sample), runs the same step', () => {
  it('verifies, writing step results that the Task exposes', async () => {
    const sample = parseAllDocuments(readFileSync(path.join(repoRoot, 'stepaction/rekor-gate/0.1/samples/task-using-stepaction.yaml'), 'utf8'))[0]!.toJS();
    const stepAction = readResource('stepaction/rekor-gate/0.1/rekor-gate.yaml');
    const out = await runTask(sample, {
      params: { IMAGE_DIGEST: values.KEY_SIGNED_DIGEST!, REKOR_URL: values.REKOR_URL!, PUBLIC_KEY: values.PUBLIC_KEY! },
      workspaces: { trust: volumes['configMap:rekor-gate-probe-trust']! },
      stepActions: { 'rekor-gate': stepAction },
      image: imageEmulation(),
      timeoutMs: 90_000,
    });
    // The StepAction names its results directory $(step.results.VERIFIED.path)/..: the CLI must resolve it
    // (path.resolve) before creating or writing anything, or it makes a directory named VERIFIED.
    const log = `${out.reason ?? ''} (see test/tekton/contract.ts: results directory)\n${out.steps[0]?.stderr ?? ''}`;
    expect(out.succeeded, log).toBe('True');
    expect(out.results.VERIFIED, log).toBe('true');
    expect(out.results.REKOR_UUID).toMatch(/^([0-9a-f]{16})?[0-9a-f]{64}$/);
    expect(out.results.REPORT).toMatch(/^\{.*"verified":true/);
    expect(out.missingResults).toEqual([]);
  });

  it('audit mode through the StepAction: green step, VERIFIED=false', async () => {
    const sample = parseAllDocuments(readFileSync(path.join(repoRoot, 'stepaction/rekor-gate/0.1/samples/task-using-stepaction.yaml'), 'utf8'))[0]!.toJS();
    const out = await runTask(sample, {
      params: { IMAGE_DIGEST: values.UNSIGNED_DIGEST!, REKOR_URL: values.REKOR_URL!, PUBLIC_KEY: values.PUBLIC_KEY!, FAIL_ON_UNVERIFIED: 'false' },
      workspaces: { trust: volumes['configMap:rekor-gate-probe-trust']! },
      stepActions: { 'rekor-gate': readResource('stepaction/rekor-gate/0.1/rekor-gate.yaml') },
      image: imageEmulation(),
      timeoutMs: 90_000,
    });
    expect(out.succeeded, `${out.reason ?? ''}\n${out.steps[0]?.stderr ?? ''}`).toBe('True');
    expect(out.results.VERIFIED).toBe('false');
  });
});

describe('every result of the contract is asserted by some probe', () => {
  it('covers all result names', () => {
    const asserted = new Set(probes.flatMap((p) => (p.assert.results ?? []).map((r) => r.slice(0, r.indexOf('=')))));
    expect([...RESULT_FILES].filter((r) => !asserted.has(r))).toEqual([]);
  });
});
