import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifySigstoreBundle } from '../../src/bundle/index.ts';
import { parseTrustedKeys } from '../../src/trust/public-keys.ts';
import { trustFromTrustedRoot, type Trust } from '../../src/trust/index.ts';
import { bundlesDir, conformanceDir, corpusTrust, readJSON, trustedRootJSON } from '../corpus/corpus.ts';
import { createTestCA, EKU_SERVER_AUTH, type LeafOptions } from '../fixtures/ca.ts';
import { dsseV001Entry, serializeEnvelope, startTestLog } from '../fixtures/rekor-log/index.ts';
import { generateSigner, signDsse } from '../fixtures/signers.ts';
import { imageSubject, slsaV1Statement } from '../fixtures/statements.ts';
import { buildTrustedRoot } from '../fixtures/trusted-root.ts';
import { dsseBundleV03 } from '../fixtures/bundle-json.ts';
import type { LogEntryAnon, LogEntryResponse } from '../../src/rekor/types.ts';

const prod = corpusTrust('production');
const caseDir = (name: string): string => path.join(conformanceDir, name);
const caseBundle = (name: string): unknown => readJSON(path.join(caseDir(name), 'bundle.sigstore.json'));
const caseTrust = (name: string): Trust => trustFromTrustedRoot(readJSON(path.join(caseDir(name), 'trusted_root.json')), name);
const artifact = readFileSync(path.join(conformanceDir, 'a.txt'));
const otherKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey;

describe('verifySigstoreBundle', () => {
  it('a managed-key bundle: every trusted key is tried; the signer is the key', () => {
    const [key] = parseTrustedKeys(readFileSync(path.join(caseDir('managed-key-happy-path'), 'key.pub'), 'utf8'), 'key.pub');
    const r = verifySigstoreBundle(caseBundle('managed-key-happy-path'), prod, { artifact, keys: [otherKey, key!.key] });
    expect(r.signer.kind).toBe('key');
    expect(r.signer.key.equals(key!.key)).toBe(true);
    expect(r.envelope).toBeUndefined();
  });

  it('a managed-key bundle with a key that did not sign it: ATTESTATION_SIGNATURE', () => {
    expect(() => verifySigstoreBundle(caseBundle('managed-key-happy-path'), prod, { artifact, keys: [otherKey] })).toThrow(
      expect.objectContaining({ code: 'ATTESTATION_SIGNATURE' }),
    );
  });

  it('a message-signature bundle without the artifact: USAGE', () => {
    expect(() => verifySigstoreBundle(caseBundle('happy-path-v0.3'), prod)).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });

  it('a bundle from a log the trust does not name: TLOG_UNTRUSTED_LOG', () => {
    const bundle = readJSON(path.join(bundlesDir, 'sigstore-js__bundleV03-dsse.json'));
    expect(() => verifySigstoreBundle(bundle, corpusTrust('staging'), { where: 'b.json' })).toThrow(
      expect.objectContaining({ code: 'TLOG_UNTRUSTED_LOG', message: expect.stringMatching(/^b\.json: tlog entry \(log index 27246114\) is from log c0d23d6a/) }),
    );
  });

  it('a v0.1 inclusion proof without checkpoint: TLOG_CHECKPOINT (not the TypeError of the library)', () => {
    const bundle = readJSON(path.join(bundlesDir, 'sigstore-js__bundleV01-dsse-with-proof.json')) as {
      verificationMaterial: { tlogEntries: { inclusionProof: { checkpoint?: unknown } }[] };
    };
    delete bundle.verificationMaterial.tlogEntries[0]!.inclusionProof.checkpoint;
    expect(() => verifySigstoreBundle(bundle, prod)).toThrow(expect.objectContaining({ code: 'TLOG_CHECKPOINT' }));
  });

  it('a Rekor v2 bundle: hashedrekord 0.0.2, no integrated time, signed at the RFC 3161 time', () => {
    const r = verifySigstoreBundle(caseBundle('rekor2-dsse-happy-path'), caseTrust('rekor2-dsse-happy-path'));
    expect(r.tlogEntries).toEqual([expect.objectContaining({ kind: 'hashedrekord', version: '0.0.2', set: false, inclusionProof: true })]);
    expect(r.tlogEntries[0]?.integratedTime).toBeUndefined();
    expect(r.signedAt).toHaveLength(1);
    expect(r.signer).toMatchObject({ kind: 'certificate', issuer: 'https://token.actions.githubusercontent.com' });
    expect(r.envelope?.payloadType).toBe('application/vnd.in-toto+json');
  });

  // A retired (say compromised) Rekor v2 log key must not prove inclusion: it must be valid at the verified
  // signing time (the RFC 3161 time), as a v1 log key must be at the integrated time.
  it.each([
    ['ended in 2021', { start: '2020-01-01T00:00:00Z', end: '2021-01-01T00:00:00Z' }],
    ['starts in 2099', { start: '2099-01-01T00:00:00Z' }],
  ])('a Rekor v2 bundle whose log key validity %s: TLOG_KEY_VALIDITY', (_, validFor) => {
    const name = 'rekor2-dsse-happy-path';
    const root = readJSON(path.join(caseDir(name), 'trusted_root.json')) as {
      tlogs: { logId: { keyId: string }; publicKey: { validFor: unknown } }[];
    };
    const bundle = caseBundle(name) as { verificationMaterial: { tlogEntries: { logId: { keyId: string } }[] } };
    const logId = bundle.verificationMaterial.tlogEntries[0]!.logId.keyId;
    const log = root.tlogs.find((t) => t.logId.keyId === logId)!;
    log.publicKey.validFor = validFor;
    const trust = trustFromTrustedRoot(root, 'retired v2 key');
    expect(() => verifySigstoreBundle(bundle, trust, { where: 'b.json' })).toThrow(
      expect.objectContaining({
        code: 'TLOG_KEY_VALIDITY',
        message: expect.stringMatching(/^b\.json: tlog entry \(log index \d+\): the key of log d3d3a70c.* is trusted .* not at the signing time 2026-05-13T19:23:33.000Z$/),
      }),
    );
  });

  it('an SCT from a CT log the trust does not list: CERTIFICATE_SCT', () => {
    const bundle = readJSON(path.join(bundlesDir, 'sigstore-js__bundleV03-dsse.json'));
    const root = trustedRootJSON('production');
    for (const ctlogs of [[], (trustedRootJSON('staging') as { ctlogs: unknown[] }).ctlogs]) {
      const trust = trustFromTrustedRoot({ ...root, ctlogs }, 'other CT logs');
      expect(() => verifySigstoreBundle(bundle, trust)).toThrow(expect.objectContaining({ code: 'CERTIFICATE_SCT' }));
    }
  });

  it.each([
    ['not an object', 'bundle'],
    ['no content', { mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', verificationMaterial: { publicKey: { hint: 'x' }, tlogEntries: [] } }],
  ])('%s: BUNDLE_MALFORMED', (_, json) => {
    expect(() => verifySigstoreBundle(json, prod)).toThrow(expect.objectContaining({ code: 'BUNDLE_MALFORMED' }));
  });
});

/** A keyless v0.3 DSSE bundle of a dsse 0.0.1 entry in the test log, signed under a test-CA leaf with `usage`. */
async function keylessBundle(usage: Pick<LeafOptions, 'extKeyUsages' | 'keyUsages'>): Promise<{ bundle: unknown; trust: Trust }> {
  const log = await startTestLog();
  try {
    const ca = await createTestCA();
    const signer = generateSigner();
    const leaf = await ca.issueLeaf({ publicKey: signer.publicKey, san: { uri: 'https://github.com/o/r/.github/workflows/b.yml@refs/heads/main' }, ...usage });
    const env = signDsse(signer, slsaV1Statement({ subjects: [imageSubject('r.test/a', `sha256:${'9a'.repeat(32)}`)], builderId: 'https://b.test' }));
    const { uuid } = log.add(dsseV001Entry({ envelope: serializeEnvelope(env), verifiers: [leaf.pem] }), {
      integratedTime: Math.floor(leaf.notBefore.getTime() / 1000) + 30,
    });
    const e = Object.values(log.logEntry(uuid) as LogEntryResponse)[0] as LogEntryAnon;
    const bundle = dsseBundleV03(e, leaf.der, env, { rfc3161: true });
    return { bundle, trust: trustFromTrustedRoot(buildTrustedRoot({ logs: log, cas: ca }), 'test root') };
  } finally {
    await log.close();
  }
}

describe('verifySigstoreBundle: the leaf certificate must be for code signing', () => {
  it('a Fulcio-like leaf (codeSigning, digitalSignature) passes', async () => {
    const { bundle, trust } = await keylessBundle({});
    expect(verifySigstoreBundle(bundle, trust).signer.kind).toBe('certificate');
  });

  it.each([
    ['only serverAuth', { extKeyUsages: [EKU_SERVER_AUTH] }],
    ['keyEncipherment only', { keyUsages: 4 }],
  ])('a leaf with %s: CERTIFICATE_USAGE', async (_, usage) => {
    const { bundle, trust } = await keylessBundle(usage);
    expect(() => verifySigstoreBundle(bundle, trust, { where: 'b.json' })).toThrow(
      expect.objectContaining({ code: 'CERTIFICATE_USAGE', message: expect.stringMatching(/^b\.json: the certificate/) }),
    );
  });
});
