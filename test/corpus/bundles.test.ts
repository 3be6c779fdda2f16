/** The real Sigstore bundles of the corpus: the valid ones verify, the broken ones fail for the README's reason. */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifySigstoreBundle } from '../../src/bundle/index.ts';
import { bundlesDir, corpusTrust, readJSON } from './corpus.ts';
import { describeWithTestData } from '../fixtures/test-data.ts';

describeWithTestData(import.meta.url, 'the recorded Sigstore bundles and trust roots (corpus/bundles, corpus/trust)', 'the recorded Sigstore bundles', () => {
  const GITHUB = 'https://token.actions.githubusercontent.com';
  const GITHUB_OAUTH = 'https://github.com/login/oauth';

  /** Valid bundles: the signer identity and issuer @sigstore/verify reports (README "bundles/ results"). */
  const VERIFIES: Record<string, [string, string]> = {
    'cosign__oci-attestation.v0.3.dsse.container.json': ['cody@soyland.com', GITHUB_OAUTH],
    'sigstore-go__dsse.v0.1.intoto.json': ['brian@dehamer.com', GITHUB_OAUTH],
    'sigstore-java__bundle.dsse.v0.3.json': ['https://github.com/loosebazooka/aa-test/.github/workflows/provenance.yaml@refs/heads/main', GITHUB],
    'sigstore-js__bundleV01-dsse-with-proof.json': ['brian@dehamer.com', GITHUB_OAUTH],
    // Policy-dependent per the README (its chain includes the root): verified, the spec lets verifiers ignore it.
    'sigstore-js__bundleV01-full-cert-chain.json': ['brian@dehamer.com', GITHUB_OAUTH],
    'sigstore-js__bundleV01-intoto-with-proof.json': ['brian@dehamer.com', GITHUB_OAUTH],
    'sigstore-js__bundleV02-dsse.json': ['brian@dehamer.com', GITHUB_OAUTH],
    'sigstore-js__bundleV02-intoto.json': ['brian@dehamer.com', GITHUB_OAUTH],
    'sigstore-js__bundleV03-dsse.json': ['brian@dehamer.com', GITHUB_OAUTH],
    'sigstore-js__bundleV03-intoto.json': ['brian@dehamer.com', GITHUB_OAUTH],
    'sigstore-rs__cosign-sign-v1.v0.3.dsse.container.json': [
      'https://github.com/kubewarden/kubewarden-controller/.github/workflows/release.yml@refs/tags/v1.34.0',
      GITHUB,
    ],
    'slsa-verifier__bcr-MODULE.bazel.v0.3.dsse.json': [
      'https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@refs/tags/v0.0.1',
      GITHUB,
    ],
    'slsa-verifier__valid-v0.3.dsse.json': [
      'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/heads/main',
      GITHUB,
    ],
    'slsa-verifier__valid.v0.1.intoto.json': [
      'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_docker-based_slsa3.yml@refs/heads/main',
      GITHUB,
    ],
  };

  /** Broken bundles: the code they are rejected with, and the README's reason. */
  const REJECTED: Record<string, [string, RegExp]> = {
    'sigstore-go__dsse-2sigs.v0.1.intoto.json': ['BUNDLE_MALFORMED', /dsseEnvelope\.signatures/], // 2 DSSE signatures
    'sigstore-java__bundle.dsse.bad-signature.v0.3.json': ['ATTESTATION_BINDING', /signature mismatch/], // DSSE signature invalid
    'sigstore-java__bundle.dsse.mismatched-envelope.v0.3.json': ['ATTESTATION_BINDING', /signature mismatch/], // envelope != logged
    'slsa-verifier__invalid-set.v0.1.intoto.json': ['TLOG_SET', /inclusion promise/], // SET does not verify
    // The entry is of another signing event: the bundle's certificate is not valid at its integrated time.
    'slsa-verifier__mismatch-tlog.v0.1.intoto.json': ['CERTIFICATE_VALIDITY', /not valid or expired/],
  };

  const files = readdirSync(bundlesDir()).filter((f) => f.endsWith('.json')).sort();
  const prod = corpusTrust('production');

  describe('corpus bundles', () => {
    it('covers every bundle file', () => {
      expect(files).toEqual([...Object.keys(VERIFIES), ...Object.keys(REJECTED)].sort());
    });

    it.each(Object.entries(VERIFIES))('%s verifies', (file, [san, issuer]) => {
      const r = verifySigstoreBundle(readJSON(path.join(bundlesDir(), file)), prod, { where: file });
      expect(r.signer).toMatchObject({ kind: 'certificate', san, issuer });
      expect(r.envelope?.payloadType).toBe('application/vnd.in-toto+json');
      expect(r.tlogEntries).toHaveLength(1);
      expect(r.tlogEntries[0]).toMatchObject({ logID: 'c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d', set: true });
      expect(r.signedAt.length).toBeGreaterThan(0);
    });

    it.each(Object.entries(REJECTED))('%s is rejected', (file, [code, reason]) => {
      expect(() => verifySigstoreBundle(readJSON(path.join(bundlesDir(), file)), prod, { where: file })).toThrow(
        expect.objectContaining({ code, message: expect.stringMatching(reason) }),
      );
    });
  });
});
