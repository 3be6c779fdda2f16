/**
 * The step image, built for real (`npm run image`'s code: scripts/image.ts, reused when its inputs are unchanged)
 * and run as Tekton runs the Task's step: the Task YAML's command, args, env (only its REKOR_GATE_* variables
 * configure the CLI), securityContext and limits, on a read-only root, with /tekton/results, /tekton/home and the
 * Task's volumes mounted, against the test Rekor log and a local registry (IMAGE_URL) on 127.0.0.1 (host network).
 * Skipped, saying why, where buildah/podman/runc are missing; `.ci/run` installs them.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, type BuiltImage } from '../../scripts/image.ts';
import { APP_IN_IMAGE, NODE_IN_IMAGE } from '../../scripts/image-rootfs.ts';
import { readResource, repoRoot } from '../../scripts/tekton-resources.ts';
import { container, IMAGE_NEEDS, imageTree, podman, trustWorkspace, type ImageEntry } from '../fixtures/container.ts';
import { allOf, needs } from '../fixtures/needs.ts';
import { generateSigner } from '../fixtures/signers.ts';
import { runTask, type TaskRunOutcome } from '../fixtures/step-runner.ts';
import { logIntotoV001, provenance, startWorld, type World } from '../fixtures/world.ts';
import { pushImage } from '../fixtures/oci-content.ts';
import { REGISTRY_NEEDS, startRegistry, type RegistryHandle } from '../fixtures/registry.ts';
import { OciClient } from '../../src/registry/client.ts';
import { parseImageRef } from '../../src/registry/reference.ts';
import { RESULT_FILES } from '../tekton/contract.ts';

type Any = Record<string, any>;
const { describe: suite } = needs('test/container/image.test.ts', allOf(IMAGE_NEEDS, REGISTRY_NEEDS));

/** OpenShift's restricted SCC: a uid from the namespace's range, group 0. */
export const OPENSHIFT_USER = '1000680000:0';

const task = readResource('task/rekor-gate/0.1/rekor-gate.yaml') as Any;
const stepAction = readResource('stepaction/rekor-gate/0.1/rekor-gate.yaml') as Any;

suite('the step image', () => {
  let image: BuiltImage;
  let world: World;
  let trust: string;
  let tree: ImageEntry[];
  let reg: RegistryHandle;
  /** Images in the local registry (IMAGE_URL, as buildah's result gives it) with their digests. */
  const signed = { url: '', digest: '' };
  const forged = { url: '', digest: '' };

  beforeAll(async () => {
    image = await buildImage({ log: (l) => console.log(l) });
    tree = await imageTree(image.ref);
    world = await startWorld();
    trust = trustWorkspace(world.trustedRootPath);
    reg = await startRegistry();
    const client = new OciClient({ retries: 0 });
    try {
      for (const [img, name] of [[signed, 'signed'], [forged, 'forged']] as const) {
        img.url = `${reg.host}/acme/${name}:v1`;
        img.digest = (await pushImage(client, parseImageRef(img.url), 'v1', name)).digest;
      }
    } finally {
      await client.close();
    }
    logIntotoV001(world, provenance(signed.digest));
    // A forgery: provenance for the other image, signed by someone else's key, logged all the same.
    logIntotoV001(world, provenance(forged.digest), { signer: generateSigner('ecdsa-p256') });
  }, 900_000);

  afterAll(async () => {
    await world?.close();
    await reg?.stop();
    if (trust) rmSync(trust, { recursive: true, force: true });
  });

  const runStep = (params: Record<string, string>, user?: string): Promise<TaskRunOutcome> =>
    runTask(task, {
      params: { REKOR_URL: world.log.url, PUBLIC_KEY: world.signer.publicKeyPem, TIMEOUT_SECONDS: '10', ...params },
      workspaces: { trust },
      container: container(image.ref, user ? { user } : {}),
      timeoutMs: 120_000,
    });
  const log = (o: TaskRunOutcome): string => `${o.reason ?? ''}\n--- stdout\n${o.steps[0]?.stdout ?? ''}\n--- stderr\n${o.steps[0]?.stderr ?? ''}`;

  describe('holds what Node needs and nothing else', () => {
    it('Node, the whole dist/ folder, the libraries, CA roots, time zones, users; nothing more at the top', () => {
      const top = tree.filter((e) => e.path.split('/').length === 2).map((e) => e.path);
      expect(top).toEqual(['/app', '/etc', '/lib', '/lib64', '/nodejs', '/tmp', '/usr', '/var']);
      const app = tree.filter((e) => e.path.startsWith(`${APP_IN_IMAGE}/`)).map((e) => e.path.slice(APP_IN_IMAGE.length + 1));
      expect(app.sort()).toEqual(readdirSync(path.join(repoRoot, 'dist'), { recursive: true }).map(String).sort());
      for (const p of [NODE_IN_IMAGE, '/etc/ssl/certs/ca-certificates.crt', '/usr/share/zoneinfo/Europe/Paris', '/etc/passwd', '/etc/group', '/var/lib/dpkg/status.d/libc6']) {
        expect(tree.some((e) => e.path === p), p).toBe(true);
      }
      expect(tree.find((e) => e.path === '/tmp')?.mode).toBe(0o1777);
    });

    it('no shell, no package manager: the only programs are node and the dynamic loader', () => {
      const banned = /^(sh|bash|dash|ash|busybox|apt|apt-get|dpkg|npm|npx|corepack|yarn|pnpm)$/;
      expect(tree.filter((e) => e.type !== 'dir' && banned.test(path.basename(e.path))).map((e) => e.path)).toEqual([]);
      const executables = tree.filter((e) => e.type === 'file' && (e.mode & 0o111) !== 0).map((e) => e.path);
      // Debian marks libc.so.6 and the loader executable; dist/ bundles keep their +x from the build.
      const allowed = /^(\/nodejs\/bin\/node|\/app\/.+\.js|\/lib\/[^/]+-linux-gnu\/(ld-linux[^/]*|libc)\.so\.[\d.]+)$/;
      expect(executables.filter((p) => !allowed.test(p))).toEqual([]);
      expect(tree.some((e) => e.path.startsWith('/usr/lib/') && e.path.includes('gconv'))).toBe(false);
    });

    it('is small: beside the Node binary, under 12 MB', () => {
      const node = tree.find((e) => e.path === NODE_IN_IMAGE)!.size;
      const rest = tree.filter((e) => e.type === 'file' && e.path !== NODE_IN_IMAGE).reduce((n, e) => n + e.size, 0);
      console.log(`image files: node ${(node / 1e6).toFixed(1)} MB, everything else ${(rest / 1e6).toFixed(1)} MB`);
      expect(rest).toBeLessThan(12e6);
    });

    it('/bin/sh cannot be run in it', async () => {
      const r = await podman(['run', '--rm', '--pull=never', '--read-only', '--network', 'host', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', '--entrypoint', '/bin/sh', image.ref, '-c', 'true']);
      expect(r.code, r.stderr).toBe(127);
      expect(r.stderr).toMatch(/\/bin\/sh.*no such file or directory/);
    });

    it("runs as 65532 (nonroot), HOME on Tekton's /tekton/home, and its entrypoint is the Task's and the StepAction's command", async () => {
      const r = await podman(['image', 'inspect', '--format', '{{json .Config}}', image.ref]);
      const config = JSON.parse(r.stdout) as { User: string; Entrypoint: string[]; Env: string[] };
      expect(config.User).toBe('65532:65532');
      expect(config.Env).toContain('HOME=/tekton/home');
      expect(config.Entrypoint).toEqual([NODE_IN_IMAGE, `${APP_IN_IMAGE}/rekor-gate.js`]);
      expect(task.spec.steps[0].command).toEqual(config.Entrypoint);
      expect(stepAction.spec.command).toEqual(config.Entrypoint);
      expect(readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8')).toContain('ENV HOME=/tekton/home');
    });
  });

  describe("runs the Task's step as Tekton does", () => {
    it.each([
      ['the Task securityContext / image user (65532)', undefined],
      ["OpenShift's restricted SCC (an arbitrary uid, gid 0)", OPENSHIFT_USER],
    ])('a verified entry, as %s: exit 0 and every result file', async (_n, user) => {
      const out = await runStep({ IMAGE_DIGEST: signed.digest, IMAGE_URL: signed.url }, user);
      expect(out.steps[0]?.exitCode, log(out)).toBe(0);
      expect(out.succeeded).toBe('True');
      expect(out.results.VERIFIED).toBe('true');
      expect(out.results.REKOR_UUID).toMatch(/^([0-9a-f]{16})?[0-9a-f]{64}$/);
      expect(out.results.REPORT).toMatch(/^\{.*"verified":true/);
      expect(Object.keys(out.results).sort()).toEqual([...RESULT_FILES].sort());
      expect(out.missingResults).toEqual([]);
    });

    it('a forged entry (signed by a key that is not trusted): exit 1, VERIFIED=false', async () => {
      const out = await runStep({ IMAGE_DIGEST: forged.digest, IMAGE_URL: forged.url });
      expect(out.steps[0]?.exitCode, log(out)).toBe(1);
      expect(out.results.VERIFIED).toBe('false');
      expect(out.results.REPORT).toMatch(/"verified":false/);
    });

    it('bad input (a digest that is not sha256:<64 hex>): exit 2', async () => {
      const out = await runStep({ IMAGE_DIGEST: 'sha256:not-a-digest', IMAGE_URL: signed.url });
      expect(out.steps[0]?.exitCode, log(out)).toBe(2);
      expect(out.steps[0]?.stderr).toMatch(/digest/i);
    });

    it('the StepAction, inside its sample Task, in the same image', async () => {
      const sample = parseAllDocuments(readFileSync(path.join(repoRoot, 'stepaction/rekor-gate/0.1/samples/task-using-stepaction.yaml'), 'utf8'))[0]!.toJS();
      const out = await runTask(sample, {
        params: { IMAGE_DIGEST: signed.digest, IMAGE_URL: signed.url, REKOR_URL: world.log.url, PUBLIC_KEY: world.signer.publicKeyPem },
        workspaces: { trust },
        stepActions: { 'rekor-gate': stepAction },
        container: container(image.ref, { user: OPENSHIFT_USER }),
        timeoutMs: 120_000,
      });
      expect(out.succeeded, log(out)).toBe('True');
      expect(out.results.VERIFIED).toBe('true');
    });
  });
});
