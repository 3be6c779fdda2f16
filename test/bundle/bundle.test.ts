import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifySigstoreBundle } from '../../src/bundle/index.ts';
import { parseTrustedKeys } from '../../src/trust/public-keys.ts';
import { trustFromTrustedRoot, type Trust } from '../../src/trust/index.ts';
import { bundlesDir, conformanceDir, corpusTrust, readJSON, trustedRootJSON } from '../corpus/corpus.ts';
import { createTestCA, EKU_SERVER_AUTH, type LeafOptions } from '../fixtures/ca.ts';
import { dsseV001Entry, hashedrekordV001Entry, serializeEnvelope, startTestLog } from '../fixtures/rekor-log/index.ts';
import { generateSigner, signDsse } from '../fixtures/signers.ts';
import { imageSubject, slsaV1Statement } from '../fixtures/statements.ts';
import { buildTrustedRoot } from '../fixtures/trusted-root.ts';
import { dsseBundleV03, messageSignatureBundleV03 } from '../fixtures/bundle-json.ts';
import type { LogEntryAnon, LogEntryResponse } from '../../src/rekor/types.ts';
import { describeWithTestData } from '../fixtures/test-data.ts';

describeWithTestData(import.meta.url, 'the sigstore-conformance cases, recorded bundles and trust roots (corpus/)', 'verifySigstoreBundle on recorded bundles', () => {
  const prod = corpusTrust('production');
  const caseDir = (name: string): string => path.join(conformanceDir(), name);
  const caseBundle = (name: string): unknown => readJSON(path.join(caseDir(name), 'bundle.sigstore.json'));
  const caseTrust = (name: string): Trust => trustFromTrustedRoot(readJSON(path.join(caseDir(name), 'trusted_root.json')), name);
  const artifact = readFileSync(path.join(conformanceDir(), 'a.txt'));
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
      const bundle = readJSON(path.join(bundlesDir(), 'sigstore-js__bundleV03-dsse.json'));
      expect(() => verifySigstoreBundle(bundle, corpusTrust('staging'), { where: 'b.json' })).toThrow(
        expect.objectContaining({ code: 'TLOG_UNTRUSTED_LOG', message: expect.stringMatching(/^b\.json: tlog entry \(log index 27246114\) is from log c0d23d6a/) }),
      );
    });

    it('a v0.1 inclusion proof without checkpoint: TLOG_CHECKPOINT (not the TypeError of the library)', () => {
      const bundle = readJSON(path.join(bundlesDir(), 'sigstore-js__bundleV01-dsse-with-proof.json')) as {
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
      const bundle = readJSON(path.join(bundlesDir(), 'sigstore-js__bundleV03-dsse.json'));
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
});

/** A keyless v0.3 DSSE bundle of a dsse 0.0.1 entry in the test log, signed under a test-CA leaf with `usage`. */
async function keylessBundle(
  usage: Pick<LeafOptions, 'extKeyUsages' | 'keyUsages'>,
  o: { integratedTime?: (leaf: { notBefore: Date; notAfter: Date }) => number } = {},
): Promise<{ bundle: unknown; trust: Trust }> {
  const log = await startTestLog();
  try {
    const ca = await createTestCA();
    const signer = generateSigner();
    const leaf = await ca.issueLeaf({ publicKey: signer.publicKey, san: { uri: 'https://github.com/o/r/.github/workflows/b.yml@refs/heads/main' }, ...usage });
    const env = signDsse(signer, slsaV1Statement({ subjects: [imageSubject('r.test/a', `sha256:${'9a'.repeat(32)}`)], builderId: 'https://b.test' }));
    // Other entries around it, so that its inclusion proof has hashes.
    for (const n of [1, 2, 3]) log.addEntry({ apiVersion: '0.0.1', kind: 'rekord', spec: { n } });
    const { uuid } = log.add(dsseV001Entry({ envelope: serializeEnvelope(env), verifiers: [leaf.pem] }), {
      integratedTime: o.integratedTime?.(leaf) ?? Math.floor(leaf.notBefore.getTime() / 1000) + 30,
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

/**
 * The failure classes of the sigstore-conformance cases that rekor-gate relies on (test/corpus/conformance.test.ts
 * runs the real cases when GATE_TEST_DATA is set), each on a bundle of the test log: the case it stands for is named.
 */
describe('verifySigstoreBundle: the conformance failure classes on a test-log bundle', () => {
  type Bundle = {
    verificationMaterial: { tlogEntries: Record<string, any>[] };
    dsseEnvelope: { payload: string; signatures: { sig: string }[] };
  };
  let made: { bundle: unknown; trust: Trust };
  const fresh = (): Bundle => structuredClone(made.bundle) as Bundle;
  const flip = (b64: string, at = 10): string => {
    const b = Buffer.from(b64, 'base64');
    b.writeUInt8(b.readUInt8(at) ^ 1, at);
    return b.toString('base64');
  };
  beforeAll(async () => {
    made = await keylessBundle({});
  });

  it('(happy-path-intoto-in-dsse-v3) the bundle as made verifies', () => {
    expect(verifySigstoreBundle(fresh(), made.trust).signer.kind).toBe('certificate');
  });

  it.each<[string, string, (b: Bundle) => void]>([
    ['dsse-invalid-sig_fail, dsse-mismatch-sig_fail', 'ATTESTATION_BINDING', (b) => void (b.dsseEnvelope.signatures[0]!.sig = flip(b.dsseEnvelope.signatures[0]!.sig))],
    ['dsse-mismatch-envelope_fail', 'ATTESTATION_BINDING', (b) => void (b.dsseEnvelope.payload = Buffer.from('{"_type":"other"}').toString('base64'))],
    ['set-invalid-signature_fail', 'TLOG_SET', (b) => void (b.verificationMaterial.tlogEntries[0]!['inclusionPromise'].signedEntryTimestamp = flip(b.verificationMaterial.tlogEntries[0]!['inclusionPromise'].signedEntryTimestamp))],
    ['inclusion-proof-corrupted-hash_fail', 'TLOG_INCLUSION_PROOF', (b) => {
      const p = b.verificationMaterial.tlogEntries[0]!['inclusionProof'];
      p.hashes[0] = flip(p.hashes[0], 0);
    }],
    ['invalid-checkpoint-signature_fail', 'TLOG_CHECKPOINT', (b) => {
      const p = b.verificationMaterial.tlogEntries[0]!['inclusionProof'];
      const lines = (p.checkpoint.envelope as string).split('\n');
      const sig = lines.findIndex((l) => l.startsWith('\u2014 '));
      const parts = lines[sig]!.split(' ');
      parts[2] = flip(parts[2]!, 8);
      lines[sig] = parts.join(' ');
      p.checkpoint.envelope = lines.join('\n');
    }],
    ['bundle-negative-log-index_fail', 'BUNDLE_MALFORMED', (b) => void (b.verificationMaterial.tlogEntries[0]!['logIndex'] = '-1')],
    ['bundle-unknown-version_fail', 'BUNDLE_MALFORMED', (b) => void ((b as unknown as { mediaType: string }).mediaType = 'application/vnd.dev.sigstore.bundle.v0.9+json')],
    ['intoto-missing-inclusion-proof_fail', 'BUNDLE_MALFORMED', (b) => void delete b.verificationMaterial.tlogEntries[0]!['inclusionProof']],
  ])('(%s) %s', (_, code, mutate) => {
    const b = fresh();
    mutate(b);
    expect(() => verifySigstoreBundle(b, made.trust)).toThrow(expect.objectContaining({ code }));
  });

  it('(bundle-from-wrong-instance_fail) a trust that does not name the log: TLOG_UNTRUSTED_LOG', () => {
    const other = trustFromTrustedRoot(buildTrustedRoot({ logs: { origin: 'other.log', publicKeyPem: generateSigner().publicKeyPem } }), 'other root');
    expect(() => verifySigstoreBundle(fresh(), { ...other, material: { ...made.trust.material, tlogs: other.material.tlogs } })).toThrow(
      expect.objectContaining({ code: 'TLOG_UNTRUSTED_LOG' }),
    );
  });

  it('(invalid-ct-key_fail) a trust without the CT log that signed the SCT: CERTIFICATE_SCT', () => {
    expect(() => verifySigstoreBundle(fresh(), { ...made.trust, material: { ...made.trust.material, ctlogs: [] } })).toThrow(
      expect.objectContaining({ code: 'CERTIFICATE_SCT' }),
    );
  });

  it('(integrated-time-in-future_fail, intoto-set-outside-signing-cert-validity_fail) logged after the certificate expired: CERTIFICATE_VALIDITY', async () => {
    const late = await keylessBundle({}, { integratedTime: (leaf) => Math.floor(leaf.notAfter.getTime() / 1000) + 60 });
    expect(() => verifySigstoreBundle(late.bundle, late.trust)).toThrow(expect.objectContaining({ code: 'CERTIFICATE_VALIDITY' }));
  });

  it.each([
    ['not an object', 'bundle'],
    ['no content', { mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', verificationMaterial: { publicKey: { hint: 'x' }, tlogEntries: [] } }],
  ])('%s: BUNDLE_MALFORMED', (_, json) => {
    expect(() => verifySigstoreBundle(json, made.trust)).toThrow(expect.objectContaining({ code: 'BUNDLE_MALFORMED' }));
  });
});

/** The managed-key and artifact cases of the conformance suite, on a message-signature bundle of the test log. */
describe('verifySigstoreBundle: a managed-key hashedrekord bundle of the test log', () => {
  const artifact = Buffer.from('an artifact\n');
  const digest = createHash('sha256').update(artifact).digest();
  const key = generateSigner();
  const otherKey = () => generateSigner().publicKey;
  // ECDSA signatures are randomized: the one the entry records is kept for the bundle.
  const signature = key.sign(artifact);
  let trust: Trust;
  let logged: LogEntryAnon;
  const bundle = (o: { signature?: Buffer; sha256?: Buffer } = {}) =>
    messageSignatureBundleV03(logged, { signature: o.signature ?? signature, sha256: o.sha256 ?? digest, keyHint: 'k' });

  beforeAll(async () => {
    const log = await startTestLog();
    for (const n of [1, 2]) log.addEntry({ apiVersion: '0.0.1', kind: 'rekord', spec: { n } });
    const { uuid } = log.add(hashedrekordV001Entry({ digest: { algorithm: 'sha256', hex: digest.toString('hex') }, signature, publicKey: key.publicKeyPem }));
    logged = Object.values(log.logEntry(uuid) as LogEntryResponse)[0] as LogEntryAnon;
    trust = trustFromTrustedRoot(buildTrustedRoot({ logs: log }), 'test root');
    await log.close();
  });

  it('(managed-key-happy-path) verifies with the key among the trusted ones; the signer is the key', () => {
    const r = verifySigstoreBundle(bundle(), trust, { artifact, keys: [otherKey(), key.publicKey] });
    expect(r.signer.kind).toBe('key');
    expect(r.tlogEntries).toEqual([expect.objectContaining({ kind: 'hashedrekord', version: '0.0.1', set: true })]);
  });

  it.each<[string, string, () => unknown, Parameters<typeof verifySigstoreBundle>[2]]>([
    ['managed-key-wrong-key_fail', 'ATTESTATION_SIGNATURE', () => bundle(), { artifact, keys: [otherKey()] }],
    ['managed-key-no-key_fail', 'SIGNER_UNTRUSTED', () => bundle(), { artifact }],
    ['wrong-material_fail', 'ATTESTATION_SIGNATURE', () => bundle(), { artifact: Buffer.from('another artifact\n'), keys: [key.publicKey] }],
    ['message-digest-mismatch_fail', 'ATTESTATION_BINDING', () => bundle({ sha256: Buffer.alloc(32, 1) }), { artifact, keys: [key.publicKey] }],
    ['signature-mismatch_fail', 'ATTESTATION_BINDING', () => bundle({ signature: key.sign(Buffer.from('other')) }), { artifact, keys: [key.publicKey] }],
    ['bundle-invalid-base64-signature_fail', 'BUNDLE_MALFORMED', () => {
      const b = bundle() as { messageSignature: { signature: string } };
      b.messageSignature.signature = '%%%not base64';
      return b;
    }, { artifact, keys: [key.publicKey] }],
  ])('(%s) %s', (_, code, make, opts) => {
    expect(() => verifySigstoreBundle(make(), trust, opts)).toThrow(expect.objectContaining({ code }));
  });

  it('(a message signature without the artifact) USAGE', () => {
    expect(() => verifySigstoreBundle(bundle(), trust, { keys: [key.publicKey] })).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });
});
