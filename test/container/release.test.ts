/**
 * The release rehearsal: `node scripts/release.ts --registry <local docker-registry>` (what `npm run release`
 * runs after `npm run build`) pushes the image and the Tekton bundle; then, as a cluster would, the Task is taken
 * from the bundle, its pinned step image pulled from the registry, and the step run in it against the test log.
 * Skipped, saying why, without buildah/podman/runc or Debian's docker-registry.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parse } from 'yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { OciClient } from '../../src/registry/client.ts';
import { parseImageRef } from '../../src/registry/reference.ts';
import { repoRoot } from '../../scripts/tekton-resources.ts';
import { container, IMAGE_NEEDS, podman, trustWorkspace } from '../fixtures/container.ts';
import { allOf, needs } from '../fixtures/needs.ts';
import { REGISTRY_NEEDS, startRegistry, type RegistryHandle } from '../fixtures/registry.ts';
import { runTask } from '../fixtures/step-runner.ts';
import { logIntotoV001, provenance, startWorld, type World } from '../fixtures/world.ts';
import { pushImage } from '../fixtures/oci-content.ts';

type Any = Record<string, any>;
const { describe: suite } = needs('test/container/release.test.ts', allOf(IMAGE_NEEDS, REGISTRY_NEEDS));

/** Files that only `--write` may change. */
const TRACKED = ['task/rekor-gate/0.1/rekor-gate.yaml', 'stepaction/rekor-gate/0.1/rekor-gate.yaml', 'catalog.yaml'];
const sums = (): Record<string, string> =>
  Object.fromEntries(TRACKED.map((f) => [f, createHash('sha256').update(readFileSync(path.join(repoRoot, f))).digest('hex')]));

function runScript(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'scripts', 'release.ts'), ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

suite('npm run release against a local registry', () => {
  let reg: RegistryHandle;
  let world: World;
  let out: string;
  let trust: string;
  let released: { image: string; bundle: string; tags: { image: string; bundle: string } };
  let before: Record<string, string>;
  let pulled: string | undefined;

  beforeAll(async () => {
    reg = await startRegistry();
    world = await startWorld();
    trust = trustWorkspace(world.trustedRootPath);
    out = mkdtempSync(path.join(os.tmpdir(), 'rekor-gate-release-out-'));
    before = sums();
    const r = await runScript(['--registry', reg.host, '--out', out]);
    if (r.code !== 0) throw new Error(`release failed (${r.code}):\n${r.stderr}`);
    released = JSON.parse(readFileSync(path.join(out, 'release.json'), 'utf8'));
  }, 900_000);

  afterAll(async () => {
    if (pulled) await podman(['rmi', pulled]);
    await world?.close();
    await reg?.stop();
    for (const d of [out, trust]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('pushes the image and the bundle, by digest, and changes nothing in the working tree without --write', () => {
    expect(released.image).toMatch(new RegExp(`^${reg.host}/rekor-gate/rekor-gate@sha256:[0-9a-f]{64}$`));
    expect(released.bundle).toMatch(new RegExp(`^${reg.host}/rekor-gate/rekor-gate-bundle@sha256:[0-9a-f]{64}$`));
    expect(sums()).toEqual(before);
  });

  it('writes the catalog-cd assets of the pinned files: the released Task names the pushed image', () => {
    for (const f of ['catalog.yaml', 'resources.tar.gz']) expect(existsSync(path.join(out, f)), f).toBe(true);
    const releasedTask = parse(readFileSync(path.join(out, 'tasks', 'rekor-gate', 'rekor-gate.yaml'), 'utf8')) as Any;
    expect(releasedTask.spec.steps[0].image).toBe(released.image);
  });

  it("a cluster's view: the Task from the bundle names the pushed image; pulled from the registry, its step verifies", async () => {
    const client = new OciClient({ retries: 0 });
    let taskYaml: string;
    try {
      const ref = parseImageRef(released.bundle);
      const m = await client.getManifest(ref, ref.digest!);
      const manifest = JSON.parse(m.bytes.toString()) as { layers: { digest: string; annotations: Record<string, string> }[] };
      const layer = manifest.layers.find((l) => l.annotations['dev.tekton.image.kind'] === 'task')!;
      taskYaml = gunzipSync(await client.getBlob(ref, layer.digest)).subarray(512).toString('utf8').replace(/\0+$/, '');
      // The image as pushed: its compressed size, for the README.
      const img = parseImageRef(released.image);
      const im = JSON.parse((await client.getManifest(img, img.digest!)).bytes.toString()) as { layers: { size: number }[] };
      console.log(`pushed image: ${(im.layers.reduce((n, l) => n + l.size, 0) / 1e6).toFixed(1)} MB compressed`);
    } finally {
      await client.close();
    }
    const task = parse(taskYaml) as Any;
    expect(task.spec.steps[0].image).toBe(released.image);

    const pull = await podman(['pull', '--tls-verify=false', released.image]);
    expect(pull.code, pull.stderr).toBe(0);
    pulled = released.image;

    const c = new OciClient({ retries: 0 });
    const url = `${reg.host}/acme/app:v1`;
    let signed: string;
    try {
      signed = (await pushImage(c, parseImageRef(url), 'v1', 'release-rehearsal')).digest;
    } finally {
      await c.close();
    }
    logIntotoV001(world, provenance(signed));
    const run = await runTask(task, {
      params: { IMAGE_DIGEST: signed, IMAGE_URL: url, REKOR_URL: world.log.url, PUBLIC_KEY: world.signer.publicKeyPem },
      workspaces: { trust },
      container: container(task.spec.steps[0].image),
      timeoutMs: 120_000,
    });
    expect(run.steps[0]?.exitCode, `${run.reason ?? ''}\n${run.steps[0]?.stderr ?? ''}`).toBe(0);
    expect(run.results.VERIFIED).toBe('true');
  });
});
