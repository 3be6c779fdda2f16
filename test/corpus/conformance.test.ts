/**
 * The 70 sigstore-conformance bundle-verify cases, run as the suite defines them: the case's trusted_root.json
 * (else the production root), `artifact` (else ../a.txt), `key.pub` for a managed key, and for certificates the
 * `identity` / `issuer` files (else the suite's defaults), matched exactly. For a DSSE bundle, the artifact
 * must be a subject of the in-toto statement.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifySigstoreBundle } from '../../src/bundle/index.ts';
import { parseTrustedKeys } from '../../src/trust/public-keys.ts';
import { trustFromTrustedRoot } from '../../src/trust/index.ts';
import { conformanceDir, readJSON, trustedRootJSON } from './corpus.ts';
import { describeWithTestData } from '../fixtures/test-data.ts';

describeWithTestData(import.meta.url, 'the sigstore-conformance cases (corpus/conformance)', 'the sigstore-conformance cases', () => {
  const DEFAULT_IDENTITY =
    'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
  const DEFAULT_ISSUER = 'https://token.actions.githubusercontent.com';

  /** Why each failing case is rejected (our error code, or the step outside verifySigstoreBundle). */
  const REJECTED_WITH: Record<string, string> = {
    'bundle-empty-certificate-chain_fail': 'BUNDLE_MALFORMED',
    'bundle-from-wrong-instance_fail': 'TLOG_UNTRUSTED_LOG',
    'bundle-invalid-base64-signature_fail': 'BUNDLE_MALFORMED',
    'bundle-malformed-json_fail': 'JSON',
    'bundle-negative-log-index_fail': 'BUNDLE_MALFORMED',
    'bundle-unknown-version_fail': 'BUNDLE_MALFORMED',
    'bundle-with-root-cert_fail': 'TLOG_CHECKPOINT', // its v0.1 inclusion proof has no checkpoint (see src/bundle)
    'checkpoint-bad-keyhint_fail': 'TLOG_CHECKPOINT',
    'checkpoint-wrong-roothash_fail': 'TLOG_INCLUSION_PROOF',
    'dsse-invalid-sig_fail': 'ATTESTATION_BINDING',
    'dsse-mismatch-envelope_fail': 'ATTESTATION_BINDING',
    'dsse-mismatch-sig_fail': 'ATTESTATION_BINDING',
    'inclusion-proof-corrupted-hash_fail': 'TLOG_INCLUSION_PROOF',
    'incorrect-public-key_fail': 'TLOG_SET',
    'integrated-time-in-future_fail': 'CERTIFICATE_VALIDITY',
    'intoto-expired-certificate_fail': 'CERTIFICATE_VALIDITY',
    'intoto-log-entry-mismatch_fail': 'ATTESTATION_BINDING',
    'intoto-missing-inclusion-proof_fail': 'BUNDLE_MALFORMED',
    'intoto-set-outside-signing-cert-validity_fail': 'CERTIFICATE_VALIDITY',
    'intoto-tsa-timestamp-outside-cert-validity_fail': 'CERTIFICATE_VALIDITY',
    'invalid-checkpoint-signature_fail': 'TLOG_CHECKPOINT',
    'invalid-ct-key_fail': 'CERTIFICATE_SCT',
    'invalid-inclusion-proof_fail': 'BUNDLE_MALFORMED',
    'managed-key-no-key_fail': 'SIGNER_UNTRUSTED',
    'managed-key-wrong-key_fail': 'BAD_KEY',
    'message-digest-mismatch_fail': 'ATTESTATION_BINDING',
    'rekor2-checkpoint-missing-log-signature_fail': 'TLOG_CHECKPOINT',
    'rekor2-checkpoint-missing-origin_fail': 'TLOG_CHECKPOINT',
    'rekor2-checkpoint-missing-root-hash_fail': 'TLOG_CHECKPOINT',
    'rekor2-checkpoint-missing-size_fail': 'TLOG_CHECKPOINT',
    'rekor2-checkpoint-no-matching-signature_fail': 'TLOG_CHECKPOINT',
    'rekor2-dsse-invalid-sig_fail': 'ATTESTATION_BINDING',
    'rekor2-dsse-mismatch-envelope_fail': 'ATTESTATION_BINDING',
    'rekor2-dsse-mismatch-sig_fail': 'ATTESTATION_BINDING',
    'rekor2-no-inclusion-proof_fail': 'BUNDLE_MALFORMED',
    'rekor2-no-timestamp_fail': 'TIMESTAMP',
    'rekor2-timestamp-outside-trust-root-tsa-validity_fail': 'TIMESTAMP',
    'rekor2-timestamp-outside-tsa-cert-validity_fail': 'TIMESTAMP',
    'rekor2-timestamp-payload-mismatch_fail': 'TIMESTAMP',
    'rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail': 'TIMESTAMP',
    'rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail': 'TIMESTAMP',
    'rekor2-timestamp-with-incorrect-time_fail': 'CERTIFICATE_VALIDITY',
    'set-invalid-signature_fail': 'TLOG_SET',
    'signature-mismatch_fail': 'ATTESTATION_BINDING',
    'trust-root-tlog-missing-validity-start_fail': 'BAD_TRUST_ROOT', // rekor-gate's trust root rule
    'wrong-hashedrekord-artifact_fail': 'ATTESTATION_BINDING',
    'wrong-hashedrekord-cert-and-sig_fail': 'ATTESTATION_BINDING',
    'wrong-hashedrekord-entry_fail': 'ATTESTATION_BINDING',
    'wrong-material_fail': 'ATTESTATION_SIGNATURE',
  };

  const cases = readdirSync(conformanceDir(), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();

  function optional(dir: string, file: string): string | undefined {
    const p = path.join(dir, file);
    return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
  }

  /** Runs one case; returns 'verified' or the code that rejected it. */
  function run(name: string): string {
    const dir = path.join(conformanceDir(), name);
    let bundleJSON: unknown;
    try {
      bundleJSON = JSON.parse(readFileSync(path.join(dir, 'bundle.sigstore.json'), 'utf8'));
    } catch {
      return 'JSON';
    }
    const rootFile = path.join(dir, 'trusted_root.json');
    const artifactFile = existsSync(path.join(dir, 'artifact')) ? path.join(dir, 'artifact') : path.join(conformanceDir(), 'a.txt');
    const artifact = readFileSync(artifactFile);
    const keyText = optional(dir, 'key.pub');
    try {
      const trust = trustFromTrustedRoot(existsSync(rootFile) ? readJSON(rootFile) : trustedRootJSON('production'), `${name}/trusted_root.json`);
      const keys = keyText ? parseTrustedKeys(keyText, `${name}/key.pub`).map((k) => k.key) : undefined;
      const r = verifySigstoreBundle(bundleJSON, trust, { artifact, ...(keys ? { keys } : {}), where: name });
      if (r.signer.kind === 'certificate') {
        if (r.signer.san !== (optional(dir, 'identity')?.trim() ?? DEFAULT_IDENTITY)) return 'CERTIFICATE_IDENTITY';
        if (r.signer.issuer !== (optional(dir, 'issuer')?.trim() ?? DEFAULT_ISSUER)) return 'CERTIFICATE_ISSUER';
      }
      if (r.envelope) {
        const statement = JSON.parse(r.envelope.payload.toString('utf8')) as { subject: { digest: Record<string, string> }[] };
        const digest = createHash('sha256').update(artifact).digest('hex');
        if (!statement.subject.some((s) => s.digest.sha256 === digest)) return 'SUBJECT_MISMATCH';
      }
      return 'verified';
    } catch (err) {
      return (err as { code?: string }).code ?? String(err);
    }
  }

  describe('sigstore-conformance bundle-verify', () => {
    it('has the 70 cases, every failing one with its expected rejection', () => {
      expect(cases).toHaveLength(70);
      expect(cases.filter((c) => c.endsWith('_fail')).sort()).toEqual(Object.keys(REJECTED_WITH).sort());
    });

    it.each(cases)('%s', (name) => {
      expect(run(name)).toBe(REJECTED_WITH[name] ?? 'verified');
    });
  });
});
