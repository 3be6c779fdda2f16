import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { parseImageRef } from '../../src/registry/reference.ts';
import { pushBundleReferrer, pushReferrersTag } from '../fixtures/oci-content.ts';
import { corpusDir, describeWithTestData } from '../fixtures/test-data.ts';
import { needs } from '../fixtures/needs.ts';
import { REGISTRY_NEEDS, useRegistry } from '../fixtures/registry.ts';
import { runCli } from '../fixtures/world.ts';

describeWithTestData(import.meta.url, 'the Rekor v2 sigstore-conformance cases (corpus/conformance)', 'the CLI on recorded Rekor v2 bundles', () => {
  /**
   * Rekor v2 has no search: its entries are found only through the bundle kept beside the artifact.
   * Real Rekor v2 bundles (sigstore-conformance: hashedrekord 0.0.2 over DSSE, Ed25519 checkpoint, RFC 3161
   * timestamp) attached as referrers in a real registry, verified with --offline through the CLI.
   */
  const { describe: run } = needs('test/e2e/rekor-v2-referrer.test.ts', REGISTRY_NEEDS);

  const CASES = corpusDir('conformance', 'bundle-verify');
  const IDENTITY = 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
  const ISSUER = 'https://token.actions.githubusercontent.com';

  const oci = useRegistry();

  /** Attaches a conformance case's bundle as a referrer of its statement's subject; returns the subject digest. */
  async function attach(caseName: string, repoName: string): Promise<string> {
    const bundle = JSON.parse(readFileSync(path.join(CASES, caseName, 'bundle.sigstore.json'), 'utf8'));
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
    const digest = `sha256:${statement.subject[0].digest.sha256}`;
    const repo = parseImageRef(`${oci.reg.host}/${repoName}@${digest}`);
    const subject = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: 1 };
    const ref = await pushBundleReferrer(oci.client, repo, subject, bundle);
    await pushReferrersTag(oci.client, repo, digest, [ref.descriptor]);
    return digest;
  }

  const flags = (caseName: string, repoName: string, digest: string) => [
    'verify',
    '--image-digest', digest,
    '--image-url', `${oci.reg.host}/${repoName}@${digest}`,
    '--trusted-root', path.join(CASES, caseName, 'trusted_root.json'),
    '--certificate-identity', IDENTITY,
    '--certificate-oidc-issuer', ISSUER,
    '--offline',
    '--output', 'json',
  ];

  run('Rekor v2 bundles found as referrers', () => {
    it('verifies a hashedrekord-over-DSSE bundle from a Rekor v2 log', async () => {
      const digest = await attach('rekor2-dsse-happy-path', 'conformance/v2-ok');
      const r = await runCli(flags('rekor2-dsse-happy-path', 'conformance/v2-ok', digest));
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.accepted).toMatchObject({ sources: ['referrer-bundle'], kind: 'hashedrekord 0.0.2', signer: IDENTITY, predicateType: 'https://slsa.dev/provenance/v1' });
    });

    it('rejects a Rekor v2 bundle whose DSSE signature does not verify', async () => {
      const digest = await attach('rekor2-dsse-invalid-sig_fail', 'conformance/v2-bad');
      const r = await runCli(flags('rekor2-dsse-invalid-sig_fail', 'conformance/v2-bad', digest));
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout).candidates[0]).toMatchObject({ status: 'failed', check: 'log' });
    });

    it('rejects it for another identity', async () => {
      const digest = await attach('rekor2-dsse-happy-path', 'conformance/v2-other');
      const args = flags('rekor2-dsse-happy-path', 'conformance/v2-other', digest).map((a) => (a === IDENTITY ? 'https://github.com/acme/other/.github/workflows/x.yml@refs/heads/main' : a));
      const r = await runCli(args);
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout).candidates[0]).toMatchObject({ check: 'signer', code: 'CERTIFICATE_IDENTITY' });
    });

    it('rejects a Rekor v2 bundle whose log key was retired before the signing time (TLOG_KEY_VALIDITY)', async () => {
      const name = 'rekor2-dsse-happy-path';
      const digest = await attach(name, 'conformance/v2-retired');
      const root = JSON.parse(readFileSync(path.join(CASES, name, 'trusted_root.json'), 'utf8'));
      const bundle = JSON.parse(readFileSync(path.join(CASES, name, 'bundle.sigstore.json'), 'utf8'));
      const logId = bundle.verificationMaterial.tlogEntries[0].logId.keyId;
      const log = root.tlogs.find((t: { logId: { keyId: string } }) => t.logId.keyId === logId);
      log.publicKey.validFor = { start: '2020-01-01T00:00:00Z', end: '2021-01-01T00:00:00Z' };
      const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'rekor-gate-v2-')), 'trusted_root.json');
      writeFileSync(file, JSON.stringify(root));
      const args = flags(name, 'conformance/v2-retired', digest).map((a) => (a.endsWith('trusted_root.json') ? file : a));
      const r = await runCli(args);
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(JSON.parse(r.stdout).candidates[0]).toMatchObject({ status: 'failed', check: 'log', code: 'TLOG_KEY_VALIDITY' });
    });
  });
});
