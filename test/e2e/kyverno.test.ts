import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { parseImageRef } from '../../src/registry/reference.ts';
import { chainsKeyImage, kyvernoGate, kyvernoPolicyFile, registryWorldSuite } from '../fixtures/chains-registry.ts';
import { pushAtt } from '../fixtures/oci-content.ts';
import { cosignBundleAnnotation, logIntotoV001, provenance, runCli } from '../fixtures/world.ts';

/**
 * The Kyverno ClusterPolicy of the Alauda guide's Kyverno step, at the gate: refused as printed (as Kyverno's
 * webhook and engine would), and once completed, applied in a cluster-like world (the test log, a registry, an
 * image signed and attested as Chains does with a key).
 */
const { run, rw } = registryWorldSuite();

const indent = (pem: string, n: number): string => pem.trim().split('\n').map((l) => `${' '.repeat(n)}${l}`).join('\n');

/**
 * The guide's policy (its indentation reconstructed): no imageReferences, a rekor block without url. Completed:
 * `url` set and imageReferences ["*"]; `more` appends to the verifyImages entry (attestations).
 */
function clusterPolicy(keyPem: string, completed?: { url: string; more?: string }): string {
  return `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: only-cosign-image-deploy
spec:
  rules:
  - name: check-image
    verifyImages:
    - ${completed ? 'imageReferences: ["*"]\n      ' : ''}attestors:
      - count: 1
        entries:
        - keys:
            publicKeys: |-
${indent(keyPem, 14)}
            rekor:
              ignoreTlog: false
              ${completed ? `url: ${completed.url}` : '# url: https://rekor.sigstore.dev'}
${completed?.more ?? ''}`;
}
const guidePolicy = (keyPem: string): string => clusterPolicy(keyPem);
const completedPolicy = (keyPem: string, url: string, more = ''): string => clusterPolicy(keyPem, { url, more });

const policyFile = kyvernoPolicyFile;
const gate = kyvernoGate;

run('--kyverno-policy: the guide\'s ClusterPolicy', () => {
  it('as printed: exit 2 naming rule check-image, the missing imageReferences and the empty rekor.url, each with the fix', async () => {
    const img = await chainsKeyImage(rw, 'kyverno/guide');
    const r = await gate(rw.w, img, policyFile(guidePolicy(rw.w.signer.publicKeyPem)));
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toContain('rule check-image verifyImages[0].imageReferences: is missing');
    expect(r.stderr).toContain('(or ["*"] for every image)');
    expect(r.stderr).toContain('rule check-image verifyImages[0].attestors[0].entries[0].keys.rekor.url: is empty');
    expect(r.stderr).toContain('no Host in request URL');
    expect(r.stderr).toContain('set url');
  });

  it('completed, an image signed and attested as Chains does: exit 0, naming the rule and the signature', async () => {
    const img = await chainsKeyImage(rw, 'kyverno/signed');
    const results = mkdtempSync(path.join(os.tmpdir(), 'rekor-gate-kyverno-results-'));
    const r = await gate(rw.w, img, policyFile(completedPolicy(rw.w.signer.publicKeyPem, rw.w.log.url)), ['--results-dir', results]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('admission policy: satisfied');
    expect(r.stdout).toContain('ClusterPolicy/only-cosign-image-deploy rule check-image verifyImages[0].attestors[0].entries[0].keys: signature passed');
    expect(readFileSync(path.join(results, 'VERIFIED'), 'utf8')).toBe('true');
    expect(readFileSync(path.join(results, 'SIGNATURE_SIGNER'), 'utf8')).toBe(`sha256:${rw.w.signer.fingerprint}`);
    expect(JSON.parse(readFileSync(path.join(results, 'REPORT'), 'utf8')).admission).toMatchObject({ verified: true, passed: 1 });
  });

  it('completed, an unsigned image: exit 1 naming the rule and the attestor', async () => {
    const img = await chainsKeyImage(rw, 'kyverno/unsigned', { sign: false });
    const results = mkdtempSync(path.join(os.tmpdir(), 'rekor-gate-kyverno-results-'));
    const r = await gate(rw.w, img, policyFile(completedPolicy(rw.w.signer.publicKeyPem, rw.w.log.url)), ['--results-dir', results]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain('admission policy: NOT satisfied');
    expect(r.stdout).toContain('ClusterPolicy/only-cosign-image-deploy rule check-image verifyImages[0].attestors[0].entries[0].keys: signature failed');
    const report = JSON.parse(readFileSync(path.join(results, 'REPORT'), 'utf8')) as { admission: { failed: { rule: string; at: string; why: string }[] } };
    expect(report.admission.failed[0]).toMatchObject({ rule: 'check-image', entry: 'verifyImages[0]', at: '.attestors[0].entries[0].keys' });
    expect(report.admission.failed[0]?.why).toContain('an image signature is required');
    expect(Buffer.byteLength(JSON.stringify(report))).toBeLessThan(3800);
  });

  it('completed, rekor.url pointing at an unreachable host: exit 3 naming it', async () => {
    const img = await chainsKeyImage(rw, 'kyverno/unreachable');
    const r = await gate(rw.w, img, policyFile(completedPolicy(rw.w.signer.publicKeyPem, 'http://127.0.0.1:1')));
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.stderr).toContain('127.0.0.1:1');
  });

  /** An attestations requirement of provenance v0.2 by the world's key, in its log. */
  const provenanceRequired = (): string => `      attestations:
      - type: https://slsa.dev/provenance/v0.2
        attestors:
        - entries:
          - keys:
              publicKeys: |-
${indent(rw.w.signer.publicKeyPem, 16)}
              rekor:
                url: ${rw.w.log.url}
`;

  it("applies an attestation's conditions over the predicate (Kyverno's documented SLSA builder check)", async () => {
    const img = await chainsKeyImage(rw, 'kyverno/conditions');
    const attestation = (builder: string) => `${provenanceRequired()}        conditions:
        - all:
          - key: "{{ builder.id }}"
            operator: Equals
            value: ${builder}
            message: the builder must be Tekton Chains
          - key: "{{ buildType }}"
            operator: AnyIn
            value: ["tekton.dev/*", "https://tekton.dev/*"]
`;
    const ok = await gate(rw.w, img, policyFile(completedPolicy(rw.w.signer.publicKeyPem, rw.w.log.url, attestation('https://tekton.dev/chains/v2'))));
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toContain('attestations[0].attestors[0].entries[0].keys (https://slsa.dev/provenance/v0.2): attestation passed');
    const bad = await gate(rw.w, img, policyFile(completedPolicy(rw.w.signer.publicKeyPem, rw.w.log.url, attestation('https://example.com/other'))));
    expect(bad.code, bad.stdout + bad.stderr).toBe(1);
    expect(bad.stdout).toContain('the builder must be Tekton Chains');
  });

  it("an attestation found only by the log's search does not satisfy a Cosign rule (admission reads the registry's .att tag)", async () => {
    const img = await chainsKeyImage(rw, 'kyverno/log-only', { attest: false });
    logIntotoV001(rw.w, provenance(img.image.digest));
    const r = await gate(rw.w, img, policyFile(completedPolicy(rw.w.signer.publicKeyPem, rw.w.log.url, provenanceRequired())), ['--output', 'json']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const out = JSON.parse(r.stdout) as { admission: { verified: boolean; outcomes: { requirement: string; passed: boolean; reason?: string }[] } };
    expect(out.admission.verified).toBe(false);
    const att = out.admission.outcomes.find((o) => o.requirement === 'attestation');
    expect(att).toMatchObject({ passed: false });
    expect(att?.reason).toContain('the attestation found (rekor-search) is not where a Cosign rule reads them');
  });

  it("--require-envelope holds for the policy's attestations: an intoto 0.0.1 entry only the log vouches for does not satisfy one", async () => {
    // Signed (.sig); attested by an intoto 0.0.1 entry whose .att layer names it but is not its envelope, so
    // the log's copy of the payload stands in, its signature vouched for by the log alone.
    const img = await chainsKeyImage(rw, 'kyverno/require-envelope', { attest: false });
    const logged = logIntotoV001(rw.w, provenance(img.image.digest));
    const other = Buffer.from(logged.envelopeText.replace('"payloadType"', '"payloadType" '));
    await pushAtt(rw.client, parseImageRef(img.url), img.image.digest, [other], { 'dev.sigstore.cosign/bundle': cosignBundleAnnotation(rw.w, logged.uuid) });
    const file = policyFile(completedPolicy(rw.w.signer.publicKeyPem, rw.w.log.url, provenanceRequired()));
    const plain = await gate(rw.w, img, file);
    expect(plain.code, plain.stdout + plain.stderr).toBe(0);
    const r = await gate(rw.w, img, file, ['--require-envelope', '--output', 'json']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const out = JSON.parse(r.stdout) as { admission: { verified: boolean }; candidates: { code?: string }[] };
    expect(out.admission.verified).toBe(false);
    expect(out.candidates.some((c) => c.code === 'ATTESTATION_MISSING')).toBe(true);
  });

  it("an accepted summary (--accept-vsa-from) stands in for the flags' attestations, not for the Kyverno policy", async () => {
    // Attested, unsigned: the flags' policy passes and a summary of it is pushed; the Kyverno rule's signature is missing.
    const img = await chainsKeyImage(rw, 'kyverno/vsa', { sign: false });
    const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rekor-gate-kyverno-vsa-'));
    writeFileSync(path.join(dir, 'vsa.key'), k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    writeFileSync(path.join(dir, 'vsa.pub'), k.publicKey.export({ type: 'spki', format: 'pem' }));
    const flags = ['verify', '--image-digest', img.image.digest, '--image-url', img.url, '--rekor-url', rw.w.log.url, '--trusted-root', rw.w.trustedRootPath, '--timeout', '5'];
    const pushed = await runCli([...flags, '--key', rw.w.keyPath, '--vsa-key', path.join(dir, 'vsa.key'), '--vsa-push']);
    expect(pushed.code, pushed.stdout + pushed.stderr).toBe(0);
    const accepted = await runCli([...flags, '--accept-vsa-from', path.join(dir, 'vsa.pub'), '--vsa-policy-uri', 'rekor-gate:flags']);
    expect(accepted.code, accepted.stdout + accepted.stderr).toBe(0);
    const file = policyFile(completedPolicy(rw.w.signer.publicKeyPem, rw.w.log.url));
    const r = await runCli([...flags, '--accept-vsa-from', path.join(dir, 'vsa.pub'), '--vsa-policy-uri', 'rekor-gate:flags', '--kyverno-policy', file, '--output', 'json']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const out = JSON.parse(r.stdout) as { verified: boolean; admission?: { verified: boolean } };
    expect(out.admission?.verified).toBe(false);
  });

  it('adds the policy to the flags: a --key signer is still required besides the policy', async () => {
    const img = await chainsKeyImage(rw, 'kyverno/with-flags');
    const r = await gate(rw.w, img, policyFile(completedPolicy(rw.w.signer.publicKeyPem, rw.w.log.url)), ['--key', rw.w.keyPath, '--output', 'json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { accepted: { kind: string }; admission: { verified: boolean } };
    expect(out.accepted.kind).toBe('dsse 0.0.1');
    expect(out.admission.verified).toBe(true);
  });

  it('rekor.ignoreTlog: true is honoured only with --kyverno-ignore-tlog, and then asks the log nothing for that attestor', async () => {
    const img = await chainsKeyImage(rw, 'kyverno/ignore-tlog');
    const unsigned = await chainsKeyImage(rw, 'kyverno/ignore-tlog-unsigned', { sign: false });
    const file = policyFile(completedPolicy(rw.w.signer.publicKeyPem, rw.w.log.url).replace('ignoreTlog: false', 'ignoreTlog: true'));
    const refused = await gate(rw.w, img, file);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('rekor.ignoreTlog: true');
    expect(refused.stderr).toContain('--kyverno-ignore-tlog');
    const before = rw.w.log.requests.length;
    const r = await gate(rw.w, img, file, ['--kyverno-ignore-tlog']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('unlogged signature (the log not checked)');
    expect(rw.w.log.requests.length).toBe(before);
    const u = await gate(rw.w, unsigned, file, ['--kyverno-ignore-tlog']);
    expect(u.code).toBe(1);
  });
});
