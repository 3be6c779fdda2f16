import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { chainsKeyImage, kyvernoGate, kyvernoPolicyFile, registryWorldSuite } from '../fixtures/chains-registry.ts';
import type { World } from '../fixtures/world.ts';

/**
 * A Kyverno ImageValidatingPolicy at the gate, through --kyverno-policy, in the world of the ClusterPolicy test
 * (the test log, a registry, an image signed and attested with a key as Chains does): its attestor's evidence is
 * verified by the gate's own checks, then its CEL validations run over what was verified.
 */
const { run, rw } = registryWorldSuite();

const indent = (pem: string, n: number): string => pem.trim().split('\n').map((l) => `${' '.repeat(n)}${l}`).join('\n');
const SLSA = 'https://slsa.dev/provenance/v0.2';

type Options = { glob?: string; builder?: string; validations?: string; attestationType?: string; apiVersion?: string };

/** An IVP: attestor `chains` (the world's key, the test log), intoto attestation `slsa`, validations over the predicate. */
function ivp(w: World, o: Options = {}): string {
  const builder = o.builder ?? 'https://tekton.dev/chains/v2';
  const validations =
    o.validations ??
    `  - expression: images.containers.all(image, verifyImageSignatures(image, [attestors.chains]) > 0)
    message: the image is not signed by Chains' key
  - expression: >-
      images.containers.all(image, verifyAttestationSignatures(image, attestations.slsa, [attestors.chains]) > 0
      && extractPayload(image, attestations.slsa).predicate.builder.id == '${builder}')
    message: the provenance is not by builder ${builder}
`;
  return `apiVersion: ${o.apiVersion ?? 'policies.kyverno.io/v1'}
kind: ImageValidatingPolicy
metadata:
  name: chains-provenance
spec:
  matchImageReferences:
  - glob: "${o.glob ?? `${rw.reg.host}/ivp/*`}"
  attestors:
  - name: chains
    cosign:
      key:
        data: |
${indent(w.signer.publicKeyPem, 10)}
      ctlog:
        url: ${w.log.url}
  attestations:
  - name: slsa
    intoto:
      type: ${o.attestationType ?? SLSA}
  validations:
${validations}`;
}

const gate = kyvernoGate;
const policyFile = kyvernoPolicyFile;

run('--kyverno-policy: an ImageValidatingPolicy', () => {
  it('an attestor key, an intoto attestation, CEL over the verified predicate: exit 0 on a good image (v1 and v1beta1)', async () => {
    const img = await chainsKeyImage(rw, 'ivp/good');
    const results = mkdtempSync(path.join(os.tmpdir(), 'rekor-gate-ivp-results-'));
    for (const apiVersion of ['policies.kyverno.io/v1', 'policies.kyverno.io/v1beta1']) {
      const r = await gate(rw.w, img, policyFile(ivp(rw.w, { apiVersion })), ['--results-dir', results]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain('admission policy: satisfied');
      expect(r.stdout).toContain('ImageValidatingPolicy/chains-provenance spec.validations: validations passed over the verified evidence (signature by chains, attestation slsa by chains)');
      expect(readFileSync(path.join(results, 'VERIFIED'), 'utf8')).toBe('true');
    }
  });

  it('a validation that fails over the verified predicate: exit 1 naming the policy, the validation and its message', async () => {
    const img = await chainsKeyImage(rw, 'ivp/wrong-builder');
    const results = mkdtempSync(path.join(os.tmpdir(), 'rekor-gate-ivp-results-'));
    const r = await gate(rw.w, img, policyFile(ivp(rw.w, { builder: 'https://example.com/other-builder' })), ['--results-dir', results]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain('admission policy: NOT satisfied');
    expect(r.stdout).toContain('ImageValidatingPolicy/chains-provenance spec.validations[1]: validation failed: the provenance is not by builder https://example.com/other-builder');
    expect(r.stdout).not.toContain('spec.validations[0]:');
    const report = JSON.parse(readFileSync(path.join(results, 'REPORT'), 'utf8')) as { admission: { failed: { rule: string; entry: string; why: string }[] } };
    expect(report.admission.failed[0]).toMatchObject({ rule: 'ImageValidatingPolicy/chains-provenance', entry: 'spec.validations[1]' });
  });

  it('an attestation of a type the image does not have: its verification counts 0, and the validation fails', async () => {
    const img = await chainsKeyImage(rw, 'ivp/no-such-type');
    const r = await gate(rw.w, img, policyFile(ivp(rw.w, { attestationType: 'https://cyclonedx.org/bom' })));
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain('spec.validations[1]: validation failed: the provenance is not by builder');
  });

  it('an image the policy does not match: the IVP does not apply, and with nothing else applying the gate fails (exit 1)', async () => {
    const img = await chainsKeyImage(rw, 'other/unmatched');
    const r = await gate(rw.w, img, policyFile(ivp(rw.w)));
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain('ImageValidatingPolicy/chains-provenance: does not apply to this image (matchImageReferences)');
    expect(r.stdout).toContain('no rule or ImageValidatingPolicy of the admission policy applies to');
    // with the flags' own signer, the flags' verdict still stands; the unmatched policy still does not pass the image
    const withKey = await gate(rw.w, img, policyFile(ivp(rw.w)), ['--key', rw.w.keyPath]);
    expect(withKey.code, withKey.stdout + withKey.stderr).toBe(1);
  });

  it('extractPayload of an attestation no verifyAttestationSignatures verified: refused (exit 1 naming it)', async () => {
    const img = await chainsKeyImage(rw, 'ivp/unverified-payload');
    const validations = `  - expression: images.containers.all(image, verifyImageSignatures(image, [attestors.chains]) > 0)
  - expression: extractPayload(images.containers[0], attestations.slsa).predicate.builder.id != ''
    message: the builder is named
`;
    const r = await gate(rw.w, img, policyFile(ivp(rw.w, { validations })));
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain('ImageValidatingPolicy/chains-provenance spec.validations[1]: validation failed:');
    expect(r.stdout).toContain('the payload of attestation slsa cannot be read before verifyAttestationSignatures verified it');
  });

  it('refuses by name what the gate cannot verify (exit 2): a referrer attestation, an attestor trustedRoot, notary', async () => {
    const img = await chainsKeyImage(rw, 'ivp/refused');
    const referrer = ivp(rw.w).replace(`    intoto:\n      type: ${SLSA}`, '    referrer:\n      type: application/vnd.cyclonedx+json');
    const r1 = await gate(rw.w, img, policyFile(referrer));
    expect(r1.code, r1.stdout + r1.stderr).toBe(2);
    expect(r1.stderr).toContain('spec.attestations[0].referrer (attestation slsa: only intoto attestations are verified)');
    const root = ivp(rw.w).replace('      ctlog:\n', '      trustedRoot:\n        value: "{}"\n      ctlog:\n');
    const r2 = await gate(rw.w, img, policyFile(root));
    expect(r2.code, r2.stdout + r2.stderr).toBe(2);
    expect(r2.stderr).toContain('spec.attestors[0].cosign.trustedRoot');
    const notary = ivp(rw.w).replace('  - name: chains\n', '  - name: n\n    notary:\n      certs:\n        value: x\n  - name: chains\n');
    const r3 = await gate(rw.w, img, policyFile(notary));
    expect(r3.code, r3.stdout + r3.stderr).toBe(2);
    expect(r3.stderr).toContain('spec.attestors[0].notary');
  });
});
