import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { generateSigner } from '../fixtures/signers.ts';
import { parseImageRef } from '../../src/registry/reference.ts';
import { checkCandidate } from '../../src/verify/check-candidate.ts';
import { parseImageDigest } from '../../src/digest.ts';
import { trustFromTrustedRoot } from '../../src/trust/index.ts';
import { policyFromFlags } from '../../src/cli/inputs.ts';
import { pushAtt, pushBundleReferrer, pushImage, pushReferrersTag } from '../fixtures/oci-content.ts';
import { needs } from '../fixtures/needs.ts';
import { REGISTRY_NEEDS, useRegistry } from '../fixtures/registry.ts';
import { cosignBundleAnnotation, keylessSigner, logDsseV001, logIntotoV001, provenance, randomDigest, runCli, startWorld, worldFlags, IDENTITY, ISSUER, type World } from '../fixtures/world.ts';

let w: World;
beforeAll(async () => {
  w = await startWorld();
});
afterAll(async () => {
  await w.close();
});

describe('the integrated time must be signed', () => {
  it('an entry with a proof and checkpoint but no SET fails: nothing signed vouches for its time', () => {
    const d = randomDigest();
    const a = logIntotoV001(w, provenance(d.value));
    const entry = structuredClone(w.log.logEntry(a.uuid)![a.uuid]!);
    delete entry.verification!.signedEntryTimestamp;
    const trust = trustFromTrustedRoot(JSON.parse(readFileSync(w.trustedRootPath, 'utf8')), 'test');
    const policy = policyFromFlags({ key: [w.keyPath] });
    const out = checkCandidate({ kind: 'entry', uuid: a.uuid, entry, sources: ['rekor-search'] }, { digest: parseImageDigest(d.value), trust, policy, now: Math.floor(Date.now() / 1000) });
    expect(out).toMatchObject({ status: 'failed', check: 'log', code: 'TLOG_SET' });
    expect(out.reason).toContain('integrated time');
  });
});

describe('a registry copy judges a candidate only once bound as the attestation step binds it', () => {
  const judge = (uuid: string, digest: string, envelope?: { bytes: Buffer; exact: boolean; location: string }) => {
    const entry = w.log.logEntry(uuid)![uuid]!;
    const trust = trustFromTrustedRoot(JSON.parse(readFileSync(w.trustedRootPath, 'utf8')), 'test');
    const policy = policyFromFlags({ key: [w.keyPath] });
    return checkCandidate(
      { kind: 'entry', uuid, entry, sources: ['rekor-search', 'referrer-bundle'], ...(envelope ? { envelope } : {}) },
      { digest: parseImageDigest(digest), trust, policy, now: Math.floor(Date.now() / 1000) },
    );
  };

  it("an intoto 0.0.1 copy from a bundle referrer with another payloadType (unbound: no signature over it) does not veto the log's copy", () => {
    const d = randomDigest();
    const logged = logIntotoV001(w, provenance(d.value));
    const forged = Buffer.from(JSON.stringify({ ...logged.envelope, payloadType: 'text/plain' }));
    const out = judge(logged.uuid, d.value, { bytes: forged, exact: false, location: 'registry.test/app@sha256:x (referrer)' });
    expect(out, out.reason).toMatchObject({ status: 'passed', attestationFrom: 'log' });
  });

  it('the bound copy still rejects: a statement of another image, read from the registry\'s exact copy', () => {
    const d = randomDigest();
    const logged = logIntotoV001(w, provenance(randomDigest().value));
    const out = judge(logged.uuid, d.value, { bytes: Buffer.from(logged.envelopeText), exact: true, location: 'registry.test/app:sha256-x.att' });
    expect(out).toMatchObject({ status: 'failed', check: 'statement', code: 'SUBJECT_MISMATCH' });
  });
});

describe('what the log alone can prove: an intoto 0.0.1 payload from the log\'s storage', () => {
  const judge = (uuid: string, digest: string, envelope?: { bytes: Buffer; exact: boolean; location: string }, flags: { requireEnvelope?: boolean } = {}) => {
    const entry = w.log.logEntry(uuid)![uuid]!;
    const trust = trustFromTrustedRoot(JSON.parse(readFileSync(w.trustedRootPath, 'utf8')), 'test');
    const policy = policyFromFlags({ key: [w.keyPath], ...flags });
    return checkCandidate(
      { kind: 'entry', uuid, entry, sources: ['rekor-search', 'att-tag'], ...(envelope ? { envelope } : {}) },
      { digest: parseImageDigest(digest), trust, policy, now: Math.floor(Date.now() / 1000) },
    );
  };

  it('the report says the signature was vouched for by the log (REPORT, text, json); --require-envelope refuses it', async () => {
    const d = randomDigest();
    logIntotoV001(w, provenance(d.value));
    const results = path.join(w.dir, 'results-vouched');
    const json = await runCli([...worldFlags(w, d.value), '--key', w.keyPath, '--output', 'json', '--results-dir', results]);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout).accepted).toMatchObject({ attestationFrom: 'log', signatureCheckedBy: 'log' });
    expect(JSON.parse(readFileSync(path.join(results, 'REPORT'), 'utf8')).accepted).toMatchObject({ from: 'log', sig: 'log' });
    const text = await runCli([...worldFlags(w, d.value), '--key', w.keyPath]);
    expect(text.stdout).toContain('signature: vouched for by the log');
    const refused = await runCli([...worldFlags(w, d.value), '--key', w.keyPath, '--require-envelope', '--output', 'json']);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout).candidates[0]).toMatchObject({ check: 'attestation', code: 'ATTESTATION_MISSING' });
    expect(JSON.parse(refused.stdout).candidates[0].reason).toContain('vouched for by the log');
  });

  it('an entry the log vouches for with a signature that does not verify: accepted on the log\'s word alone, refused once the envelope is read', () => {
    const d = randomDigest();
    // The log records the trusted key as the signer of an envelope another key signed (what a holder of the log's key could mint).
    const minted = logIntotoV001(w, provenance(d.value), { signer: generateSigner(), certificatePem: w.signer.publicKeyPem });
    expect(judge(minted.uuid, d.value)).toMatchObject({ status: 'passed', signatureCheckedBy: 'log' });
    expect(judge(minted.uuid, d.value, undefined, { requireEnvelope: true })).toMatchObject({ status: 'failed', code: 'ATTESTATION_MISSING' });
    const exact = { bytes: Buffer.from(minted.envelopeText), exact: true, location: 'registry.test/app:sha256-x.att' };
    expect(judge(minted.uuid, d.value, exact)).toMatchObject({ status: 'failed', check: 'attestation', code: 'ATTESTATION_SIGNATURE' });
  });

  it('an envelope read from the registry is checked by the gate (signatureCheckedBy: gate), and satisfies --require-envelope', () => {
    const d = randomDigest();
    const logged = logIntotoV001(w, provenance(d.value));
    const exact = { bytes: Buffer.from(logged.envelopeText), exact: true, location: 'registry.test/app:sha256-x.att' };
    expect(judge(logged.uuid, d.value, exact, { requireEnvelope: true })).toMatchObject({ status: 'passed', attestationFrom: 'registry', signatureCheckedBy: 'gate' });
  });
});

describe('lookups name exactly one entry', () => {
  it('--entry-url .../entries/<uuid>: another entry in its place fails', async () => {
    const d = randomDigest();
    const a = logIntotoV001(w, provenance(d.value));
    const b = logIntotoV001(w, provenance(d.value, { builderId: 'https://example.com/other' }));
    w.log.faults.wrongEntry.set(a.uuid, b.uuid);
    try {
      const r = await runCli([...worldFlags(w, d.value), '--key', w.keyPath, '--entry-url', `${w.log.url}/api/v1/log/entries/${a.uuid}`, '--output', 'json']);
      expect(r.code, r.stdout).toBe(1);
    } finally {
      w.log.faults.wrongEntry.delete(a.uuid);
    }
  });

  it('a log index the log does not have is "not verified" (exit 1), not "unreachable"', async () => {
    const r = await runCli([...worldFlags(w, randomDigest().value), '--key', w.keyPath, '--log-index', '99999999', '--output', 'json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).candidates[0]).toMatchObject({ check: 'log', code: 'TLOG_ENTRY_NOT_FOUND' });
  });
});

describe('log URLs', () => {
  it('refuse credentials (they would reach messages and results) and plain http to a non-loopback host', async () => {
    const d = randomDigest().value;
    const creds = await runCli(['verify', '--image-digest', d, '--key', w.keyPath, '--rekor-url', 'https://user:S3cret@rekor.example']);
    expect(creds.code).toBe(2);
    expect(creds.stderr).not.toContain('S3cret');
    const plain = await runCli(['verify', '--image-digest', d, '--key', w.keyPath, '--rekor-url', 'http://rekor.example']);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain('must be https');
  });
});

describe('the environment', () => {
  it('a REKOR_GATE_* variable of another command is ignored with a note, not a usage error', async () => {
    const d = randomDigest();
    logIntotoV001(w, provenance(d.value));
    const r = await runCli([...worldFlags(w, d.value), '--key', w.keyPath], { env: { REKOR_GATE_UUID: 'x' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('REKOR_GATE_UUID is not a flag of "verify"; ignored');
  });
});

const { describe: withRegistry } = needs('test/e2e/review-fixes.test.ts (--image-url with a lookup)', REGISTRY_NEEDS);
withRegistry('--image-url with a lookup', () => {
  const oci = useRegistry();

  it('--log-index of a dsse entry takes its envelope from the registry', async () => {
    const repo = parseImageRef(`${oci.reg.host}/acme/lookup:latest`);
    const image = await pushImage(oci.client, repo, 'latest', 'lookup');
    const k = await keylessSigner(w);
    const logged = logDsseV001(w, provenance(image.digest), { signer: k.signer, certificatePem: k.certificatePem });
    const other = logDsseV001(w, provenance(image.digest), { signer: k.signer, certificatePem: k.certificatePem });
    const annotation = cosignBundleAnnotation(w, logged.uuid);
    await pushAtt(oci.client, repo, image.digest, [Buffer.from(logged.envelopeText)], { 'dev.sigstore.cosign/bundle': annotation });
    const args = [...worldFlags(w, image.digest), '--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER, '--image-url', `${oci.reg.host}/acme/lookup:latest`];
    const ok = await runCli([...args, '--log-index', String(logged.logIndex), '--output', 'json']);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).accepted.sources.sort()).toEqual(['att-tag', 'log-index']);
    // the other entry's envelope is not in the registry: the lookup of it cannot borrow this one
    const missing = await runCli([...args, '--log-index', String(other.logIndex), '--output', 'json']);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout).candidates).toHaveLength(1);
  });

  it('an .att layer without a log pointer joins the searched entry whose body records its hash', async () => {
    const repo = parseImageRef(`${oci.reg.host}/acme/loose:latest`);
    const image = await pushImage(oci.client, repo, 'latest', 'loose');
    const k = await keylessSigner(w);
    const logged = logDsseV001(w, provenance(image.digest), { signer: k.signer, certificatePem: k.certificatePem });
    await pushAtt(oci.client, repo, image.digest, [Buffer.from(logged.envelopeText)], { predicateType: 'https://slsa.dev/provenance/v0.2' });
    const args = [...worldFlags(w, image.digest), '--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER, '--image-url', `${oci.reg.host}/acme/loose:latest`];
    const r = await runCli([...args, '--output', 'json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.accepted).toMatchObject({ uuid: logged.uuid, attestationFrom: 'registry' });
    expect(out.accepted.sources.sort()).toEqual(['att-tag', 'rekor-search']);
    expect(out.candidates).toHaveLength(1);
  });

  it('a malformed referrer bundle fails its own candidate, and the others are still judged', async () => {
    const repo = parseImageRef(`${oci.reg.host}/acme/badref:latest`);
    const image = await pushImage(oci.client, repo, 'latest', 'badref');
    const k = await keylessSigner(w);
    const logged = logDsseV001(w, provenance(image.digest), { signer: k.signer, certificatePem: k.certificatePem });
    const annotation = cosignBundleAnnotation(w, logged.uuid);
    await pushAtt(oci.client, repo, image.digest, [Buffer.from(logged.envelopeText)], { 'dev.sigstore.cosign/bundle': annotation });
    const subject = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: image.digest, size: image.bytes.length };
    const bad = await pushBundleReferrer(oci.client, repo, subject, { mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', junk: true });
    await pushReferrersTag(oci.client, repo, image.digest, [bad.descriptor]);
    const args = [...worldFlags(w, image.digest), '--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER, '--image-url', `${oci.reg.host}/acme/badref:latest`];
    const r = await runCli([...args, '--output', 'json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.accepted.uuid).toBe(logged.uuid);
    expect(out.candidates.find((c: { sources: string[] }) => c.sources.includes('referrer-bundle'))).toMatchObject({ status: 'failed', check: 'log' });
  });

  it('an intoto 0.0.1 entry minted with the log\'s word: passes on the log alone (reported so), fails once --image-url gives its envelope', async () => {
    const repo = parseImageRef(`${oci.reg.host}/acme/minted:latest`);
    const image = await pushImage(oci.client, repo, 'latest', 'minted');
    const minted = logIntotoV001(w, provenance(image.digest), { signer: generateSigner(), certificatePem: w.signer.publicKeyPem });
    await pushAtt(oci.client, repo, image.digest, [Buffer.from(minted.envelopeText)], { 'dev.sigstore.cosign/bundle': cosignBundleAnnotation(w, minted.uuid) });
    const alone = await runCli([...worldFlags(w, image.digest), '--key', w.keyPath, '--output', 'json']);
    expect(alone.code).toBe(0);
    expect(JSON.parse(alone.stdout).accepted.signatureCheckedBy).toBe('log');
    expect((await runCli([...worldFlags(w, image.digest), '--key', w.keyPath, '--require-envelope'])).code).toBe(1);
    const r = await runCli([...worldFlags(w, image.digest), '--key', w.keyPath, '--image-url', `${oci.reg.host}/acme/minted:latest`, '--output', 'json']);
    expect(r.code, r.stdout).toBe(1);
    expect(JSON.parse(r.stdout).candidates[0]).toMatchObject({ check: 'attestation', code: 'ATTESTATION_SIGNATURE' });
  });

  it("a bad registry copy does not veto the log's own copy of an intoto attestation", async () => {
    const repo = parseImageRef(`${oci.reg.host}/acme/veto:latest`);
    const image = await pushImage(oci.client, repo, 'latest', 'veto');
    const logged = logIntotoV001(w, provenance(image.digest));
    const forged = Buffer.from(logged.envelopeText.replace('"payloadType"', '"payloadType" '));
    await pushAtt(oci.client, repo, image.digest, [forged], { 'dev.sigstore.cosign/bundle': cosignBundleAnnotation(w, logged.uuid) });
    const r = await runCli([...worldFlags(w, image.digest), '--key', w.keyPath, '--image-url', `${oci.reg.host}/acme/veto:latest`, '--output', 'json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).accepted).toMatchObject({ uuid: logged.uuid, attestationFrom: 'log' });
  });
});

