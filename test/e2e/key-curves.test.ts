import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseImageRef } from '../../src/registry/reference.ts';
import { pushImage } from '../fixtures/oci-content.ts';
import { needs } from '../fixtures/needs.ts';
import { REGISTRY_NEEDS, useRegistry } from '../fixtures/registry.ts';
import { generateSigner, type KeyAlgorithm } from '../fixtures/signers.ts';
import { cosignBundleAnnotation, logIntotoV001, logIntotoV002, provenance, randomDigest, runCli, startWorld, worldFlags, type World } from '../fixtures/world.ts';
import { pushAtt } from '../fixtures/oci-content.ts';

/**
 * Each ECDSA curve signs over its own hash (P-256 SHA-256, P-384 SHA-384, P-521 SHA-512, as Sigstore's key details
 * pair them): attestations, the registry's envelopes and summaries signed with each verify end to end.
 */
let w: World;
beforeAll(async () => {
  w = await startWorld();
});
afterAll(async () => {
  await w.close();
});

const CURVES: KeyAlgorithm[] = ['ecdsa-p256', 'ecdsa-p384', 'ecdsa-p521'];

function keyFiles(alg: KeyAlgorithm) {
  const s = generateSigner(alg);
  const pub = path.join(w.dir, `${alg}-${s.fingerprint.slice(0, 8)}.pub`);
  const key = path.join(w.dir, `${alg}-${s.fingerprint.slice(0, 8)}.key`);
  writeFileSync(pub, s.publicKeyPem);
  writeFileSync(key, s.privateKeyPem);
  return { signer: s, pub, key };
}

describe.each(CURVES)('%s', (alg) => {
  it('an intoto 0.0.2 attestation (its DSSE signature checked by the gate) verifies', async () => {
    const k = keyFiles(alg);
    const d = randomDigest();
    logIntotoV002(w, provenance(d.value), { signer: k.signer });
    const r = await runCli([...worldFlags(w, d.value), '--key', k.pub, '--output', 'json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).accepted.kind).toBe('intoto 0.0.2');
  });

  it('a summary signed with the key (--vsa-key) is written', async () => {
    const k = keyFiles(alg);
    const d = randomDigest();
    logIntotoV002(w, provenance(d.value), { signer: k.signer });
    const r = await runCli([...worldFlags(w, d.value), '--key', k.pub, '--vsa', path.join(w.dir, `vsa-${alg}.json`), '--vsa-key', k.key]);
    expect(r.code, r.stderr).toBe(0);
  });
});

const { describe: withRegistry } = needs('test/e2e/key-curves.test.ts (with a registry)', REGISTRY_NEEDS);
withRegistry('with a registry', () => {
  const oci = useRegistry();

  it.each(CURVES)('%s: the .att envelope of an intoto 0.0.1 entry, and a pushed summary accepted later', async (alg) => {
    const k = keyFiles(alg);
    const url = `${oci.reg.host}/acme/curve-${alg}:latest`;
    const repo = parseImageRef(url);
    const image = await pushImage(oci.client, repo, 'latest', `curve-${alg}`);
    const logged = logIntotoV001(w, provenance(image.digest), { signer: k.signer });
    await pushAtt(oci.client, repo, image.digest, [Buffer.from(logged.envelopeText)], { 'dev.sigstore.cosign/bundle': cosignBundleAnnotation(w, logged.uuid) });
    const first = await runCli([...worldFlags(w, image.digest), '--key', k.pub, '--image-url', url, '--vsa-key', k.key, '--vsa-push', '--output', 'json']);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(JSON.parse(first.stdout).accepted).toMatchObject({ uuid: logged.uuid, attestationFrom: 'registry' });
    const later = await runCli([...worldFlags(w, image.digest), '--image-url', url, '--accept-vsa-from', k.pub, '--vsa-policy-uri', 'rekor-gate:flags', '--output', 'json']);
    expect(later.code, later.stdout + later.stderr).toBe(0);
    expect(JSON.parse(later.stdout).accepted.sources).toEqual(['vsa']);
  });
});
