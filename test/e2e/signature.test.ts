import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { parseImageRef } from '../../src/registry/reference.ts';
import { chainsDsseAtt, registryWorldSuite } from '../fixtures/chains-registry.ts';
import { pushImage } from '../fixtures/oci-content.ts';
import { generateSigner } from '../fixtures/signers.ts';
import {
  chainsSignatureBundle,
  cosign3SignatureBundle,
  logImageSignature,
  pushSig,
  sigAnnotations,
  signImage,
  simpleSigningPayload,
} from '../fixtures/signatures.ts';
import { cosignBundleAnnotation, keylessSigner, provenance, runCli, worldFlags, type JsonVerdict, IDENTITY, ISSUER } from '../fixtures/world.ts';

/**
 * Image signatures (--require-signature) against a real registry and the test log: the `.sig` tag, Chains'
 * sigstore-bundle signature and cosign 3's signature bundle, with and without the log; every failure class.
 */
const { run, rw } = registryWorldSuite();

const keyless = ['--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER];

type SigVerdict = JsonVerdict & { signature?: { accepted?: { uuid: string; signer: string; sources: string[] }; reason?: string }; candidates: (JsonVerdict['candidates'][number] & { role?: string })[] };

/** An image with a Chains attestation (.att, dsse entry, keyless): only its signature is left to each test. */
async function attestedImage(name: string) {
  const url = `${rw.reg.host}/${name}:latest`;
  const repo = parseImageRef(url);
  const image = await pushImage(rw.client, repo, 'latest', name);
  const k = await keylessSigner(rw.w);
  await chainsDsseAtt(rw.w, rw.client, repo, image, provenance(image.digest), k);
  return { url, repo, image, k };
}

async function verify(img: { url: string; image: { digest: string } }, more: string[] = []) {
  const results = mkdtempSync(path.join(os.tmpdir(), 'rekor-gate-sig-'));
  const r = await runCli([...worldFlags(rw.w, img.image.digest), ...keyless, '--image-url', img.url, '--require-signature', '--output', 'json', '--results-dir', results, ...more]);
  const out = r.stdout.startsWith('{') ? (JSON.parse(r.stdout) as SigVerdict) : undefined;
  const result = (name: string): string => readFileSync(path.join(results, name), 'utf8');
  return { ...r, out, result };
}

const sigOutcomes = (v: SigVerdict | undefined) => ((v?.candidates ?? []) as (JsonVerdict["candidates"][number] & { role?: string })[]).filter((c) => c.role === "signature");

run('image signatures (--require-signature)', () => {
  for (const offline of [false, true]) {
    const mode = offline ? ' offline' : '';
    it(`passes an image signed in its .sig tag (keyless, as Chains signs)${mode}`, async () => {
      const img = await attestedImage(`sig/ok${offline ? '-off' : ''}`);
      const s = await signImage(rw.w, rw.client, img.repo, img.image, { signer: img.k.signer, certificatePem: img.k.certificatePem });
      const r = await verify(img, offline ? ['--offline'] : []);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.out?.signature?.accepted?.uuid.slice(-64)).toBe(s.uuid.slice(-64));
      expect(r.out?.signature?.accepted?.sources).toEqual(['sig-tag']);
      expect(r.result('SIGNATURE_SIGNER')).toBe(IDENTITY);
      expect(JSON.parse(r.result('REPORT')).signature.passed).toBe(true);
    });

    it(`rejects a tampered .sig layer (payload changed after signing)${mode}`, async () => {
      const img = await attestedImage(`sig/tampered${offline ? '-off' : ''}`);
      const s = logImageSignature(rw.w, simpleSigningPayload(img.image.digest), { signer: img.k.signer, certificatePem: img.k.certificatePem });
      const tampered = Buffer.from(s.payload.toString('utf8').replace('"optional":null', '"optional":{"x":"y"}'));
      await pushSig(rw.client, img.repo, img.image.digest, [{ payload: tampered, annotations: sigAnnotations(rw.w, s, { certificatePem: img.k.certificatePem }) }]);
      const r = await verify(img, offline ? ['--offline'] : []);
      expect(r.code).toBe(1);
      expect(sigOutcomes(r.out)[0]).toMatchObject({ status: 'failed', check: 'signature', code: 'ATTESTATION_HASH' });
      expect(r.result('SIGNATURE_SIGNER')).toBe('');
    });

    it(`rejects a payload that names another digest${mode}`, async () => {
      const img = await attestedImage(`sig/digest${offline ? '-off' : ''}`);
      await signImage(rw.w, rw.client, img.repo, img.image, { signer: img.k.signer, certificatePem: img.k.certificatePem, payload: simpleSigningPayload(`sha256:${'ab'.repeat(32)}`) });
      const r = await verify(img, offline ? ['--offline'] : []);
      expect(r.code).toBe(1);
      expect(sigOutcomes(r.out)[0]).toMatchObject({ check: 'payload', code: 'SUBJECT_MISMATCH' });
      expect(sigOutcomes(r.out)[0]?.reason).toContain('critical.image.docker-manifest-digest');
    });

    it(`rejects a payload of another type${mode}`, async () => {
      const img = await attestedImage(`sig/type${offline ? '-off' : ''}`);
      await signImage(rw.w, rw.client, img.repo, img.image, { signer: img.k.signer, certificatePem: img.k.certificatePem, payload: simpleSigningPayload(img.image.digest, { type: 'atomic container signature' }) });
      const r = await verify(img, offline ? ['--offline'] : []);
      expect(r.code).toBe(1);
      expect(sigOutcomes(r.out)[0]).toMatchObject({ check: 'payload', code: 'STATEMENT_MALFORMED' });
    });

    it(`rejects a signature by an untrusted signer${mode}`, async () => {
      const img = await attestedImage(`sig/untrusted${offline ? '-off' : ''}`);
      const other = await keylessSigner(rw.w, { identity: 'https://github.com/evil/app/.github/workflows/x.yml@refs/heads/main' });
      await signImage(rw.w, rw.client, img.repo, img.image, { signer: other.signer, certificatePem: other.certificatePem });
      const r = await verify(img, offline ? ['--offline'] : []);
      expect(r.code).toBe(1);
      expect(sigOutcomes(r.out)[0]).toMatchObject({ check: 'signer', code: 'CERTIFICATE_IDENTITY' });
    });

    it(`rejects a signature by a key that is not trusted${mode}`, async () => {
      const img = await attestedImage(`sig/key${offline ? '-off' : ''}`);
      await signImage(rw.w, rw.client, img.repo, img.image, { signer: generateSigner() });
      const r = await verify(img, offline ? ['--offline'] : []);
      expect(r.code).toBe(1);
      expect(sigOutcomes(r.out)[0]).toMatchObject({ check: 'signer', code: 'SIGNER_UNTRUSTED' });
    });

    it(`passes Chains' sigstore-bundle image signature (simple signing in DSSE, hashedrekord)${mode}`, async () => {
      const img = await attestedImage(`sig/chains-bundle${offline ? '-off' : ''}`);
      const s = await chainsSignatureBundle(rw.w, rw.client, img.repo, img.image, img.k);
      const r = await verify(img, offline ? ['--offline'] : []);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.out?.signature?.accepted?.uuid.slice(-64)).toBe(s.uuid.slice(-64));
      expect(r.out?.signature?.accepted?.sources).toEqual(['referrer-bundle']);
    });

    it(`passes cosign 3's signature bundle (cosign/sign/v1 statement, dsse)${mode}`, async () => {
      const img = await attestedImage(`sig/cosign3${offline ? '-off' : ''}`);
      const logged = await cosign3SignatureBundle(rw.w, rw.client, img.repo, img.image, img.k);
      const r = await verify(img, offline ? ['--offline'] : []);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.out?.signature?.accepted?.uuid.slice(-64)).toBe(logged.uuid.slice(-64));
      // A signature is not an attestation: the accepted attestation is Chains' provenance.
      expect(r.out?.accepted?.predicateType).toBe('https://slsa.dev/provenance/v0.2');
    });
  }

  it('offline: rejects a .sig layer whose bundle names another entry than its SET signs', async () => {
    const img = await attestedImage('sig/set-swap');
    const s = logImageSignature(rw.w, simpleSigningPayload(img.image.digest), { signer: img.k.signer, certificatePem: img.k.certificatePem });
    const other = logImageSignature(rw.w, simpleSigningPayload(img.image.digest, { reference: 'other' }), { signer: img.k.signer, certificatePem: img.k.certificatePem });
    const bundle = JSON.parse(cosignBundleAnnotation(rw.w, s.uuid)) as { SignedEntryTimestamp: string };
    bundle.SignedEntryTimestamp = (JSON.parse(cosignBundleAnnotation(rw.w, other.uuid)) as { SignedEntryTimestamp: string }).SignedEntryTimestamp;
    await pushSig(rw.client, img.repo, img.image.digest, [{ payload: s.payload, annotations: sigAnnotations(rw.w, s, { certificatePem: img.k.certificatePem, bundle: JSON.stringify(bundle) }) }]);
    const r = await verify(img, ['--offline']);
    expect(r.code).toBe(1);
    expect(sigOutcomes(r.out)[0]).toMatchObject({ check: 'log', code: 'TLOG_SET' });
  });

  it("rejects a .sig layer whose bundle is another signature's entry (the log serves that one)", async () => {
    const img = await attestedImage('sig/entry-swap');
    const s = logImageSignature(rw.w, simpleSigningPayload(img.image.digest), { signer: img.k.signer, certificatePem: img.k.certificatePem });
    const other = logImageSignature(rw.w, simpleSigningPayload(img.image.digest, { reference: 'other' }), { signer: img.k.signer, certificatePem: img.k.certificatePem });
    await pushSig(rw.client, img.repo, img.image.digest, [{ payload: s.payload, annotations: sigAnnotations(rw.w, s, { certificatePem: img.k.certificatePem, bundle: cosignBundleAnnotation(rw.w, other.uuid) }) }]);
    for (const more of [[], ['--offline']]) {
      const r = await verify(img, more);
      expect(r.code).toBe(1);
      expect(sigOutcomes(r.out)[0]).toMatchObject({ check: 'signature', code: 'ATTESTATION_HASH' });
    }
  });

  it('rejects a .sig layer with no log proof, and an image with no signature at all', async () => {
    const img = await attestedImage('sig/unproven');
    const r0 = await verify(img);
    expect(r0.code).toBe(1);
    expect(r0.out?.reason).toContain('an image signature is required');
    const s = logImageSignature(rw.w, simpleSigningPayload(img.image.digest), { signer: img.k.signer, certificatePem: img.k.certificatePem });
    await pushSig(rw.client, img.repo, img.image.digest, [{ payload: s.payload, annotations: sigAnnotations(rw.w, s, { certificatePem: img.k.certificatePem, bundle: null }) }]);
    const r = await verify(img);
    expect(r.code).toBe(1);
    expect(sigOutcomes(r.out)[0]).toMatchObject({ check: 'log', code: 'TLOG_ENTRY_NOT_FOUND' });
  });

  it('rejects a cosign 3 signature statement about another image', async () => {
    const img = await attestedImage('sig/cosign3-other');
    await cosign3SignatureBundle(rw.w, rw.client, img.repo, img.image, img.k, { subjectDigest: `sha256:${'cd'.repeat(32)}` });
    const r = await verify(img);
    expect(r.code).toBe(1);
    expect(r.out?.reason).toContain('an image signature is required');
  });

  it('without --require-signature, an unsigned image passes as before and the .sig tag is not read', async () => {
    const img = await attestedImage('sig/off');
    const r = await runCli([...worldFlags(rw.w, img.image.digest), ...keyless, '--image-url', img.url, '--output', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).signature).toBeUndefined();
  });

  it('--require-signature without --image-url is a usage error (exit 2)', async () => {
    const img = await attestedImage('sig/no-url');
    const r = await runCli([...worldFlags(rw.w, img.image.digest), ...keyless, '--require-signature']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--image-url');
  });
});
