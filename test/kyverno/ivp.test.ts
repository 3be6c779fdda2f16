// ImageValidatingPolicy support (the reader, the evaluator, and verifyAdmission applying it): the shapes of Kyverno's documented examples for attestations
// (keyless SLSA provenance through in-toto, a key-signed image, an SBOM referrer), written with our own values.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { GateError } from '../../src/errors.ts';
import { judgeImage, type AttestorEvidence } from '../../src/kyverno/ivp-evaluate.ts';
import { globToRegExp } from '../../src/kyverno/ivp-glob.ts';
import { compileGateIvp } from '../../src/kyverno/ivp-gate.ts';
import { imageData } from '../../src/kyverno/images.ts';
import { compileIvp } from '../../src/kyverno/ivp-policy.ts';
import { verifyAdmission, type AdmissionRun } from '../../src/verify/admission.ts';
import type { Verdict } from '../../src/verify/types.ts';
import { stopSandbox } from '../../src/policy/cel/sandbox.ts';
import { chainsStatement, promotionBuild } from '../fixtures/chains-provenance.ts';

afterAll(() => stopSandbox());

const IMAGE = `registry.example/acme/app@sha256:${'a'.repeat(64)}`;
const PEM = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
const indented = PEM.trim().split('\n').map((l) => `              ${l}`).join('\n');

/** Keyless Tekton Chains provenance (SLSA v1.0), as Kyverno's "verify attestations" examples do it. */
const PROVENANCE_POLICY = `
apiVersion: policies.kyverno.io/v1
kind: ImageValidatingPolicy
metadata:
  name: require-chains-provenance
spec:
  validationActions: [Deny]
  matchConstraints:
    resourceRules:
      - apiGroups: ['']
        apiVersions: [v1]
        operations: [CREATE]
        resources: [pods]
  matchImageReferences:
    - glob: 'registry.example/acme/*'
  attestors:
    - name: chains
      cosign:
        keyless:
          identities:
            - subject: https://kubernetes.io/namespaces/tekton-chains/serviceaccounts/tekton-chains-controller
              issuer: https://oidc.cluster.example
        ctlog:
          url: https://rekor.example
  attestations:
    - name: slsa
      intoto:
        type: https://slsa.dev/provenance/v1
  validations:
    - expression: >-
        images.containers.map(image, verifyAttestationSignatures(image, attestations.slsa, [attestors.chains])).all(e, e > 0)
      message: the image has no provenance signed by Tekton Chains
    - expression: >-
        images.containers.map(image, extractPayload(image, attestations.slsa).predicate.buildDefinition.buildType == 'https://tekton.dev/chains/v2/slsa-tekton').all(e, e)
      message: the provenance is not of the slsa-tekton build type
`;

/** A key-signed image and a CycloneDX SBOM referrer, as Kyverno's key and referrer examples. */
const SBOM_POLICY = `
apiVersion: policies.kyverno.io/v1beta1
kind: ImageValidatingPolicy
metadata:
  name: signed-with-sbom
spec:
  matchImageReferences:
    - expression: ref.startsWith('registry.example/')
  attestors:
    - name: release-key
      cosign:
        key:
          data: |
${indented}
  attestations:
    - name: sbom
      referrer:
        type: sbom/cyclone-dx
  validations:
    - expression: images.containers.map(image, verifyImageSignatures(image, [attestors['release-key']])).all(e, e > 0)
      message: the image is not signed with the release key
    - expression: images.containers.all(image, verifyAttestationSignatures(image, attestations.sbom, [attestors['release-key']]) > 0 && extractPayload(image, attestations.sbom).bomFormat == 'CycloneDX')
      message: no signed CycloneDX SBOM
    - expression: getImageData(images.containers[0]).resolvedImage == images.containers[0]
      message: the image is not pinned by digest
`;

const compile = (yaml: string) => compileIvp(parseYaml(yaml), 'ivp.yaml');
const provenance = chainsStatement(promotionBuild(), 'slsa/v2alpha4', 'slsa-tekton');

function refusal(doc: unknown): string {
  try {
    compileIvp(doc, 'ivp.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(GateError);
    expect((err as GateError).code).toBe('BAD_POLICY');
    return (err as GateError).message;
  }
  throw new Error('compiled; expected a refusal');
}

describe('ImageValidatingPolicy: attestors, attestations, validations for one image', () => {
  it('reads the named attestors as rekor-gate signers and the log they name', () => {
    const p = compile(PROVENANCE_POLICY);
    expect(p.attestors[0]).toMatchObject({ name: 'chains', rekorUrl: 'https://rekor.example', keys: [] });
    expect(p.attestors[0]?.keyless).toHaveLength(1);
    expect(p.attestations).toEqual([{ name: 'slsa', kind: 'intoto', type: 'https://slsa.dev/provenance/v1' }]);
    expect(compile(SBOM_POLICY).attestors[0]?.keys).toHaveLength(1);
  });

  it('passes when the attestor verified the provenance and its payload satisfies the validations', () => {
    const p = compile(PROVENANCE_POLICY);
    const evidence: Record<string, AttestorEvidence> = { chains: { signature: false, attestations: { slsa: provenance } } };
    expect(judgeImage(p, IMAGE, evidence)).toMatchObject({ passed: true, failures: [] });
  });

  it('fails when no attestor verified it: the validation message, and required', () => {
    const v = judgeImage(compile(PROVENANCE_POLICY), IMAGE, { chains: { signature: true, attestations: {} } });
    expect(v.passed).toBe(false);
    expect(v.failures[0]).toBe('ImageValidatingPolicy require-chains-provenance (ivp.yaml): spec.validations[0]: the image has no provenance signed by Tekton Chains');
    // extractPayload before a verification that passed is an error (Kyverno: cannot be fetched before verifying)
    expect(v.failures[1]).toContain('cannot be read before verifyAttestationSignatures verified it');
    expect(v.failures[2]).toContain(`image ${IMAGE} failed signature or attestation verification`);
  });

  it('fails when the verified payload does not satisfy a validation', () => {
    const v02 = chainsStatement(promotionBuild(), 'slsa/v1');
    const v = judgeImage(compile(PROVENANCE_POLICY), IMAGE, { chains: { signature: false, attestations: { slsa: { ...v02 } } } });
    expect(v.failures.join('\n')).toContain('evaluation error'); // an SLSA v0.2 predicate has no buildDefinition
  });

  it('an image the policy does not match fails (a gate never passes an image its policy does not cover)', () => {
    const v = judgeImage(compile(PROVENANCE_POLICY), `other.example/x@sha256:${'b'.repeat(64)}`, {});
    expect(v.failures).toEqual([`ImageValidatingPolicy require-chains-provenance (ivp.yaml): spec.matchImageReferences: image other.example/x@sha256:${'b'.repeat(64)} matches none of them (glob registry.example/acme/*)`]);
  });

  it('key-signed image with a CycloneDX SBOM referrer, matched by expression; getImageData', () => {
    const p = compile(SBOM_POLICY);
    const ok: Record<string, AttestorEvidence> = { 'release-key': { signature: true, attestations: { sbom: { bomFormat: 'CycloneDX', specVersion: '1.5' } } } };
    expect(judgeImage(p, IMAGE, ok)).toMatchObject({ passed: true, failures: [] });
    const unsigned = judgeImage(p, IMAGE, { 'release-key': { signature: false, attestations: { sbom: { bomFormat: 'SPDX' } } } });
    expect(unsigned.failures.slice(0, 2)).toEqual([
      'ImageValidatingPolicy signed-with-sbom (ivp.yaml): spec.validations[0]: the image is not signed with the release key',
      'ImageValidatingPolicy signed-with-sbom (ivp.yaml): spec.validations[1]: no signed CycloneDX SBOM',
    ]);
    expect(judgeImage(p, `elsewhere.example/x@sha256:${'a'.repeat(64)}`, ok).failures[0]).toContain("matches none of them (expression ref.startsWith('registry.example/'))");
  });

  it('validationConfigurations.required: false lets validations that verify nothing pass', () => {
    const doc = parseYaml(PROVENANCE_POLICY);
    doc.spec.validationConfigurations = { required: false };
    doc.spec.validations = [{ expression: 'size(images.containers) == 1' }];
    expect(judgeImage(compileIvp(doc, 'ivp.yaml'), IMAGE, {}).passed).toBe(true);
    doc.spec.validationConfigurations = {};
    expect(judgeImage(compileIvp(doc, 'ivp.yaml'), IMAGE, {}).failures[0]).toContain('is not verified: no validation performed a signature or attestation check on it');
  });

  it('an attestation the policy does not name is an evaluation error', () => {
    const doc = parseYaml(PROVENANCE_POLICY);
    doc.spec.validations = [{ expression: "verifyAttestationSignatures(images.containers[0], 'sbom', [attestors.chains]) > 0" }];
    expect(judgeImage(compileIvp(doc, 'ivp.yaml'), IMAGE, {}).failures[0]).toContain('attestation not found in policy: sbom');
  });
});

describe('ImageValidatingPolicy: what is not supported is refused by name', () => {
  it.each([
    ['spec.attestors[0].notary', (d: any) => (d.spec.attestors[0] = { name: 'n', notary: { certs: { value: 'x' } } })],
    ['spec.attestors[0].cosign.key.kms', (d: any) => (d.spec.attestors[0].cosign = { key: { kms: 'gcpkms://x' } })],
    ['spec.attestors[0].cosign.ctlog.insecureIgnoreTlog', (d: any) => (d.spec.attestors[0].cosign.ctlog.insecureIgnoreTlog = true)],
    ['spec.attestors[0].cosign.annotations', (d: any) => (d.spec.attestors[0].cosign.annotations = { team: 'a' })],
    ['spec.credentials', (d: any) => (d.spec.credentials = { secrets: ['s'] })],
    ['spec.validations[1].messageExpression', (d: any) => (d.spec.validations[1].messageExpression = "'x'")],
  ])('%s', (name, change) => {
    const doc = parseYaml(PROVENANCE_POLICY);
    change(doc);
    expect(refusal(doc)).toBe(`ivp.yaml: not supported by rekor-gate: ${name}`);
  });

  it('another apiVersion or kind, an unknown field, bad CEL, a bad key', () => {
    const doc = parseYaml(PROVENANCE_POLICY);
    expect(refusal({ ...doc, apiVersion: 'policies.kyverno.io/v1alpha1' })).toContain('not an ImageValidatingPolicy rekor-gate can read: /apiVersion');
    expect(refusal({ ...doc, spec: { ...doc.spec, extra: 1 } })).toContain('must NOT have additional properties');
    expect(refusal({ ...doc, spec: { ...doc.spec, validations: [{ expression: 'verifyImageSignatures(' }] } })).toContain('spec.validations[0].expression: CEL expression');
    expect(refusal({ ...doc, spec: { ...doc.spec, validations: [{ expression: 'verifyImages(images) > 0' }] } })).toContain("calls 'verifyImages'");
    expect(refusal({ ...doc, spec: { ...doc.spec, attestors: [{ name: 'k', cosign: { key: { data: 'not a key' } } }] } })).toContain('spec.attestors[0].cosign.key.data');
  });
});

describe('matchImageReferences globs, as gobwas/glob without separators', () => {
  it.each([
    ['ghcr.io/*', 'ghcr.io/acme/app:1.0@sha256:abc', true],
    ['ghcr.io/*', 'docker.io/acme/app', false],
    ['registry.example/acme/app?', 'registry.example/acme/app2', true],
    ['registry.example/{acme,beta}/*', 'registry.example/beta/x', true],
    ['registry.example/{acme,beta}/*', 'registry.example/gamma/x', false],
    ['registry.example/[!x]*', 'registry.example/acme', true],
    ['registry.example/[!x]*', 'registry.example/xyz', false],
    ['registry.example/a.b', 'registry.example/aXb', false],
    ['registry.example/a\\*', 'registry.example/a*', true],
  ])('%s ~ %s: %s', (glob, image, want) => {
    expect(globToRegExp(glob).matches(image)).toBe(want);
  });
});

describe('ImageValidatingPolicy at the gate (verifyAdmission)', () => {
  const admission = (doc: unknown) => ({ source: 'ivp.yaml', rules: [], ivps: [compileGateIvp(doc, 'ivp.yaml')] });
  const verdict = (verified: boolean, signature = false): Verdict => ({
    verified,
    imageDigest: `sha256:${'a'.repeat(64)}`,
    rekorUrl: 'https://rekor.example',
    candidates: [],
    polls: 0,
    warnings: [],
    ...(signature ? { signature: { accepted: { uuid: 'sig', sources: ['sig-tag'], status: 'passed' } } } : {}),
  });
  /** A stand-in for verify(): hands the statement to the policy's rules as verify() does, then answers `verified`. */
  const fakeRun = (verified: boolean): AdmissionRun => async (policy, log) => {
    expect(log?.url).toBe('https://rekor.example'); // the attestor's ctlog.url
    if (policy.requireAttestation === false) return verdict(true, true);
    for (const r of policy.statementRules ?? []) expect(r.check(provenance)).toEqual([]);
    return verdict(verified);
  };
  const image = { ref: IMAGE, digest: `sha256:${'a'.repeat(64)}` };

  it('hands the statement of a verified attestation to the validations', async () => {
    const r = await verifyAdmission(admission(parseYaml(PROVENANCE_POLICY)), image, undefined, fakeRun(true));
    expect(r.verified).toBe(true);
    expect(r.outcomes).toEqual([expect.objectContaining({ policy: 'ImageValidatingPolicy/require-chains-provenance', entry: 'spec.validations', passed: true, signer: 'signature by chains, attestation slsa by chains' })]);
  });

  it('a run that did not verify hands nothing back: extractPayload fails, naming the validation', async () => {
    const r = await verifyAdmission(admission(parseYaml(PROVENANCE_POLICY)), image, undefined, fakeRun(false));
    expect(r.verified).toBe(false);
    expect(r.outcomes.map((o) => o.entry)).toEqual(['spec.validations[0]', 'spec.validations[1]', 'spec.validationConfigurations.required']);
    expect(r.outcomes[1]?.reason).toContain('cannot be read before verifyAttestationSignatures verified it');
  });

  it('an image matchImageReferences does not match is skipped, and nothing applying fails the gate', async () => {
    const r = await verifyAdmission(admission(parseYaml(PROVENANCE_POLICY)), { ...image, ref: 'other.example/x:1' }, undefined, fakeRun(true));
    expect(r).toMatchObject({ verified: false, outcomes: [], skipped: ['ImageValidatingPolicy/require-chains-provenance'] });
  });

  it('refuses ctlog.rekorPubKey without ctlog.url by name', () => {
    const doc = parseYaml(PROVENANCE_POLICY);
    doc.spec.attestors[0].cosign.ctlog = { rekorPubKey: PEM };
    expect(() => compileGateIvp(doc, 'ivp.yaml')).toThrow('spec.attestors[0].cosign.ctlog.rekorPubKey without ctlog.url (attestor chains)');
  });

  it('getImageData: Kyverno\'s image, resolvedImage, registry, repository and identifier', () => {
    expect(imageData('registry.example:5000/acme/app:v1', 'sha256:ab')).toEqual({
      image: 'registry.example:5000/acme/app:v1',
      resolvedImage: 'registry.example:5000/acme/app@sha256:ab',
      registry: 'registry.example:5000',
      repository: 'acme/app',
      identifier: 'v1',
    });
  });
});

describe('the ImageValidatingPolicy of docs/kyverno.md', () => {
  it('compiles at the gate (its key elided in the doc, filled in here)', () => {
    const doc = readFileSync(path.resolve(import.meta.dirname, '..', '..', 'docs', 'kyverno.md'), 'utf8');
    const block = /```yaml\n(apiVersion: policies\.kyverno\.io\/v1\nkind: ImageValidatingPolicy\n[\s\S]*?)```/.exec(doc)?.[1];
    expect(block).toBeDefined();
    const filled = (block as string).replace(/ {10}-----BEGIN PUBLIC KEY-----\n {10}\.\.\.\n {10}-----END PUBLIC KEY-----\n/, PEM.trim().split('\n').map((l) => `          ${l}\n`).join(''));
    const p = compileGateIvp(parseYaml(filled), 'docs/kyverno.md');
    expect(p).toMatchObject({ name: 'chains-provenance', attestations: [{ name: 'slsa', kind: 'intoto' }] });
    expect(p.attestors[0]?.keys).toHaveLength(1);
  });
});
