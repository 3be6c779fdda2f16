/** Log-level checks on every real Rekor entry of the corpus (all kinds), with the production or staging root. */
import { describe, expect, it } from 'vitest';
import { decodeEntry } from '../../src/rekor/entry.ts';
import { verifyInLog } from '../../src/rekor/log-verify.ts';
import { corpusTrust, entryFiles, loadEntry } from './corpus.ts';
import { describeWithTestData } from '../fixtures/test-data.ts';

describeWithTestData(import.meta.url, 'the recorded Rekor entries and trust roots (corpus/entries, corpus/trust)', 'the recorded Rekor entries', () => {
  const STAGING_LOG_ID = 'd32f30a3c32d639c2b762205a21c7bb07788e68283a4ae6f42118723a1bea496';

  /** What the corpus README reports per entry: proof ✔ and ckpt ✔ columns. */
  const WITH_SIGNED_PROOF = new Set([
    'dsse-0.0.1__cosign-oci-attestation__1d35142cf4d1.json',
    'dsse-0.0.1__sigstore-java-bundle-dsse__ebc597c46905.json',
    'dsse-0.0.1__sigstore-js-bundleV02-dsse__89c3d014e9f1.json',
    'dsse-0.0.1__sigstore-rs-cosign-sign-v1__a7979bbae283.json',
    'dsse-0.0.1__slsa-verifier-bcr-module__015d37d0182d.json',
    'hashedrekord-0.0.1__conformance-happy-path-v0.3__aee3c920bb11.json',
    'hashedrekord-0.0.1__gitsign__71f37cf7fa41.json',
    'hashedrekord-0.0.1__sigstore-java-entry__ac3650aee1c1.json',
    'hashedrekord-0.0.1__sigstore-python-bundle_v3__6394742c34e7.json',
    'intoto-0.0.2__sigstore-js-bundleV02-intoto__dcf9c153efd9.json',
    'jar-0.0.1__sigstore-java-jar-entry__7ccec0af2bdf.json',
  ]);
  const UNSIGNED_PROOF = new Set(['rekord-0.0.1__rekor-release-verify-md__b6fdc91e6af5.json']);

  describe('corpus entries pass UUID, SET, inclusion proof, checkpoint and key validity', () => {
    it('covers all 18 entry files', () => {
      expect(entryFiles()).toHaveLength(18);
    });

    it.each(entryFiles())('%s', (file) => {
      const { uuid, raw } = loadEntry(file);
      const staging = raw.logID === STAGING_LOG_ID;
      const e = decodeEntry(uuid, raw);
      const r = verifyInLog(e, corpusTrust(staging ? 'staging' : 'production'));
      expect(r.set).toBe(true);
      expect(r.inclusionProof).toBe(WITH_SIGNED_PROOF.has(file) ? 'verified' : UNSIGNED_PROOF.has(file) ? 'unsigned-root' : 'absent');
      expect(r.evidence).toBe(WITH_SIGNED_PROOF.has(file) ? 'set+proof' : 'set-only');
      if (r.checkpoint) expect(r.checkpoint.origin).toMatch(staging ? /^rekor\.sigstage\.dev - \d+$/ : /^rekor\.sigstore\.dev - \d+$/);
      // The other instance's root does not trust the log.
      expect(() => verifyInLog(e, corpusTrust(staging ? 'production' : 'staging'))).toThrow(expect.objectContaining({ code: 'TLOG_UNTRUSTED_LOG' }));
    });
  });

  describe('the intoto 0.0.1 entry with attestation fails when a byte of it changes', () => {
    const FILE = 'intoto-0.0.1__slsa-verifier-container-v1.9.0__521e543bfd8d.with-attestation.json';
    const prod = corpusTrust('production');

    it('verifies as served', () => {
      const { uuid, raw } = loadEntry(FILE);
      expect(verifyInLog(decodeEntry(uuid, raw), prod)).toMatchObject({ logIndex: 32414261, evidence: 'set-only' });
    });

    it('a body byte: ENTRY_UUID_MISMATCH', () => {
      const { uuid, raw } = loadEntry(FILE);
      const body = Buffer.from(raw.body, 'base64');
      body.writeUInt8(body.readUInt8(100) ^ 0x01, 100);
      expect(() => decodeEntry(uuid, { ...raw, body: body.toString('base64') })).toThrow(expect.objectContaining({ code: 'ENTRY_UUID_MISMATCH' }));
    });

    it('a SET byte: TLOG_SET', () => {
      const { uuid, raw } = loadEntry(FILE);
      const set = Buffer.from(raw.verification?.signedEntryTimestamp as string, 'base64');
      set.writeUInt8(set.readUInt8(20) ^ 0x01, 20);
      const tampered = { ...raw, verification: { signedEntryTimestamp: set.toString('base64') } };
      expect(() => verifyInLog(decodeEntry(uuid, tampered), prod)).toThrow(expect.objectContaining({ code: 'TLOG_SET' }));
    });

    it('the log index or integrated time: TLOG_SET', () => {
      const { uuid, raw } = loadEntry(FILE);
      expect(() => verifyInLog(decodeEntry(uuid, { ...raw, logIndex: raw.logIndex + 1 }), prod)).toThrow(expect.objectContaining({ code: 'TLOG_SET' }));
      expect(() => verifyInLog(decodeEntry(uuid, { ...raw, integratedTime: raw.integratedTime - 1 }), prod)).toThrow(
        expect.objectContaining({ code: 'TLOG_SET' }),
      );
    });
  });
});
