/**
 * A verification summary (VSA) says what a verifier decided, not how the image was built: it never counts as
 * the image's attestation by default, whatever its result. Reproduced as the review found it: a gate with
 * nothing to accept writes a FAILED VSA, signs it and logs it (--vsa-upload); its envelope then sits in the
 * registry beside the image; a later gate that trusts the VSA key, with the default "any predicate type",
 * must not accept it.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { parseImageRef } from '../../src/registry/reference.ts';
import { pushAtt, pushImage } from '../fixtures/oci-content.ts';
import { registryWorldSuite } from '../fixtures/chains-registry.ts';
import { cosignBundleAnnotation, runCli, worldFlags } from '../fixtures/world.ts';

const { run, rw } = registryWorldSuite();

run('a logged FAILED VSA is not evidence for a later gate', () => {
  it('VSA_NOT_EVIDENCE under the default "any predicate type"', async () => {
    const repo = parseImageRef(`${rw.reg.host}/acme/vsa:latest`);
    const image = await pushImage(rw.client, repo, 'latest', 'acme/vsa');
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const vsaKey = path.join(rw.w.dir, 'vsa-failed.key');
    const vsaPub = path.join(rw.w.dir, 'vsa-failed.pub');
    writeFileSync(vsaKey, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(vsaPub, publicKey.export({ type: 'spki', format: 'pem' }));
    const vsaFile = path.join(rw.w.dir, 'vsa-failed.json');

    // First gate: nothing attests the image, so the VSA it writes, signs and logs says FAILED.
    const first = await runCli([...worldFlags(rw.w, image.digest), '--key', rw.w.keyPath, '--vsa', vsaFile, '--vsa-key', vsaKey, '--vsa-upload']);
    expect(first.code, first.stderr).toBe(1);
    const uuid = /VSA logged as entry ([0-9a-f]{80})/.exec(first.stderr)?.[1];
    expect(uuid).toBeDefined();
    const envelope = JSON.parse(readFileSync(vsaFile, 'utf8'));
    expect(JSON.parse(Buffer.from(envelope.payload, 'base64').toString()).predicate.verificationResult).toBe('FAILED');

    // Its envelope (the bytes that were logged) beside the image, as cosign attach would put it.
    await pushAtt(rw.client, repo, image.digest, [Buffer.from(JSON.stringify(envelope))], {
      'dev.sigstore.cosign/bundle': cosignBundleAnnotation(rw.w, uuid!),
      predicateType: 'https://slsa.dev/verification_summary/v1',
    });

    // A later gate that trusts the VSA key.
    const later = await runCli([...worldFlags(rw.w, image.digest), '--key', vsaPub, '--image-url', `${rw.reg.host}/acme/vsa:latest`, '--output', 'json']);
    expect(later.code, later.stdout + later.stderr).toBe(1);
    const out = JSON.parse(later.stdout);
    expect(out.verified).toBe(false);
    const vsa = out.candidates.find((c: { uuid: string }) => c.uuid === uuid);
    expect(vsa).toMatchObject({ status: 'failed', check: 'statement', code: 'VSA_NOT_EVIDENCE' });
    expect(vsa.reason).toMatch(/verification summary .*verificationResult FAILED.* not evidence/);
  });
});
