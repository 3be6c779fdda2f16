import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readResource } from '../../scripts/tekton-resources.ts';
import { parseImageRef } from '../../src/registry/reference.ts';
import { pushAtt, pushImage } from '../fixtures/oci-content.ts';
import { needs } from '../fixtures/needs.ts';
import { REGISTRY_NEEDS, useRegistry } from '../fixtures/registry.ts';
import { runTask } from '../fixtures/step-runner.ts';
import { startTufMirror, writeTufRepo, type TufMirror, type TufRepo } from '../fixtures/tuf-repo.ts';
import { makeTestPki } from '../net/tls-certs.ts';
import { imageEmulation } from '../tekton/dockerfile.ts';
import {
  cosignBundleAnnotation,
  keylessSigner,
  logDsseV001,
  logIntotoV001,
  provenance,
  randomDigest,
  runCli,
  startWorld,
  IDENTITY,
  ISSUER,
  type World,
} from '../fixtures/world.ts';

/**
 * Air-gapped trust: the trusted root comes from a private Sigstore TUF repository served from a local directory on
 * 127.0.0.1 (--tuf-mirror, --tuf-root), or is pinned by digest (--trusted-root-digest). The bundled CLI end to end.
 */
let w: World;
let repo: TufRepo;
let mirror: TufMirror;
let rootBytes: Buffer;
let cacheCount = 0;

beforeAll(async () => {
  w = await startWorld();
  rootBytes = readFileSync(w.trustedRootPath);
  repo = writeTufRepo(path.join(w.dir, 'tuf-repo'), { 'trusted_root.json': rootBytes });
  mirror = await startTufMirror(repo.dir);
});
afterAll(async () => {
  await mirror?.close();
  await w?.close();
});

const digestOf = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
/** A fresh TUF cache per run: nothing carries over between tests. */
const freshCache = (): string => path.join(w.dir, `tuf-cache-${++cacheCount}`);

/** verify against the test log with the signer's key, trust named by `trust`. */
function verifyArgs(digest: string, trust: string[]): string[] {
  return ['verify', '--image-digest', digest, '--rekor-url', w.log.url, '--key', w.keyPath, '--timeout', '5', ...trust];
}
const viaMirror = (m = mirror.url, root = repo.rootPath): string[] => ['--tuf-mirror', m, '--tuf-root', root, '--tuf-cache-dir', freshCache()];

describe('--tuf-mirror and --tuf-root', () => {
  it('verifies with the trusted root taken from the mirror, checked from --tuf-root onwards', async () => {
    const d = randomDigest();
    logIntotoV001(w, provenance(d.value));
    const before = mirror.requests.length;
    const r = await runCli(verifyArgs(d.value, viaMirror()));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`VERIFIED ${d.value}`);
    const asked = mirror.requests.slice(before);
    expect(asked).toContain('/timestamp.json');
    expect(asked).toContain('/1.snapshot.json');
    expect(asked).toContain('/1.targets.json');
    expect(asked).toContain(`/targets/${digestOf(rootBytes).slice(7)}.trusted_root.json`);
  });

  it('takes the same settings from REKOR_GATE_* variables', async () => {
    const d = randomDigest();
    logIntotoV001(w, provenance(d.value));
    const env = {
      REKOR_GATE_TUF_MIRROR: mirror.url,
      REKOR_GATE_TUF_ROOT: repo.rootPath,
      REKOR_GATE_TUF_CACHE_DIR: freshCache(),
      REKOR_GATE_TRUSTED_ROOT_DIGEST: digestOf(rootBytes),
    };
    const r = await runCli(verifyArgs(d.value, []), { env });
    expect(r.code, r.stderr).toBe(0);
  });

  it('a --tuf-root of another repository: the metadata does not verify (exit 2), naming the mirror', async () => {
    const other = writeTufRepo(path.join(w.dir, 'tuf-other'), { 'trusted_root.json': rootBytes });
    const r = await runCli(verifyArgs(randomDigest().value, viaMirror(mirror.url, other.rootPath)));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('[BAD_TRUST_ROOT]');
    expect(r.stderr).toContain(`TUF ${mirror.url}`);
    expect(r.stderr).toContain('does not verify');
    expect(r.stderr).not.toContain('tuf-repo-cdn.sigstore.dev');
  });

  it('a trusted_root.json changed on the mirror after signing: refused (exit 2)', async () => {
    const dir = path.join(w.dir, 'tuf-tampered');
    cpSync(repo.dir, dir, { recursive: true });
    const [target] = readdirSync(path.join(dir, 'targets'));
    writeFileSync(path.join(dir, 'targets', target!), rootBytes.toString().replace('"tlogs"', '"tlogs" '));
    const tampered = await startTufMirror(dir);
    try {
      const r = await runCli(verifyArgs(randomDigest().value, viaMirror(tampered.url)));
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('[BAD_TRUST_ROOT]');
      expect(r.stderr).toContain(`TUF ${tampered.url}`);
    } finally {
      await tampered.close();
    }
  });

  it('expired TUF metadata: refused (exit 2)', async () => {
    const expired = writeTufRepo(path.join(w.dir, 'tuf-expired'), { 'trusted_root.json': rootBytes }, { expires: new Date('2024-01-01T00:00:00Z') });
    const m = await startTufMirror(expired.dir);
    try {
      const r = await runCli(verifyArgs(randomDigest().value, viaMirror(m.url, expired.rootPath)));
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('[BAD_TRUST_ROOT]');
      expect(r.stderr).toMatch(/expired/i);
    } finally {
      await m.close();
    }
  });

  it('a mirror that is down: exit 3, naming that mirror', async () => {
    const down = await startTufMirror(repo.dir);
    await down.close();
    const r = await runCli(verifyArgs(randomDigest().value, viaMirror(down.url)));
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('[NETWORK]');
    expect(r.stderr).toContain(`the TUF repository ${down.url} could not be reached`);
  });

  it('an https mirror with a private CA: trusted with --ca-cert, refused without (exit 3)', async () => {
    const pki = await makeTestPki('tuf mirror CA');
    const secure = await startTufMirror(repo.dir, { tls: pki });
    try {
      const caFile = path.join(w.dir, 'tuf-mirror-ca.crt');
      writeFileSync(caFile, pki.caPem);
      const d = randomDigest();
      logIntotoV001(w, provenance(d.value));
      const ok = await runCli(verifyArgs(d.value, [...viaMirror(secure.url), '--ca-cert', caFile]));
      expect(ok.code, ok.stderr).toBe(0);
      expect(secure.requests).toContain('/timestamp.json');
      const refused = await runCli(verifyArgs(d.value, viaMirror(secure.url)));
      expect(refused.code).toBe(3);
      expect(refused.stderr).toContain(`the TUF repository ${secure.url} could not be reached`);
    } finally {
      await secure.close();
    }
  });

  it('--tuf-mirror without --tuf-root: a usage error asking for the repository\'s root', async () => {
    const r = await runCli(verifyArgs(randomDigest().value, ['--tuf-mirror', mirror.url, '--tuf-cache-dir', freshCache()]));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('[USAGE]');
    expect(r.stderr).toContain(`--tuf-mirror ${mirror.url}: no TUF root is known`);
    expect(r.stderr).toContain('--tuf-root FILE');
  });

  it('a --tuf-root that cannot be read: exit 2 naming it', async () => {
    const missing = path.join(w.dir, 'no-such-root.json');
    const r = await runCli(verifyArgs(randomDigest().value, viaMirror(mirror.url, missing)));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`[BAD_TRUST_ROOT]: --tuf-root ${missing} cannot be read`);
  });

  it.each([
    ['not JSON (a key file passed by mistake), never echoed', '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49\n', /is not JSON \(a TUF root\.json is expected\)$/],
    ['JSON but not TUF root metadata', '{"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1"}', /is not TUF root metadata: /],
  ])('a --tuf-root that is %s: exit 2 (not a network failure)', async (_name, text, message) => {
    const file = path.join(w.dir, `bad-tuf-root-${++cacheCount}.json`);
    writeFileSync(file, text);
    const r = await runCli(verifyArgs(randomDigest().value, viaMirror(mirror.url, file)));
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(message);
    expect(r.stderr).not.toContain('MIGHAgEA');
  });

  it('plain http only to a loopback host', async () => {
    const r = await runCli(verifyArgs(randomDigest().value, viaMirror('http://tuf.example.internal')));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--tuf-mirror http://tuf.example.internal/ must be https (plain http only to a loopback host)');
  });

  it('--tuf-mirror with --trusted-root: a usage error (one source of trust)', async () => {
    const r = await runCli(verifyArgs(randomDigest().value, [...viaMirror(), '--trusted-root', w.trustedRootPath]));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('[USAGE]');
    expect(r.stderr).toContain('give one');
  });
});

describe('--trusted-root-digest', () => {
  const wrong = `sha256:${'ab'.repeat(32)}`;

  it('a --trusted-root whose digest matches: verified', async () => {
    const d = randomDigest();
    logIntotoV001(w, provenance(d.value));
    const r = await runCli(verifyArgs(d.value, ['--trusted-root', w.trustedRootPath, '--trusted-root-digest', digestOf(rootBytes).toUpperCase().replace('SHA256', 'sha256')]));
    expect(r.code, r.stderr).toBe(0);
  });

  it('a --trusted-root whose digest differs: refused (exit 2), naming the file and both digests', async () => {
    const r = await runCli(verifyArgs(randomDigest().value, ['--trusted-root', w.trustedRootPath, '--trusted-root-digest', wrong]));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`[BAD_TRUST_ROOT]: --trusted-root ${w.trustedRootPath}: the trusted root's digest is ${digestOf(rootBytes)}, but --trusted-root-digest pins ${wrong}`);
  });

  it('the trusted_root.json of --trust-dir is checked too', async () => {
    const dir = path.join(w.dir, 'trust-dir');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'trusted_root.json'), rootBytes);
    const d = randomDigest();
    logIntotoV001(w, provenance(d.value));
    const ok = await runCli(verifyArgs(d.value, ['--trust-dir', dir, '--trusted-root-digest', digestOf(rootBytes)]));
    expect(ok.code, ok.stderr).toBe(0);
    const bad = await runCli(verifyArgs(d.value, ['--trust-dir', dir, '--trusted-root-digest', wrong]));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(path.join(dir, 'trusted_root.json'));
    expect(bad.stderr).toContain(wrong);
  });

  it('the trusted root obtained through TUF is checked: match verifies, mismatch is refused', async () => {
    const d = randomDigest();
    logIntotoV001(w, provenance(d.value));
    const ok = await runCli(verifyArgs(d.value, [...viaMirror(), '--trusted-root-digest', digestOf(rootBytes)]));
    expect(ok.code, ok.stderr).toBe(0);
    const bad = await runCli(verifyArgs(d.value, [...viaMirror(), '--trusted-root-digest', wrong]));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`TUF ${mirror.url} (--tuf-root ${repo.rootPath}): target trusted_root.json: the trusted root's digest is ${digestOf(rootBytes)}`);
    expect(bad.stderr).toContain(wrong);
  });

  it('not sha256:<64 hex>: a usage error', async () => {
    const r = await runCli(verifyArgs(randomDigest().value, ['--trusted-root', w.trustedRootPath, '--trusted-root-digest', 'sha256:abc']));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('[USAGE]: --trusted-root-digest must be sha256:<64 hex>');
  });

  it('with --rekor-public-key alone no trusted root is loaded: pinning one is a usage error', async () => {
    const rekorPub = path.join(w.dir, 'rekor-digest.pub');
    writeFileSync(rekorPub, w.log.publicKeyPem);
    const r = await runCli(verifyArgs(randomDigest().value, ['--rekor-public-key', rekorPub, '--trusted-root-digest', digestOf(rootBytes)]));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--trusted-root-digest pins a trusted root, but this run loads none');
  });
});

const { describe: withRegistry } = needs('test/e2e/tuf-mirror.test.ts (with a registry)', REGISTRY_NEEDS);

withRegistry('with a registry on loopback', () => {
  const oci = useRegistry();

  it('air-gapped: a keyless Chains attestation verified offline (nothing sent to the log), its CAs, CT log and log key from the loopback mirror', async () => {
    const ref = parseImageRef(`${oci.reg.host}/acme/airgap:latest`);
    const image = await pushImage(oci.client, ref, 'latest', 'airgap');
    const k = await keylessSigner(w);
    const logged = logDsseV001(w, provenance(image.digest), { signer: k.signer, certificatePem: k.certificatePem });
    await pushAtt(oci.client, ref, image.digest, [Buffer.from(logged.envelopeText)], {
      'dev.sigstore.cosign/bundle': cosignBundleAnnotation(w, logged.uuid),
      'dev.sigstore.cosign/certificate': k.certificatePem,
      'dev.sigstore.cosign/chain': w.ca.chainPem,
      predicateType: 'https://slsa.dev/provenance/v0.2',
    });
    const logBefore = w.log.requests.length;
    const mirrorBefore = mirror.requests.length;
    const args = [
      'verify', '--image-digest', image.digest, '--image-url', `${oci.reg.host}/acme/airgap:latest`, '--offline',
      // Never contacted with --offline; an address nothing listens on, to be sure.
      '--rekor-url', 'http://127.0.0.1:1',
      '--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER,
      '--trusted-root-digest', digestOf(rootBytes), '--output', 'json', '--timeout', '5',
      ...viaMirror(),
    ];
    const r = await runCli(args);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.verified).toBe(true);
    // Offline, the entry is known by its 64-hex leaf hash (the 80-hex UUID without its tree ID).
    expect(logged.uuid.endsWith(out.accepted.uuid)).toBe(true);
    expect(w.log.requests.length).toBe(logBefore);
    expect(mirror.requests.length).toBeGreaterThan(mirrorBefore);
  });

  it('the Task: TUF_MIRROR, TRUSTED_ROOT_DIGEST, and the TUF root as root.json in the trust workspace (a ConfigMap)', async () => {
    const ref = parseImageRef(`${oci.reg.host}/acme/airgap-task:v1`);
    const image = await pushImage(oci.client, ref, 'v1', 'airgap-task');
    const logged = logIntotoV001(w, provenance(image.digest));
    // A ConfigMap volume as the kubelet lays it out: the key a link through `..data`.
    const trust = path.join(w.dir, 'trust-configmap');
    const data = path.join(trust, '..2026_12_02_00_00_00.000000001');
    mkdirSync(data, { recursive: true });
    writeFileSync(path.join(data, 'root.json'), readFileSync(repo.rootPath));
    symlinkSync(path.basename(data), path.join(trust, '..data'));
    symlinkSync(path.join('..data', 'root.json'), path.join(trust, 'root.json'));
    const mirrorBefore = mirror.requests.length;
    const params = {
      IMAGE_DIGEST: image.digest,
      IMAGE_URL: `${oci.reg.host}/acme/airgap-task:v1`,
      REKOR_URL: w.log.url,
      PUBLIC_KEY: w.signer.publicKeyPem,
      TUF_MIRROR: mirror.url,
      TRUSTED_ROOT_DIGEST: digestOf(rootBytes),
    };
    const task = readResource('task/rekor-gate/0.1/rekor-gate.yaml');
    const out = await runTask(task, { params, workspaces: { trust }, image: imageEmulation() });
    expect(out.succeeded, out.steps.map((s) => s.stderr).join('\n')).toBe('True');
    expect(out.results['VERIFIED']).toBe('true');
    expect(out.results['REKOR_UUID']).toBe(logged.uuid);
    expect(mirror.requests.length).toBeGreaterThan(mirrorBefore);
    const pinnedWrong = await runTask(task, { params: { ...params, TRUSTED_ROOT_DIGEST: `sha256:${'0'.repeat(64)}` }, workspaces: { trust }, image: imageEmulation() });
    expect(pinnedWrong.succeeded).toBe('False');
    expect(pinnedWrong.steps[0]?.stderr).toContain('[BAD_TRUST_ROOT]');
  });
});
