import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { readResource } from '../../scripts/tekton-resources.ts';
import { runTask } from '../fixtures/step-runner.ts';
import { imageEmulation } from '../tekton/dockerfile.ts';

import path from 'node:path';
import { expect, it } from 'vitest';
import { parseImageRef } from '../../src/registry/reference.ts';
import { terminationMessageSize } from '../../src/tekton/results.ts';
import { pushImage } from '../fixtures/oci-content.ts';
import { registryWorldSuite } from '../fixtures/chains-registry.ts';
import { generateSigner } from '../fixtures/signers.ts';
import { logIntotoV001, provenance, randomDigest, runCli } from '../fixtures/world.ts';

/** --images: several images in one run (Chains' IMAGES list), one verdict each, against the test log and a real registry. */
const { run, rw } = registryWorldSuite();

/** An image in the registry; `signed`: a passing entry in the log, `other`: an entry by an untrusted key. */
async function image(name: string, logged: 'signed' | 'other' | 'none' = 'signed'): Promise<string> {
  const repo = parseImageRef(`${rw.reg.host}/acme/${name}:latest`);
  const img = await pushImage(rw.client, repo, 'latest', name);
  if (logged === 'signed') logIntotoV001(rw.w, provenance(img.digest));
  if (logged === 'other') logIntotoV001(rw.w, provenance(img.digest), { signer: generateSigner() });
  return `${rw.reg.host}/acme/${name}@${img.digest}`;
}

const flags = () => ['verify', '--rekor-url', rw.w.log.url, '--trusted-root', rw.w.trustedRootPath, '--timeout', '5', '--key', rw.w.keyPath];

run('verify --images', () => {
  it('one verdict per image: one passing, one failing, one unreachable -> exit 3, VERIFIED false', async () => {
    const ok = await image('multi-ok');
    const bad = await image('multi-bad', 'other');
    // Nothing listens on port 1: that registry cannot be reached.
    const gone = `127.0.0.1:1/acme/gone@${randomDigest().value}`;
    const dir = path.join(rw.w.dir, 'results-mixed');
    const r = await runCli([...flags(), '--images', `${ok},${bad}\n${gone}\n`, '--output', 'json', '--results-dir', dir]);
    expect(r.code, r.stderr).toBe(3);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ verified: false, total: 3, passed: 1, failed: 1, unreachable: 1 });
    expect(out.images.map((i: { status: string }) => i.status)).toEqual(['verified', 'failed', 'unreachable']);
    expect(out.images[1].verdict.candidates[0].code).toBe('SIGNER_UNTRUSTED');
    expect(readFileSync(path.join(dir, 'VERIFIED'), 'utf8')).toBe('false');
    const report = JSON.parse(readFileSync(path.join(dir, 'REPORT'), 'utf8'));
    expect(report).toMatchObject({ verified: false, total: 3, passed: 1, failed: 1, unreachable: 1 });
    expect(report.images[0]).toMatchObject({ st: 'unreachable' });
  });

  it('a failing image and no unreachable one -> exit 1; the text summary names the counts', async () => {
    const ok = await image('multi-ok2');
    const none = await image('multi-none', 'none');
    const r = await runCli([...flags(), '--images', `${ok},${none}`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^NOT VERIFIED: 1 of 2 images verified, 1 failed, 0 could not be checked/);
    expect(r.stdout).toContain(`VERIFIED ${ok.slice(ok.indexOf('@') + 1)}`);
  });

  it('all verified -> exit 0; in audit mode a failure is exit 0 with VERIFIED=false', async () => {
    const a = await image('multi-a');
    const b = await image('multi-b');
    const r = await runCli([...flags(), '--images', `${a}\n${b}`]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^VERIFIED all 2 images/);
    const bad = await image('multi-audit', 'other');
    expect((await runCli([...flags(), '--images', `${a},${bad}`, '--no-fail-on-unverified'])).code).toBe(0);
  });

  it('as the Task passes it: IMAGES in REKOR_GATE_IMAGES (newline-separated), IMAGE_DIGEST and IMAGE_URL empty', async () => {
    const a = await image('task-a');
    const b = await image('task-b');
    const env = { REKOR_GATE_IMAGES: `${a}\n${b}\n`, REKOR_GATE_IMAGE_DIGEST: '', REKOR_GATE_IMAGE_URL: '' };
    const r = await runCli(flags(), { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^VERIFIED all 2 images/);
  });

  it('the Task: IMAGES as Chains writes it, IMAGE_DIGEST and IMAGE_URL given as ""', async () => {
    const a = await image('taskrun-a');
    const b = await image('taskrun-b', 'other');
    const trust = path.join(rw.w.dir, 'images-trust');
    mkdirSync(trust, { recursive: true });
    copyFileSync(rw.w.trustedRootPath, path.join(trust, 'trusted_root.json'));
    const task = readResource('task/rekor-gate/0.1/rekor-gate.yaml');
    const params = { IMAGE_DIGEST: '', IMAGE_URL: '', IMAGES: `${a}\n${b}\n`, REKOR_URL: rw.w.log.url, PUBLIC_KEY: rw.w.signer.publicKeyPem };
    const out = await runTask(task, { params, workspaces: { trust }, image: imageEmulation() });
    expect(out.succeeded).toBe('False');
    expect(out.results['VERIFIED']).toBe('false');
    expect(JSON.parse(out.results['REPORT'] as string)).toMatchObject({ total: 2, passed: 1, failed: 1 });
    const ok = await runTask(task, { params: { ...params, IMAGES: a }, workspaces: { trust }, image: imageEmulation() });
    expect(ok.succeeded, ok.steps.map((s) => s.stderr).join('\n')).toBe('True');
    expect(ok.results['VERIFIED']).toBe('true');
  });

  it('50 images: every result within the 4096-byte termination message; REPORT summarises, JSON carries each verdict', async () => {
    const refs: string[] = [];
    for (let i = 0; i < 50; i++) refs.push(await image(`fifty-${i}`, i === 7 ? 'other' : 'signed'));
    const dir = path.join(rw.w.dir, 'results-fifty');
    const r = await runCli([...flags(), '--images', refs.join(','), '--results-dir', dir, '--output', 'json'], { timeoutMs: 180_000 });
    expect(r.code, r.stderr).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ total: 50, passed: 49, failed: 1 });
    expect(out.images.every((i: { verdict?: unknown }) => i.verdict !== undefined)).toBe(true);
    const results = Object.fromEntries(readdirSync(dir).filter((f) => !f.startsWith('.')).map((f) => [f, readFileSync(path.join(dir, f), 'utf8')]));
    expect(terminationMessageSize(results)).toBeLessThanOrEqual(4096 - 256);
    const report = JSON.parse(results['REPORT'] as string);
    expect(report).toMatchObject({ verified: false, total: 50, passed: 49, failed: 1 });
    expect(report.images[0]).toMatchObject({ st: 'failed', code: 'SIGNER_UNTRUSTED' });
  }, 200_000);

  it('usage: not with --image-digest, an item without a digest, an empty list (exit 2)', async () => {
    const ok = await image('multi-usage');
    expect((await runCli([...flags(), '--images', ok, '--image-digest', ok.slice(ok.indexOf('@') + 1)])).code).toBe(2);
    const r = await runCli([...flags(), '--images', `${ok},${rw.reg.host}/acme/x:latest`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is not REF@sha256');
    expect((await runCli([...flags(), '--images', ' , '])).code).toBe(2);
    expect((await runCli([...flags(), '--images', ok, '--vsa-push'])).code).toBe(2);
  });
});
