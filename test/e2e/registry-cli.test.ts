import { expect, it } from 'vitest';
import { parseImageRef } from '../../src/registry/reference.ts';
import { pushAtt, pushImage } from '../fixtures/oci-content.ts';
import { chainsBundleReferrer, registryWorldSuite } from '../fixtures/chains-registry.ts';
import { cosignBundleAnnotation, keylessSigner, logDsseV001, provenance, runCli, worldFlags, IDENTITY, ISSUER } from '../fixtures/world.ts';

/**
 * The registry side against a real registry (Debian's docker-registry, distribution 2.8: no referrers API,
 * so bundle referrers go through the tag schema) and the test log: Chains >= v0.29 logs dsse entries whose
 * envelope lives only in the registry.
 */
const { run, rw } = registryWorldSuite();


/** An image pushed, a dsse entry logged for it (keyless), and its .att manifest as Chains writes it. */
async function chainsImage(repoName: string, o: { envelopeBytes?: (text: string) => Buffer } = {}) {
  const repo = parseImageRef(`${rw.reg.host}/${repoName}:latest`);
  const image = await pushImage(rw.client, repo, 'latest', repoName);
  const k = await keylessSigner(rw.w);
  const logged = logDsseV001(rw.w, provenance(image.digest), { signer: k.signer, certificatePem: k.certificatePem });
  const bytes = o.envelopeBytes ? o.envelopeBytes(logged.envelopeText) : Buffer.from(logged.envelopeText);
  await pushAtt(rw.client, repo, image.digest, [bytes], {
    'dev.sigstore.cosign/bundle': cosignBundleAnnotation(rw.w, logged.uuid),
    'dev.sigstore.cosign/certificate': k.certificatePem,
    'dev.sigstore.cosign/chain': rw.w.ca.chainPem,
    predicateType: 'https://slsa.dev/provenance/v0.2',
  });
  return { repo, image, logged, url: `${rw.reg.host}/${repoName}:latest`, k };
}

const keyless = ['--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER];

run('rekor-gate verify with --image-url (registry evidence)', () => {
  it('verifies a Chains dsse entry with the envelope from the .att layer', async () => {
    const c = await chainsImage('acme/dsse');
    const r = await runCli([...worldFlags(rw.w, c.image.digest), ...keyless, '--image-url', c.url, '--output', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.accepted.uuid).toBe(c.logged.uuid);
    expect(out.accepted.kind).toBe('dsse 0.0.1');
    expect(out.accepted.attestationFrom).toBe('registry');
    expect(out.accepted.sources.sort()).toEqual(['att-tag', 'rekor-search']);
  });

  it('without --image-url fails and says the registry copy is needed', async () => {
    const c = await chainsImage('acme/no-url');
    const r = await runCli([...worldFlags(rw.w, c.image.digest), ...keyless]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('ATTESTATION_MISSING');
    expect(r.stdout).toContain('--image-url');
  });

  it('rejects a registry envelope that differs by one byte from the one the log signed', async () => {
    const c = await chainsImage('acme/tampered', { envelopeBytes: (t) => Buffer.from(t.replace('"payloadType"', '"payloadType" ')) });
    const r = await runCli([...worldFlags(rw.w, c.image.digest), ...keyless, '--image-url', c.url]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('ATTESTATION_HASH');
  });

  it('verifies offline from the SET in the .att annotation, sending nothing to the log', async () => {
    const c = await chainsImage('acme/offline');
    const before = rw.w.log.requests.length;
    const r = await runCli([...worldFlags(rw.w, c.image.digest), ...keyless, '--image-url', c.url, '--offline', '--output', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).accepted.sources).toEqual(['att-tag']);
    expect(rw.w.log.requests.length).toBe(before);
  });

  it('fails (exit 1) when the tag names another digest than --image-digest', async () => {
    const c = await chainsImage('acme/moved');
    await pushImage(rw.client, c.repo, 'latest', 'moved-on');
    const r = await runCli([...worldFlags(rw.w, c.image.digest), ...keyless, '--image-url', c.url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('TAG_DIGEST_MISMATCH');
    expect(r.stderr).toContain(c.image.digest);
  });

  it('exits 3 when the registry is down', async () => {
    const r = await runCli([...worldFlags(rw.w, `sha256:${'1'.repeat(64)}`), ...keyless, '--image-url', '127.0.0.1:1/acme/x:latest']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('REGISTRY_UNREACHABLE');
  });

  it('verifies a Sigstore bundle referrer (cosign 3) found through the referrers tag schema', async () => {
    const repoName = 'acme/bundle';
    const repo = parseImageRef(`${rw.reg.host}/${repoName}:latest`);
    const image = await pushImage(rw.client, repo, 'latest', repoName);
    const k = await keylessSigner(rw.w);
    const logged = await chainsBundleReferrer(rw.w, rw.client, repo, image, provenance(image.digest), k);
    const r = await runCli([...worldFlags(rw.w, image.digest), ...keyless, '--image-url', `${rw.reg.host}/${repoName}@${image.digest}`, '--output', 'json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.accepted.uuid).toBe(logged.uuid);
    expect(out.accepted.sources.sort()).toEqual(['referrer-bundle', 'rekor-search']);
  });
});
