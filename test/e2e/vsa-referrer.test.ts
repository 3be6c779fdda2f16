import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readResource } from '../../scripts/tekton-resources.ts';
import { runTask } from '../fixtures/step-runner.ts';
import { imageEmulation } from '../tekton/dockerfile.ts';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { OciClient } from '../../src/registry/client.ts';
import { listReferrers } from '../../src/registry/referrers.ts';
import { parseImageRef } from '../../src/registry/reference.ts';
import { signVsa } from '../../src/vsa/index.ts';
import { isVsaReferrer, pushVsaReferrer } from '../../src/vsa/referrer.ts';
import { pushImage } from '../fixtures/oci-content.ts';
import { needs } from '../fixtures/needs.ts';
import { REGISTRY_NEEDS, startRegistry, type RegistryHandle } from '../fixtures/registry.ts';
import { logIntotoV001, provenance, runCli, startWorld, worldFlags, type World } from '../fixtures/world.ts';

/**
 * Verify once, trust later: a passing gate attaches its signed summary to the image (--vsa-push, through the
 * referrers tag schema on docker-registry 2.8), and a later gate accepts the image on it with --accept-vsa-from,
 * only for the right key, policy, result, digest and age.
 */
const { ok: withRegistry, describe: run } = needs('test/e2e/vsa-referrer.test.ts', REGISTRY_NEEDS);

let w: World;
let reg: RegistryHandle;
let client: OciClient;
let vsaKeyPem: string;
let vsaKeyPath: string;
let vsaPubPath: string;
let otherPubPath: string;
beforeAll(async () => {
  if (!withRegistry) return; // every suite of this file is skipped, saying why
  w = await startWorld();
  reg = await startRegistry();
  client = new OciClient({ retries: 0 });
  const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  vsaKeyPem = k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  vsaKeyPath = path.join(w.dir, 'vsa.key');
  writeFileSync(vsaKeyPath, vsaKeyPem);
  vsaPubPath = path.join(w.dir, 'vsa.pub');
  writeFileSync(vsaPubPath, k.publicKey.export({ type: 'spki', format: 'pem' }));
  otherPubPath = path.join(w.dir, 'other.pub');
  writeFileSync(otherPubPath, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }));
});
afterAll(async () => {
  await client?.close();
  await reg?.stop();
  await w?.close();
});

const POLICY = 'rekor-gate:flags';

async function image(name: string) {
  const repo = parseImageRef(`${reg.host}/acme/${name}:latest`);
  const img = await pushImage(client, repo, 'latest', name);
  return { repo, digest: img.digest, url: `${reg.host}/acme/${name}:latest`, subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: img.digest, size: img.bytes.length } };
}

/** A summary written by hand, signed with the VSA key, pushed as a referrer of the image. */
async function pushCrafted(i: Awaited<ReturnType<typeof image>>, o: { result?: string; policy?: string; subjectHex?: string; verifiedAt?: Date } = {}) {
  const hex = o.subjectHex ?? i.digest.slice(7);
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: `${reg.host}/acme/x`, digest: { sha256: hex } }],
    predicateType: 'https://slsa.dev/verification_summary/v1',
    predicate: {
      verifier: { id: 'https://example.test/verifier' },
      timeVerified: (o.verifiedAt ?? new Date()).toISOString(),
      resourceUri: `pkg:oci/x@sha256%3A${hex}`,
      policy: { uri: o.policy ?? POLICY },
      inputAttestations: [],
      verificationResult: o.result ?? 'PASSED',
      verifiedLevels: [],
    },
  };
  await pushVsaReferrer(client, i.repo, i.subject, Buffer.from(JSON.stringify(signVsa(statement, vsaKeyPem))), new Date());
}

function accept(i: { digest: string; url: string }, extra: string[] = [], pub = vsaPubPath) {
  return runCli([...worldFlags(w, i.digest), '--image-url', i.url, '--accept-vsa-from', pub, '--vsa-policy-uri', POLICY, '--output', 'json', ...extra]);
}

run('--vsa-push and --accept-vsa-from', () => {
  it('a pass pushes its signed summary as a referrer; a later gate accepts the image on it alone (found via: vsa)', async () => {
    const i = await image('pushed');
    logIntotoV001(w, provenance(i.digest));
    const first = await runCli([...worldFlags(w, i.digest), '--key', w.keyPath, '--image-url', i.url, '--vsa-key', vsaKeyPath, '--vsa-push']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('referrers tag schema');
    const listed = await listReferrers(client, i.repo, i.digest);
    expect(listed.via).toBe('tag-schema');
    expect(listed.descriptors.filter(isVsaReferrer)).toHaveLength(1);

    const before = w.log.requests.length;
    const later = await accept(i);
    expect(later.code, later.stderr).toBe(0);
    const out = JSON.parse(later.stdout);
    expect(out.verified).toBe(true);
    expect(out.accepted.sources).toEqual(['vsa']);
    expect(w.log.requests.length).toBe(before);
    const text = await runCli([...worldFlags(w, i.digest), '--image-url', i.url, '--accept-vsa-from', vsaPubPath, '--vsa-policy-uri', POLICY]);
    expect(text.stdout).toMatch(/found via: vsa \(/);
  });

  it('as the Task passes it: ACCEPT_VSA_FROM as PEM text, VSA_POLICY_URI and VSA_MAX_AGE in REKOR_GATE_* variables', async () => {
    const i = await image('task-env');
    await pushCrafted(i);
    const env = {
      REKOR_GATE_ACCEPT_VSA_FROM: readFileSync(vsaPubPath, 'utf8'),
      REKOR_GATE_VSA_POLICY_URI: POLICY,
      REKOR_GATE_MAX_AGE: '24h',
      REKOR_GATE_IMAGE_URL: i.url,
      REKOR_GATE_VSA_PUSH: '',
    };
    const r = await runCli([...worldFlags(w, i.digest), '--results-dir', path.join(w.dir, 'results-task-env')], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(path.join(w.dir, 'results-task-env', 'VERIFIED'), 'utf8')).toBe('true');
    expect(JSON.parse(readFileSync(path.join(w.dir, 'results-task-env', 'REPORT'), 'utf8')).accepted.sources).toEqual(['vsa']);
  });

  it('the Task: VSA_PUSH with the vsa-key workspace, then ACCEPT_VSA_FROM (PEM), VSA_POLICY_URI, VSA_MAX_AGE', async () => {
    const i = await image('task-run');
    logIntotoV001(w, provenance(i.digest));
    const trust = path.join(w.dir, 'task-trust');
    const vsaKey = path.join(w.dir, 'task-vsa-key');
    mkdirSync(trust, { recursive: true });
    mkdirSync(vsaKey, { recursive: true });
    copyFileSync(w.trustedRootPath, path.join(trust, 'trusted_root.json'));
    writeFileSync(path.join(vsaKey, 'vsa.key'), vsaKeyPem);
    const task = readResource('task/rekor-gate/0.1/rekor-gate.yaml');
    const base = { IMAGE_DIGEST: i.digest, IMAGE_URL: i.url, REKOR_URL: w.log.url };
    const first = await runTask(task, { params: { ...base, PUBLIC_KEY: w.signer.publicKeyPem, VSA_PUSH: 'true' }, workspaces: { trust, 'vsa-key': vsaKey }, image: imageEmulation() });
    expect(first.succeeded, first.steps.map((s) => s.stderr).join('\n')).toBe('True');
    expect((await listReferrers(client, i.repo, i.digest)).descriptors.filter(isVsaReferrer)).toHaveLength(1);
    const params = { ...base, ACCEPT_VSA_FROM: readFileSync(vsaPubPath, 'utf8'), VSA_POLICY_URI: POLICY, VSA_MAX_AGE: '1h' };
    const later = await runTask(task, { params, image: imageEmulation() });
    expect(later.succeeded, later.steps.map((s) => s.stderr).join('\n')).toBe('True');
    expect(later.results['VERIFIED']).toBe('true');
    expect(JSON.parse(later.results['REPORT'] as string).accepted.sources).toEqual(['vsa']);
    const other = await runTask(task, { params: { ...params, VSA_POLICY_URI: 'https://policies.test/other' }, image: imageEmulation() });
    expect(other.succeeded).toBe('False');
    expect(other.results['VERIFIED']).toBe('false');
  });

  it('a summary signed by another key is refused (SIGNER_UNTRUSTED)', async () => {
    const i = await image('wrong-key');
    await pushCrafted(i);
    const r = await accept(i, [], otherPubPath);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).candidates[0]).toMatchObject({ sources: ['vsa'], code: 'SIGNER_UNTRUSTED' });
    expect((await accept(i)).code).toBe(0);
  });

  it('a summary under another policy is refused', async () => {
    const i = await image('wrong-policy');
    await pushCrafted(i, { policy: 'https://policies.test/other' });
    const r = await accept(i);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).candidates[0]).toMatchObject({ code: 'VSA_NOT_EVIDENCE' });
    expect(JSON.parse(r.stdout).candidates[0].reason).toContain('not made under the policy rekor-gate:flags');
  });

  it('a FAILED summary is refused', async () => {
    const i = await image('failed');
    await pushCrafted(i, { result: 'FAILED' });
    const r = await accept(i);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).candidates[0].reason).toContain('only a PASSED summary');
  });

  it('a summary of another digest, attached to this image, is refused (SUBJECT_MISMATCH)', async () => {
    const i = await image('wrong-digest');
    await pushCrafted(i, { subjectHex: 'b'.repeat(64) });
    const r = await accept(i);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).candidates[0].code).toBe('SUBJECT_MISMATCH');
  });

  it('a summary older than --max-age is refused; without --max-age any age is accepted', async () => {
    const i = await image('old');
    await pushCrafted(i, { verifiedAt: new Date(Date.now() - 3 * 86400_000) });
    const r = await accept(i, ['--max-age', '48h']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).candidates[0].reason).toContain('older than the maximum age of 48h');
    expect((await accept(i, ['--max-age', '7d'])).code).toBe(0);
    expect((await accept(i)).code).toBe(0);
  });

  it('with signers too, no acceptable summary falls back to the attestations; without --accept-vsa-from a summary never counts', async () => {
    const i = await image('fallback');
    await pushCrafted(i, { result: 'FAILED' });
    logIntotoV001(w, provenance(i.digest));
    const r = await accept(i, ['--key', w.keyPath]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).accepted.sources).toContain('rekor-search');
    expect(r.stderr).toContain('verifying the attestations');
    const only = await image('vsa-only');
    await pushCrafted(only);
    expect((await runCli([...worldFlags(w, only.digest), '--key', w.keyPath, '--image-url', only.url])).code).toBe(1);
  });

  it('a summary of the image is refused when --image-url\'s tag names another image (TAG_DIGEST_MISMATCH)', async () => {
    const x = await image('moved');
    await pushCrafted(x);
    expect((await accept(x)).code).toBe(0);
    // the tag moves to another image: the summary of X must not pass for what the tag now names
    await pushImage(client, x.repo, 'latest', 'moved-elsewhere');
    const r = await accept(x);
    expect(r.code, r.stdout).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('TAG_DIGEST_MISMATCH');
    expect(r.stdout).not.toContain('"verified":true');
    const results = path.join(w.dir, 'results-moved');
    await runCli([...worldFlags(w, x.digest), '--image-url', x.url, '--accept-vsa-from', vsaPubPath, '--vsa-policy-uri', POLICY, '--results-dir', results]);
    expect(readFileSync(path.join(results, 'VERIFIED'), 'utf8')).toBe('false');
    // by digest the reference names X itself
    expect((await accept({ digest: x.digest, url: `${reg.host}/acme/moved@${x.digest}` })).code).toBe(0);
  });

  it('--vsa-policy-digest: the pushing gate reports the digest it recorded; a later gate pinned to it refuses a summary made under other flags', async () => {
    const i = await image('pinned');
    logIntotoV001(w, provenance(i.digest));
    const results = path.join(w.dir, 'results-pinned');
    const first = await runCli([...worldFlags(w, i.digest), '--key', w.keyPath, '--image-url', i.url, '--vsa-key', vsaKeyPath, '--vsa-push', '--output', 'json', '--results-dir', results]);
    expect(first.code, first.stderr).toBe(0);
    const recorded = JSON.parse(first.stdout).summaryPolicy;
    expect(recorded).toMatchObject({ uri: POLICY, digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
    expect(first.stderr).toContain(recorded.digest);
    expect(readFileSync(path.join(results, 'VSA_POLICY_DIGEST'), 'utf8')).toBe(recorded.digest);
    expect(JSON.parse(readFileSync(path.join(results, 'REPORT'), 'utf8')).vsaPolicy).toBe(recorded.digest);
    const text = await runCli([...worldFlags(w, i.digest), '--key', w.keyPath, '--image-url', i.url, '--vsa', path.join(w.dir, 'pinned-text.json')]);
    expect(text.stdout).toContain(`summary policy: ${POLICY} ${recorded.digest}`);

    expect((await accept(i, ['--vsa-policy-digest', recorded.digest])).code).toBe(0);
    // a summary under the same URI but other flags (here: written by hand, another digest) is refused when pinned
    const j = await image('pinned-other');
    await pushCrafted(j);
    expect((await accept(j)).code).toBe(0);
    const r = await accept(j, ['--vsa-policy-digest', recorded.digest]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).candidates[0]).toMatchObject({ code: 'VSA_NOT_EVIDENCE', reason: expect.stringContaining(recorded.digest) });
  });

  it('flag combinations: usage errors (exit 2)', async () => {
    const i = await image('usage');
    expect((await runCli([...worldFlags(w, i.digest), '--image-url', i.url, '--accept-vsa-from', vsaPubPath])).code).toBe(2);
    expect((await runCli([...worldFlags(w, i.digest), '--accept-vsa-from', vsaPubPath, '--vsa-policy-uri', POLICY])).code).toBe(2);
    expect((await runCli([...worldFlags(w, i.digest), '--key', w.keyPath, '--vsa-push', '--image-url', i.url])).code).toBe(2);
    expect((await accept(i, ['--max-age', 'soon'])).code).toBe(2);
    expect((await accept(i, ['--vsa-policy-digest', 'abc'])).code).toBe(2);
    expect((await runCli([...worldFlags(w, i.digest), '--key', w.keyPath, '--vsa-policy-digest', `sha256:${'a'.repeat(64)}`])).code).toBe(2);
  });
});
