/**
 * Runs probes.yaml the way a cluster would run its TaskRuns: the Task YAML's step, executed by the step runner
 * on the bundled CLI (the image's entrypoint), against the test Rekor log and a real registry on loopback,
 * holding what Tekton Chains writes: intoto 0.0.1 entries (Chains up to v0.28), a dsse 0.0.1 entry with its
 * envelope in the `.att` tag (v0.29+), and a Sigstore bundle referrer (`storage.oci.encoding-format:
 * sigstore-bundle`). The probes' ${PLACEHOLDERS} are filled with those. ConfigMaps and Secrets are laid out as
 * the kubelet mounts them (`..data` links). Needs `npm run build` (dist/rekor-gate.js) and Debian's
 * docker-registry (as the registry tests; skipped with a notice without it).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OciClient } from '../../src/registry/client.ts';
import { parseImageRef } from '../../src/registry/reference.ts';
import { readResource, repoRoot } from '../../scripts/tekton-resources.ts';
import { chainsBundleReferrer, chainsDsseAtt } from '../fixtures/chains-registry.ts';
import { signImage } from '../fixtures/signatures.ts';
import { pushImage } from '../fixtures/oci-content.ts';
import { needs } from '../fixtures/needs.ts';
import { REGISTRY_NEEDS, startRegistry, type RegistryHandle } from '../fixtures/registry.ts';
import { generateSigner } from '../fixtures/signers.ts';
import { imageSubject, slsaV1Statement } from '../fixtures/statements.ts';
import { runTask, type TaskRunOutcome } from '../fixtures/step-runner.ts';
import { IDENTITY, ISSUER, keylessSigner, logIntotoV001, provenance, startWorld, type World } from '../fixtures/world.ts';
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

const probes = (parse(readFileSync(path.join(repoRoot, 'probes.yaml'), 'utf8')) as { tasks: Probe[] }).tasks;
const bundle = path.join(repoRoot, 'dist', 'rekor-gate.js');
const { ok: withRegistry, describe: run } = needs('test/tekton/probes.test.ts', REGISTRY_NEEDS);

let world: World;
let reg: RegistryHandle;
let client: OciClient;
let dir: string;
/** Placeholder values, and the host directory behind each ConfigMap/Secret a probe binds. */
const values: Record<string, string> = {};
const volumes: Record<string, string> = {};
let late: { digest: string; statement: ReturnType<typeof provenance> };

/** A ConfigMap or Secret volume as the kubelet lays it out: each key a link through `..data`. */
function configVolume(name: string, files: Record<string, string>): string {
  const root = path.join(dir, name);
  const real = path.join(root, '..2026_12_01_00_00_00.000000001');
  mkdirSync(real, { recursive: true });
  for (const [k, v] of Object.entries(files)) writeFileSync(path.join(real, k), v);
  symlinkSync(path.basename(real), path.join(root, '..data'));
  for (const k of Object.keys(files)) symlinkSync(path.join('..data', k), path.join(root, k));
  return root;
}

/** Pushes an image for scenario X and records X_DIGEST and X_IMAGE (a tag, as buildah's IMAGE_URL). */
async function image(scenario: string) {
  const name = `probes/${scenario.toLowerCase().replaceAll('_', '-')}`;
  const repo = parseImageRef(`${reg.host}/${name}:v1`);
  const img = await pushImage(client, repo, 'v1', scenario);
  values[`${scenario}_DIGEST`] = img.digest;
  values[`${scenario}_IMAGE`] = `${reg.host}/${name}:v1`;
  return { repo, img };
}

beforeAll(async () => {
  if (!withRegistry) return; // every suite of this file is skipped, saying why
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run \`npm run build\` first (this test never skips)`);
  world = await startWorld();
  reg = await startRegistry();
  client = new OciClient({ retries: 0 });
  dir = mkdtempSync(path.join(os.tmpdir(), 'rekor-gate-probes-'));
  volumes['configMap:rekor-gate-probe-trust'] = configVolume('trust', { 'trusted_root.json': readFileSync(world.trustedRootPath, 'utf8') });
  // Chains' signing-secrets: the key pair cosign generated, encrypted, and its password; only cosign.pub is read.
  volumes['secret:signing-secrets'] = configVolume('signing-secrets', {
    'cosign.pub': world.signer.publicKeyPem,
    'cosign.key': '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\neyJrZGYiOnt9fQ==\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n',
    'cosign.password': 'not-read',
  });
  volumes['configMap:rekor-gate-probe-policy'] = configVolume('policy', {
    'policy.yaml': [
      'apiVersion: rekor-gate.dev/v1alpha1',
      'kind: Policy',
      'spec:',
      '  signers:',
      '    - name: chains-key',
      '      key: |',
      ...world.signer.publicKeyPem.trim().split('\n').map((l) => `        ${l}`),
      '  predicateTypes: [https://slsa.dev/provenance/v1]',
      '',
    ].join('\n'),
  });

  const keySigned = await image('KEY_SIGNED');
  const logged = logIntotoV001(world, provenance(keySigned.img.digest));
  values.KEY_SIGNED_UUID = logged.uuid;
  values.KEY_SIGNED_ENTRY_URL = `${world.log.url}/api/v1/log/entries?logIndex=${logged.logIndex}`;

  const keyless = await image('KEYLESS');
  const ks = await keylessSigner(world);
  const st = slsaV1Statement({ subjects: [imageSubject('registry.local/acme/app', keyless.img.digest)], builderId: 'https://tekton.dev/chains/v2' });
  logIntotoV001(world, st, { signer: ks.signer, certificatePem: ks.certificatePem });

  const lateImage = await image('LATE_SIGNED');
  late = { digest: lateImage.img.digest, statement: provenance(lateImage.img.digest) };
  await image('UNSIGNED');

  const dsse = await image('CHAINS_DSSE');
  await chainsDsseAtt(world, client, dsse.repo, dsse.img, provenance(dsse.img.digest), await keylessSigner(world));
  const signed = await image('SIGNED');
  const signer = await keylessSigner(world);
  await chainsDsseAtt(world, client, signed.repo, signed.img, provenance(signed.img.digest), signer);
  await signImage(world, client, signed.repo, signed.img, { signer: signer.signer, certificatePem: signer.certificatePem });
  const referrer = await image('BUNDLE');
  await chainsBundleReferrer(world, client, referrer.repo, referrer.img, provenance(referrer.img.digest), await keylessSigner(world));

  Object.assign(values, { REKOR_URL: world.log.url, PUBLIC_KEY: world.signer.publicKeyPem, KEYLESS_IDENTITY: IDENTITY, KEYLESS_ISSUER: ISSUER });
});

afterAll(async () => {
  await client?.close();
  await reg?.stop();
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

describe('probes.yaml', () => {
  it('has probes of the Task covering success, keyless, waiting, audit, enforcing, current Chains and the workspaces', () => {
    expect(probes.length).toBeGreaterThanOrEqual(11);
    for (const p of probes) expect(p.resourceName).toBe('rekor-gate');
    // Every probe passes IMAGE_URL, as every TaskRun must.
    for (const p of probes) expect((p.params ?? []).map((x) => x.name), p.name).toContain('IMAGE_URL');
    const bound = new Set(probes.flatMap((p) => (p.workspaces ?? []).map((w) => w.name)));
    for (const ws of ['trust', 'keys', 'policy']) expect(bound).toContain(ws);
  });

  it('asserts every result of the contract in some probe', () => {
    const asserted = new Set(probes.flatMap((p) => (p.assert.results ?? []).map((r) => r.slice(0, r.indexOf('=')))));
    expect([...RESULT_FILES].filter((r) => !asserted.has(r))).toEqual([]);
  });
});

run('probes, run as TaskRuns of the Task on the bundled CLI', () => {
  const task = readResource('task/rekor-gate/0.1/rekor-gate.yaml');

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

  it('writes the verification summary to the vsa workspace, signed with the vsa-key workspace', async () => {
    const vsaOut = mkdtempSync(path.join(dir, 'vsa-'));
    const vsaSigner = generateSigner('ecdsa-p256');
    const vsaKey = configVolume('vsa-key', { 'vsa.key': vsaSigner.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() });
    const out = await runTask(task, {
      params: { IMAGE_DIGEST: values.KEY_SIGNED_DIGEST!, IMAGE_URL: values.KEY_SIGNED_IMAGE!, REKOR_URL: values.REKOR_URL!, PUBLIC_KEY: values.PUBLIC_KEY! },
      workspaces: { trust: volumes['configMap:rekor-gate-probe-trust']!, vsa: vsaOut, 'vsa-key': vsaKey },
      image: imageEmulation(),
      timeoutMs: 90_000,
    });
    expect(out.succeeded, `${out.reason ?? ''}\n${out.steps[0]?.stderr ?? ''}`).toBe('True');
    const envelope = JSON.parse(readFileSync(path.join(vsaOut, 'vsa.json'), 'utf8'));
    expect(envelope.payloadType).toBe('application/vnd.in-toto+json');
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
    expect(statement.predicateType).toBe('https://slsa.dev/verification_summary/v1');
    expect(statement.predicate.verificationResult).toBe('PASSED');
  });

  it('OFFLINE: nothing is asked of the log; the dsse entry of the .att tag verifies from its SET', async () => {
    const out = await runTask(task, {
      params: {
        IMAGE_DIGEST: values.CHAINS_DSSE_DIGEST!,
        IMAGE_URL: values.CHAINS_DSSE_IMAGE!,
        REKOR_URL: 'https://rekor.invalid',
        CERTIFICATE_IDENTITY: IDENTITY,
        CERTIFICATE_OIDC_ISSUER: ISSUER,
        OFFLINE: 'true',
      },
      workspaces: { trust: volumes['configMap:rekor-gate-probe-trust']! },
      image: imageEmulation(),
      timeoutMs: 90_000,
    });
    expect(out.succeeded, `${out.reason ?? ''}\n${out.steps[0]?.stderr ?? ''}`).toBe('True');
    expect(out.results.VERIFIED).toBe('true');
  });
});

run('the StepAction, embedded in a Task of your own (its sample, which declares no volume), runs the same step', () => {
  const sample = () => parseAllDocuments(readFileSync(path.join(repoRoot, 'stepaction/rekor-gate/0.1/samples/task-using-stepaction.yaml'), 'utf8'))[0]!.toJS();
  const stepActions = () => ({ 'rekor-gate': readResource('stepaction/rekor-gate/0.1/rekor-gate.yaml') });

  it('verifies a Chains v0.29 dsse entry, writing step results that the Task exposes', async () => {
    expect(sample().spec.volumes).toBeUndefined();
    const out = await runTask(sample(), {
      params: { IMAGE_DIGEST: values.CHAINS_DSSE_DIGEST!, IMAGE_URL: values.CHAINS_DSSE_IMAGE!, REKOR_URL: values.REKOR_URL!, CERTIFICATE_IDENTITY: IDENTITY, CERTIFICATE_OIDC_ISSUER: ISSUER },
      workspaces: { trust: volumes['configMap:rekor-gate-probe-trust']! },
      stepActions: stepActions(),
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

  it('keys from the keys workspace; audit mode: green step, VERIFIED=false', async () => {
    const ok = await runTask(sample(), {
      params: { IMAGE_DIGEST: values.KEY_SIGNED_DIGEST!, IMAGE_URL: values.KEY_SIGNED_IMAGE!, REKOR_URL: values.REKOR_URL!, RESULTS_BUDGET: '2048' },
      workspaces: { trust: volumes['configMap:rekor-gate-probe-trust']!, keys: volumes['secret:signing-secrets']! },
      stepActions: stepActions(),
      image: imageEmulation(),
      timeoutMs: 90_000,
    });
    expect(ok.succeeded, `${ok.reason ?? ''}\n${ok.steps[0]?.stderr ?? ''}`).toBe('True');
    expect(ok.results.VERIFIED).toBe('true');
    expect(ok.steps[0]!.terminationMessageBytes).toBeLessThanOrEqual(2048);
    const audit = await runTask(sample(), {
      params: { IMAGE_DIGEST: values.UNSIGNED_DIGEST!, IMAGE_URL: values.UNSIGNED_IMAGE!, REKOR_URL: values.REKOR_URL!, PUBLIC_KEY: values.PUBLIC_KEY!, FAIL_ON_UNVERIFIED: 'false' },
      workspaces: { trust: volumes['configMap:rekor-gate-probe-trust']! },
      stepActions: stepActions(),
      image: imageEmulation(),
      timeoutMs: 90_000,
    });
    expect(audit.succeeded, `${audit.reason ?? ''}\n${audit.steps[0]?.stderr ?? ''}`).toBe('True');
    expect(audit.results.VERIFIED).toBe('false');
  });
});
