import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { readResource } from '../../scripts/tekton-resources.ts';
import { runTask } from '../fixtures/step-runner.ts';
import { imageEmulation } from '../tekton/dockerfile.ts';

import path from 'node:path';
import { expect, it } from 'vitest';
import { MEDIA_TYPES } from '../../src/registry/client.ts';
import { pushManifest } from '../../src/registry/push.ts';
import { parseImageRef } from '../../src/registry/reference.ts';
import { json, pushImage, type PushedImage } from '../fixtures/oci-content.ts';
import { chainsDsseAtt, registryWorldSuite } from '../fixtures/chains-registry.ts';
import { IDENTITY, ISSUER, keylessSigner, logIntotoV001, provenance, runCli } from '../fixtures/world.ts';

/**
 * --platforms against a real registry (docker-registry 2.8): an OCI index of two platform manifests and a
 * BuildKit attestation-manifest entry (platform unknown/unknown), with entries in the test log for each part.
 */
const { run, rw } = registryWorldSuite();

type Logged = 'index' | 'linux/amd64' | 'linux/arm64';

/** An index (amd64, arm64, and a buildx attestation manifest for amd64) with log entries for the parts named. */
async function multiArch(name: string, logged: readonly Logged[], o: { att?: boolean } = {}) {
  const repo = parseImageRef(`${rw.reg.host}/acme/${name}:latest`);
  const amd = await pushImage(rw.client, repo, 'amd64', `${name}-amd64`);
  const arm = await pushImage(rw.client, repo, 'arm64', `${name}-arm64`);
  const att = await pushImage(rw.client, repo, 'att', `${name}-buildx-attestation`);
  const desc = (i: { digest: string; bytes: Buffer }) => ({ mediaType: MEDIA_TYPES.ociManifest, digest: i.digest, size: i.bytes.length });
  const bytes = json({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociIndex,
    manifests: [
      { ...desc(amd), platform: { architecture: 'amd64', os: 'linux' } },
      { ...desc(arm), platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
      {
        ...desc(att),
        platform: { architecture: 'unknown', os: 'unknown' },
        annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': amd.digest },
      },
    ],
  });
  const index = await pushManifest(rw.client, repo, bytes, MEDIA_TYPES.ociIndex, 'latest');
  const digests: Record<Logged, string> = { index, 'linux/amd64': amd.digest, 'linux/arm64': arm.digest };
  // chainsDsseAtt tags the .att by the part's digest (the index's config and layer are not read).
  const images: Record<Logged, PushedImage> = { index: { ...amd, digest: index, bytes }, 'linux/amd64': amd, 'linux/arm64': arm };
  const k = o.att ? await keylessSigner(rw.w) : undefined;
  for (const part of logged) {
    // Chains v0.29+: a dsse entry in the log, its envelope only in the part's .att tag.
    if (k) await chainsDsseAtt(rw.w, rw.client, repo, images[part], provenance(digests[part]), k);
    else logIntotoV001(rw.w, provenance(digests[part]));
  }
  return { url: `${rw.reg.host}/acme/${name}:latest`, index, amd: amd.digest, arm: arm.digest, att: att.digest };
}

const flags = (digest: string, url: string) => ['verify', '--rekor-url', rw.w.log.url, '--trusted-root', rw.w.trustedRootPath, '--timeout', '5', '--key', rw.w.keyPath, '--image-digest', digest, '--image-url', url];

run('image indexes (--platforms)', () => {
  it('by default the index\'s own attestation is what is verified', async () => {
    const m = await multiArch('default', ['index']);
    const r = await runCli(flags(m.index, m.url));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const none = await multiArch('default-none', ['linux/amd64', 'linux/arm64']);
    expect((await runCli(flags(none.index, none.url))).code).toBe(1);
  });

  it('--platforms all: the index and every platform pass; the attestation manifest is not a platform', async () => {
    const m = await multiArch('all', ['index', 'linux/amd64', 'linux/arm64']);
    const dir = path.join(rw.w.dir, 'results-platforms');
    mkdirSync(dir, { recursive: true });
    const r = await runCli([...flags(m.index, m.url), '--platforms', 'all', '--output', 'json', '--results-dir', dir]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.images.map((i: { label: string; imageDigest: string }) => [i.label, i.imageDigest])).toEqual([
      ['index', m.index],
      ['linux/amd64', m.amd],
      ['linux/arm64/v8', m.arm],
    ]);
    expect(JSON.stringify(out)).not.toContain('unknown/unknown');
    expect(readFileSync(path.join(dir, 'VERIFIED'), 'utf8')).toBe('true');
    const report = JSON.parse(readFileSync(path.join(dir, 'REPORT'), 'utf8'));
    expect(report.images.map((i: { p: string; st: string }) => `${i.p} ${i.st}`).sort()).toEqual(['index verified', 'linux/amd64 verified', 'linux/arm64/v8 verified']);
    const text = await runCli([...flags(m.index, m.url), '--platforms', 'all']);
    expect(text.stdout).toMatch(/^VERIFIED all 3 parts of the index/);
    expect(text.stdout).toContain('linux/arm64/v8: passed');
  });

  it('Chains v0.29+: dsse entries whose envelopes are in each part\'s .att tag (keyless)', async () => {
    const m = await multiArch('att', ['index', 'linux/amd64', 'linux/arm64'], { att: true });
    const keyless = ['--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER];
    const base = ['verify', '--rekor-url', rw.w.log.url, '--trusted-root', rw.w.trustedRootPath, '--timeout', '5', '--image-digest', m.index, '--image-url', m.url];
    const r = await runCli([...base, ...keyless, '--platforms', 'all', '--output', 'json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.images.map((i: { verdict: { accepted: { attestationFrom: string; sources: string[] } } }) => i.verdict.accepted.attestationFrom)).toEqual(['registry', 'registry', 'registry']);
    expect(out.images.every((i: { verdict: { accepted: { sources: string[] } } }) => i.verdict.accepted.sources.includes('att-tag'))).toBe(true);
  });

  it('--platforms all with a platform that has no attestation: exit 1, that platform failed', async () => {
    const m = await multiArch('arm-missing', ['index', 'linux/amd64']);
    const r = await runCli([...flags(m.index, m.url), '--platforms', 'all', '--output', 'json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ verified: false, passed: 2, failed: 1 });
    expect(out.images.find((i: { label: string }) => i.label === 'linux/arm64/v8').status).toBe('failed');
  });

  it('a named platform the index lacks: exit 1 naming it; named platforms only are required', async () => {
    const m = await multiArch('named', ['index', 'linux/amd64']);
    expect((await runCli([...flags(m.index, m.url), '--platforms', 'linux/amd64'])).code).toBe(0);
    // As the Task passes it.
    expect((await runCli(flags(m.index, m.url), { env: { REKOR_GATE_PLATFORMS: 'linux/amd64' } })).code).toBe(0);
    expect((await runCli(flags(m.index, m.url), { env: { REKOR_GATE_PLATFORMS: 'all' } })).code).toBe(1);
    const r = await runCli([...flags(m.index, m.url), '--platforms', 'linux/amd64,linux/s390x']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('[PLATFORM_MISSING] the index');
    expect(r.stdout).toContain('lists no platform linux/s390x (it lists: linux/amd64, linux/arm64/v8)');
  });

  it('the Task: PLATFORMS', async () => {
    const m = await multiArch('taskrun', ['index', 'linux/amd64']);
    const trust = path.join(rw.w.dir, 'platforms-trust');
    mkdirSync(trust, { recursive: true });
    copyFileSync(rw.w.trustedRootPath, path.join(trust, 'trusted_root.json'));
    const task = readResource('task/rekor-gate/0.1/rekor-gate.yaml');
    const params = { IMAGE_DIGEST: m.index, IMAGE_URL: m.url, REKOR_URL: rw.w.log.url, PUBLIC_KEY: rw.w.signer.publicKeyPem, PLATFORMS: 'linux/amd64' };
    const ok = await runTask(task, { params, workspaces: { trust }, image: imageEmulation() });
    expect(ok.succeeded, ok.steps.map((s) => s.stderr).join('\n')).toBe('True');
    expect(JSON.parse(ok.results['REPORT'] as string).images.map((i: { p: string }) => i.p).sort()).toEqual(['index', 'linux/amd64']);
    const all = await runTask(task, { params: { ...params, PLATFORMS: 'all' }, workspaces: { trust }, image: imageEmulation() });
    expect(all.succeeded).toBe('False');
    expect(all.results['VERIFIED']).toBe('false');
  });

  it('--platforms all: a manifest with no platform, an upper-case one and a repeated one are verified too, and the run fails naming the unattested one', async () => {
    const repo = parseImageRef(`${rw.reg.host}/acme/odd:latest`);
    const parts = await Promise.all(['upper', 'repeat', 'bare', 'annotated'].map((n) => pushImage(rw.client, repo, n, `odd-${n}`)));
    const [upper, repeat, bare, annotated] = parts as [PushedImage, PushedImage, PushedImage, PushedImage];
    const desc = (i: PushedImage) => ({ mediaType: MEDIA_TYPES.ociManifest, digest: i.digest, size: i.bytes.length });
    const bytes = json({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociIndex,
      manifests: [
        { ...desc(upper), platform: { architecture: 'AMD64', os: 'Linux' } },
        { ...desc(repeat), platform: { architecture: 'amd64', os: 'linux' } },
        { ...desc(annotated), platform: { architecture: 'arm64', os: 'linux' }, annotations: { 'vnd.docker.reference.type': 'attestation-manifest' } },
        desc(bare),
      ],
    });
    const index = await pushManifest(rw.client, repo, bytes, MEDIA_TYPES.ociIndex, 'latest');
    for (const d of [index, upper.digest, repeat.digest, annotated.digest]) logIntotoV001(rw.w, provenance(d));
    const url = `${rw.reg.host}/acme/odd:latest`;
    const r = await runCli([...flags(index, url), '--platforms', 'all', '--output', 'json']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.images.map((i: { label: string; status: string }) => `${i.label} ${i.status}`)).toEqual([
      'index verified',
      'linux/amd64 verified',
      'linux/amd64 (manifests[1]) verified',
      'linux/arm64 verified',
      'manifests[3] (no platform) failed',
    ]);
    // named: matched as containerd matches (case folded); a platform the index lacks falls back to the bare manifest
    expect((await runCli([...flags(index, url), '--platforms', 'linux/amd64'])).code).toBe(0);
    const fallback = await runCli([...flags(index, url), '--platforms', 'linux/s390x', '--output', 'json']);
    expect(fallback.code).toBe(1);
    expect(JSON.parse(fallback.stdout).images.map((i: { imageDigest: string }) => i.imageDigest)).toEqual([index, bare.digest]);
    logIntotoV001(rw.w, provenance(bare.digest));
    expect((await runCli([...flags(index, url), '--platforms', 'all'])).code).toBe(0);
  });

  it('usage: --platforms without --image-url, unknown/unknown, a malformed name (exit 2)', async () => {
    const m = await multiArch('usage', ['index']);
    const base = ['verify', '--rekor-url', rw.w.log.url, '--trusted-root', rw.w.trustedRootPath, '--key', rw.w.keyPath, '--image-digest', m.index];
    expect((await runCli([...base, '--platforms', 'all'])).code).toBe(2);
    expect((await runCli([...flags(m.index, m.url), '--platforms', 'unknown/unknown'])).code).toBe(2);
    expect((await runCli([...flags(m.index, m.url), '--platforms', 'linux'])).code).toBe(2);
  });
});
