/**
 * One test per rejection rule of the verification pipeline, each made to fire through the real pipeline
 * in-process: the test log over HTTP, the search finder, trust from a trusted_root.json, a flag policy.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { policyFromFlags } from '../../src/cli/inputs.ts';
import { adviser } from '../../src/cli/hints.ts';
import type { ErrorCode } from '../../src/errors.ts';
import type { Policy } from '../../src/policy/policy.ts';
import type { CheckName, Verdict } from '../../src/verify/types.ts';
import { createTestCA, EKU_ANY, EKU_CODE_SIGNING, EKU_SERVER_AUTH } from '../fixtures/ca.ts';
import { signDsse, generateSigner } from '../fixtures/signers.ts';
import { SLSA_PROVENANCE_V1, statementPayload } from '../fixtures/statements.ts';
import { buildTrustedRoot } from '../fixtures/trusted-root.ts';
import {
  IDENTITY,
  ISSUER,
  keylessSigner,
  logIntotoV001,
  logIntotoV002,
  provenance,
  randomDigest,
  startWorld,
  type World,
} from '../fixtures/world.ts';
import { only, runPipeline, worldTrust } from './pipeline.ts';

let w: World;
let keyPolicy: Policy;
let keylessPolicy: Policy;

beforeAll(async () => {
  w = await startWorld();
  keyPolicy = policyFromFlags({ key: [w.keyPath] });
  keylessPolicy = policyFromFlags({ certificateIdentity: IDENTITY, certificateOidcIssuer: ISSUER });
  // a tree of size >= 2, so that every inclusion proof has a hash to flip
  logIntotoV001(w, provenance(randomDigest().value));
});
afterAll(async () => {
  await w.close();
});
afterEach(() => {
  w.log.faults.reset();
});

/** Not verified; the single candidate failed `check` with `code`, and its reason names the entry. */
function expectRejected(v: Verdict, check: CheckName, code: ErrorCode, uuid: string): string {
  expect(v.verified).toBe(false);
  expect(v.accepted).toBeUndefined();
  const c = only(v);
  expect({ status: c.status, check: c.check, code: c.code }, c.reason).toEqual({ status: 'failed', check, code });
  expect(c.uuid).toBe(uuid);
  expect(c.reason).toContain(uuid);
  expect(v.reason).toContain(code);
  return c.reason ?? '';
}

function expectPassed(v: Verdict, uuid: string): void {
  const c = only(v);
  expect(c.status, `${c.check} ${c.code}: ${c.reason}`).toBe('passed');
  expect(v.verified).toBe(true);
  expect(v.accepted?.uuid).toBe(uuid);
}

const hoursAgo = (h: number): Date => new Date(Date.now() - h * 3600_000);
const unix = (d: Date): number => Math.floor(d.getTime() / 1000);

describe('entry check', () => {
  it('ENTRY_UUID_MISMATCH: the log serves another entry under the requested ID', async () => {
    const d = randomDigest();
    const ours = logIntotoV001(w, provenance(d.value));
    const other = logIntotoV001(w, provenance(randomDigest().value));
    w.log.faults.wrongEntry.set(ours.uuid, other.uuid);
    const v = await runPipeline(w, d.value, keyPolicy);
    const reason = expectRejected(v, 'entry', 'ENTRY_UUID_MISMATCH', ours.uuid);
    expect(reason).toContain(`log index ${other.logIndex}`);
  });

  it('ENTRY_UNSUPPORTED_KIND: a hashedrekord entry found by the search is skipped, with a reason', async () => {
    const d = randomDigest();
    const body = {
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        data: { hash: { algorithm: 'sha256', value: d.hex } },
        signature: {
          content: w.signer.sign(Buffer.from(d.hex)).toString('base64'),
          publicKey: { content: Buffer.from(w.signer.publicKeyPem).toString('base64') },
        },
      },
    };
    const { uuid } = w.log.addEntry(body, { indexDigests: [d.value] });
    const v = await runPipeline(w, d.value, keyPolicy);
    expect(v.verified).toBe(false);
    const c = only(v);
    expect({ status: c.status, check: c.check, code: c.code, kind: c.kind }).toEqual({
      status: 'skipped',
      check: 'entry',
      code: 'ENTRY_UNSUPPORTED_KIND',
      kind: 'hashedrekord 0.0.1',
    });
    expect(c.reason).toContain(uuid);
    expect(c.reason).toMatch(/carries no attestation/);
    expect(v.reason).toMatch(/skipped/);
  });
});

describe('log check', () => {
  it('TLOG_INCLUSION_PROOF: an inclusion proof with a flipped hash', async () => {
    const d = randomDigest();
    const { uuid } = logIntotoV001(w, provenance(d.value));
    w.log.faults.flipProofHash = true;
    const reason = expectRejected(await runPipeline(w, d.value, keyPolicy), 'log', 'TLOG_INCLUSION_PROOF', uuid);
    expect(reason).toMatch(/inclusion proof check failed/);
  });

  it('TLOG_SET: a signed entry timestamp signed by another key', async () => {
    const d = randomDigest();
    const { uuid } = logIntotoV001(w, provenance(d.value));
    w.log.faults.setSigningKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const reason = expectRejected(await runPipeline(w, d.value, keyPolicy), 'log', 'TLOG_SET', uuid);
    expect(reason).toMatch(/signed entry timestamp/);
  });

  it('TLOG_CHECKPOINT: a checkpoint signed by another key', async () => {
    const d = randomDigest();
    const { uuid } = logIntotoV001(w, provenance(d.value));
    w.log.faults.checkpointSigningKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const reason = expectRejected(await runPipeline(w, d.value, keyPolicy), 'log', 'TLOG_CHECKPOINT', uuid);
    expect(reason).toMatch(/checkpoint/);
  });

  it('TLOG_KEY_VALIDITY: the log key is trusted only for a window that excludes the integrated time', async () => {
    const d = randomDigest();
    const { uuid } = logIntotoV001(w, provenance(d.value));
    const root = buildTrustedRoot({
      logs: { origin: w.log.origin, publicKeyPem: w.log.publicKeyPem },
      cas: w.ca,
      validity: { start: new Date('2020-01-01T00:00:00Z'), end: new Date('2021-01-01T00:00:00Z') },
    });
    const v = await runPipeline(w, d.value, keyPolicy, { trust: worldTrust(w, root) });
    const reason = expectRejected(v, 'log', 'TLOG_KEY_VALIDITY', uuid);
    expect(reason).toContain('2021-01-01T00:00:00.000Z');
  });

  it('TLOG_UNTRUSTED_LOG: the trusted root does not list the log', async () => {
    const d = randomDigest();
    const { uuid } = logIntotoV001(w, provenance(d.value));
    const root = buildTrustedRoot({ logs: { origin: 'other-log.test.internal', publicKeyPem: generateSigner().publicKeyPem }, cas: w.ca });
    const reason = expectRejected(await runPipeline(w, d.value, keyPolicy, { trust: worldTrust(w, root) }), 'log', 'TLOG_UNTRUSTED_LOG', uuid);
    expect(reason).toContain(w.log.logIdHex);
  });
});

describe('attestation check', () => {
  it('ATTESTATION_HASH: attestation.data does not match the logged payload hash', async () => {
    const d = randomDigest();
    const tampered = statementPayload(provenance(d.value, { builderId: 'https://evil.example/builder' }));
    const { uuid } = logIntotoV001(w, provenance(d.value), { attestation: tampered });
    const reason = expectRejected(await runPipeline(w, d.value, keyPolicy), 'attestation', 'ATTESTATION_HASH', uuid);
    expect(reason).toMatch(/payloadHash/);
  });

  it('ATTESTATION_MISSING: the log omits the attestation (> 100 KB); the hint, as the CLI words it, points at --image-url', async () => {
    const d = randomDigest();
    const { uuid } = logIntotoV001(w, provenance(d.value));
    w.log.faults.omitAttestation = true;
    const plain = expectRejected(await runPipeline(w, d.value, keyPolicy), 'attestation', 'ATTESTATION_MISSING', uuid);
    expect(plain).toMatch(/the log holds no attestation .*, and the run has no copy from the registry$/);
    const worded = expectRejected(await runPipeline(w, d.value, keyPolicy, { advise: adviser({}) }), 'attestation', 'ATTESTATION_MISSING', uuid);
    expect(worded).toBe(`${plain}; pass --image-url (the Task's IMAGE_URL) so that the copy kept in the registry can be used`);
  });

  it('ATTESTATION_SIGNATURE: an intoto 0.0.2 DSSE signature that does not verify with the logged key', async () => {
    const d = randomDigest();
    const st = provenance(d.value);
    const otherSigner = generateSigner();
    // envelope signed by another key, body logged with the trusted key's PEM
    const { uuid } = logIntotoV002(w, st, { signer: w.signer, envelope: signDsse(otherSigner, statementPayload(st)) });
    const reason = expectRejected(await runPipeline(w, d.value, keyPolicy), 'attestation', 'ATTESTATION_SIGNATURE', uuid);
    expect(reason).toMatch(/signature does not verify/);
  });

  it('an intoto 0.0.2 entry whose signature verifies passes (control for the rule above)', async () => {
    const d = randomDigest();
    const { uuid } = logIntotoV002(w, provenance(d.value));
    expectPassed(await runPipeline(w, d.value, keyPolicy), uuid);
  });
});

describe('statement check', () => {
  it('SUBJECT_MISMATCH: a statement about another digest, indexed under ours as a material', async () => {
    const d = randomDigest();
    const other = randomDigest();
    const { uuid } = logIntotoV001(w, provenance(other.value, { materials: [d.value] }));
    const reason = expectRejected(await runPipeline(w, d.value, keyPolicy), 'statement', 'SUBJECT_MISMATCH', uuid);
    expect(reason).toContain(d.value);
    expect(reason).toContain(other.hex);
  });

  it('PREDICATE_TYPE: a predicate type the policy does not allow', async () => {
    const d = randomDigest();
    const { uuid } = logIntotoV001(w, provenance(d.value));
    const policy = policyFromFlags({ key: [w.keyPath], predicateType: [SLSA_PROVENANCE_V1] });
    const reason = expectRejected(await runPipeline(w, d.value, policy), 'statement', 'PREDICATE_TYPE', uuid);
    expect(reason).toContain(SLSA_PROVENANCE_V1);
  });

  it.each([
    ['the default "any predicate type"', undefined],
    ['--predicate-type naming the VSA type', 'https://slsa.dev/verification_summary/v1'],
  ])('VSA_NOT_EVIDENCE: a PASSED verification summary signed by a trusted key, under %s', async (_, predicateType) => {
    const d = randomDigest();
    const vsa = {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'registry.local/acme/app', digest: { sha256: d.hex } }],
      predicateType: 'https://slsa.dev/verification_summary/v1',
      predicate: { verifier: { id: 'https://verifier.test' }, timeVerified: '2026-01-01T00:00:00Z', resourceUri: d.value, policy: { uri: 'https://p.test' }, verificationResult: 'PASSED', verifiedLevels: [] },
    };
    const { uuid } = logIntotoV001(w, vsa as never);
    const policy = predicateType ? policyFromFlags({ key: [w.keyPath], predicateType: [predicateType] }) : keyPolicy;
    const reason = expectRejected(await runPipeline(w, d.value, policy), 'statement', 'VSA_NOT_EVIDENCE', uuid);
    expect(reason).toMatch(/verification summary/);
  });

  it('STATEMENT_MALFORMED: a payload that is not an in-toto statement', async () => {
    const d = randomDigest();
    // indexed under the digest (a subject list) but no _type / predicateType
    const payload = Buffer.from(JSON.stringify({ subject: [{ name: 'x', digest: { sha256: d.hex } }] }));
    const { uuid } = logIntotoV001(w, payload);
    const reason = expectRejected(await runPipeline(w, d.value, keyPolicy), 'statement', 'STATEMENT_MALFORMED', uuid);
    expect(reason).toMatch(/not an in-toto statement/);
  });
});

describe('cheap rejections come before the costly checks', () => {
  // With every log signature forged, these candidates would fail the log check; an attestation bound to the body
  // that is about another image, or signed only by untrusted keys, is rejected first, with the true reason.
  it('a material hit is SUBJECT_MISMATCH before its log signatures are checked', async () => {
    const d = randomDigest();
    const { uuid } = logIntotoV001(w, provenance(randomDigest().value, { materials: [d.value] }));
    w.log.faults.setSigningKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    expectRejected(await runPipeline(w, d.value, keyPolicy), 'statement', 'SUBJECT_MISMATCH', uuid);
  });

  it('an entry signed only by an untrusted key is SIGNER_UNTRUSTED before its log signatures are checked', async () => {
    const d = randomDigest();
    const { uuid } = logIntotoV001(w, provenance(d.value), { signer: generateSigner() });
    w.log.faults.setSigningKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    expectRejected(await runPipeline(w, d.value, keyPolicy), 'signer', 'SIGNER_UNTRUSTED', uuid);
  });

  it('an entry that passes the cheap checks still needs the log: a trusted signer and our subject with a forged SET fail', async () => {
    const d = randomDigest();
    const { uuid } = logIntotoV001(w, provenance(d.value));
    w.log.faults.setSigningKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    expectRejected(await runPipeline(w, d.value, keyPolicy), 'log', 'TLOG_SET', uuid);
  });
});

describe('signer check', () => {
  it('SIGNER_UNTRUSTED: signed by a key that is not trusted', async () => {
    const d = randomDigest();
    const { uuid } = logIntotoV001(w, provenance(d.value), { signer: generateSigner() });
    const reason = expectRejected(await runPipeline(w, d.value, keyPolicy), 'signer', 'SIGNER_UNTRUSTED', uuid);
    expect(reason).toContain(w.keyPath);
  });

  it('SIGNER_UNTRUSTED: a keyless entry when only keys are trusted', async () => {
    const d = randomDigest();
    const k = await keylessSigner(w);
    const { uuid } = logIntotoV001(w, provenance(d.value), { signer: k.signer, certificatePem: k.certificatePem });
    const reason = expectRejected(await runPipeline(w, d.value, keyPolicy), 'signer', 'SIGNER_UNTRUSTED', uuid);
    expect(reason).toMatch(/only keys are trusted/);
  });

  it('CERTIFICATE_IDENTITY: a certificate for another identity', async () => {
    const d = randomDigest();
    const evil = 'https://github.com/evil/app/.github/workflows/build.yml@refs/heads/main';
    const k = await keylessSigner(w, { identity: evil });
    const { uuid } = logIntotoV001(w, provenance(d.value), { signer: k.signer, certificatePem: k.certificatePem });
    const reason = expectRejected(await runPipeline(w, d.value, keylessPolicy), 'signer', 'CERTIFICATE_IDENTITY', uuid);
    expect(reason).toContain(evil);
  });

  it('CERTIFICATE_ISSUER: a certificate from another OIDC issuer', async () => {
    const d = randomDigest();
    const k = await keylessSigner(w, { issuer: 'https://accounts.google.com' });
    const { uuid } = logIntotoV001(w, provenance(d.value), { signer: k.signer, certificatePem: k.certificatePem });
    const reason = expectRejected(await runPipeline(w, d.value, keylessPolicy), 'signer', 'CERTIFICATE_ISSUER', uuid);
    expect(reason).toContain('https://accounts.google.com');
  });

  it('CERTIFICATE_CHAIN: a certificate from a CA the trusted root does not list', async () => {
    const d = randomDigest();
    const k = await keylessSigner(w, { ca: await createTestCA() });
    const { uuid } = logIntotoV001(w, provenance(d.value), { signer: k.signer, certificatePem: k.certificatePem });
    expectRejected(await runPipeline(w, d.value, keylessPolicy), 'signer', 'CERTIFICATE_CHAIN', uuid);
  });

  it('CERTIFICATE_VALIDITY: a certificate already expired at the integrated time', async () => {
    const d = randomDigest();
    const k = await keylessSigner(w, { notBefore: hoursAgo(3), notAfter: hoursAgo(2) });
    const { uuid } = logIntotoV001(w, provenance(d.value), {
      signer: k.signer,
      certificatePem: k.certificatePem,
      integratedTime: unix(hoursAgo(1)),
    });
    const reason = expectRejected(await runPipeline(w, d.value, keylessPolicy), 'signer', 'CERTIFICATE_VALIDITY', uuid);
    expect(reason).toMatch(/expired/);
  });

  it('a certificate valid at the integrated time though expired now passes (validity is judged at integrated time)', async () => {
    const d = randomDigest();
    const k = await keylessSigner(w, { notBefore: hoursAgo(3), notAfter: hoursAgo(2) });
    const { uuid } = logIntotoV001(w, provenance(d.value), {
      signer: k.signer,
      certificatePem: k.certificatePem,
      integratedTime: unix(hoursAgo(2.5)),
    });
    expect(k.leaf.notAfter.getTime()).toBeLessThan(Date.now());
    const v = await runPipeline(w, d.value, keylessPolicy);
    expectPassed(v, uuid);
    expect(v.accepted?.signer).toBe(IDENTITY);
  });

  // Fulcio issues code-signing certificates only; a private CA in the trusted root may issue others too.
  it.each([
    ['only the serverAuth extended key usage', { extKeyUsages: [EKU_SERVER_AUTH] }, /extended key usage .*1\.3\.6\.1\.5\.5\.7\.3\.1.* not code signing/],
    ['no extended key usage extension', { extKeyUsages: null }, /no extended key usage/],
    ['only anyExtendedKeyUsage', { extKeyUsages: [EKU_ANY] }, /not code signing/],
    ['a key usage without digitalSignature', { keyUsages: 4 /* keyEncipherment */ }, /key usage .*digitalSignature/],
    ['no key usage extension', { keyUsages: null }, /no key usage/],
    // an extended key usage extension whose SEQUENCE holds an INTEGER, not a purpose (an OID)
    ['an extended key usage extension that does not parse', { extKeyUsages: null, extraExtensions: [{ oid: '2.5.29.37', value: Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]) }] }, /key usage extensions do not parse/],
  ])('CERTIFICATE_USAGE: a leaf certificate with %s', async (_, usage, message) => {
    const d = randomDigest();
    const k = await keylessSigner(w, usage);
    const { uuid } = logIntotoV001(w, provenance(d.value), { signer: k.signer, certificatePem: k.certificatePem });
    const reason = expectRejected(await runPipeline(w, d.value, keylessPolicy), 'signer', 'CERTIFICATE_USAGE', uuid);
    expect(reason).toMatch(message);
  });

  it('a leaf with code signing among other extended key usages passes (control for the rule above)', async () => {
    const d = randomDigest();
    const k = await keylessSigner(w, { extKeyUsages: [EKU_SERVER_AUTH, EKU_CODE_SIGNING] });
    const { uuid } = logIntotoV001(w, provenance(d.value), { signer: k.signer, certificatePem: k.certificatePem });
    expectPassed(await runPipeline(w, d.value, keylessPolicy), uuid);
  });

  it('CERTIFICATE_SCT: no SCT while the trusted root lists a CT log', async () => {
    const d = randomDigest();
    const k = await keylessSigner(w, { sct: false });
    const { uuid } = logIntotoV001(w, provenance(d.value), { signer: k.signer, certificatePem: k.certificatePem });
    const reason = expectRejected(await runPipeline(w, d.value, keylessPolicy), 'signer', 'CERTIFICATE_SCT', uuid);
    expect(reason).toMatch(/SCT/);
  });

  it('no SCT is needed when the trusted root lists no CT log', async () => {
    const w2 = await startWorld({ ctLog: false });
    try {
      const d = randomDigest();
      const k = await keylessSigner(w2);
      const { uuid } = logIntotoV001(w2, provenance(d.value), { signer: k.signer, certificatePem: k.certificatePem });
      expectPassed(await runPipeline(w2, d.value, keylessPolicy), uuid);
    } finally {
      await w2.close();
    }
  });
});

describe('policy warnings and the decision', () => {
  it('warns about an unanchored identity regexp', async () => {
    const d = randomDigest();
    const k = await keylessSigner(w);
    const { uuid } = logIntotoV001(w, provenance(d.value), { signer: k.signer, certificatePem: k.certificatePem });
    const loose = policyFromFlags({ certificateIdentityRegexp: 'github\\.com/acme/', certificateOidcIssuer: ISSUER });
    const v = await runPipeline(w, d.value, loose);
    expectPassed(v, uuid);
    expect(v.warnings).toHaveLength(1);
    expect(v.warnings[0]).toContain('/github\\.com/acme//');
    expect(v.warnings[0]).toMatch(/not anchored/);

    const anchored = policyFromFlags({ certificateIdentityRegexp: '^https://github\\.com/acme/.*$', certificateOidcIssuer: ISSUER });
    expect((await runPipeline(w, d.value, anchored)).warnings).toEqual([]);
  });

  it('of 12 candidates, finds the only passing one (added last) with 1 search and 2 batched retrieves', async () => {
    const d = randomDigest();
    const untrusted = generateSigner();
    for (let i = 0; i < 11; i++) {
      logIntotoV001(w, provenance(d.value, { builderId: `https://builder.example/${i}` }), { signer: untrusted });
    }
    const good = logIntotoV001(w, provenance(d.value));
    const before = w.log.requests.length;
    const v = await runPipeline(w, d.value, keyPolicy);
    const requests = w.log.requests.slice(before);
    expect(v.verified).toBe(true);
    expect(v.accepted?.uuid).toBe(good.uuid);
    expect(v.accepted?.logIndex).toBe(good.logIndex);
    expect(v.candidates).toHaveLength(12);
    expect(v.candidates.filter((c) => c.status === 'failed').every((c) => c.code === 'SIGNER_UNTRUSTED')).toBe(true);
    expect(requests.filter((r) => r.path === '/api/v1/index/retrieve')).toHaveLength(1);
    const retrieves = requests.filter((r) => r.path === '/api/v1/log/entries/retrieve');
    expect(retrieves).toHaveLength(2);
    expect(retrieves.map((r) => (r.body as { entryUUIDs: string[] }).entryUUIDs.length).sort()).toEqual([10, 2]);
    expect(requests).toHaveLength(3);
  });

  it('of two passing entries reports the newest (highest integrated time), not the highest log index', async () => {
    const d = randomDigest();
    const now = Math.floor(Date.now() / 1000);
    const newer = logIntotoV001(w, provenance(d.value, { builderId: 'https://builder.example/newer' }), { integratedTime: now - 60 });
    const older = logIntotoV001(w, provenance(d.value, { builderId: 'https://builder.example/older' }), { integratedTime: now - 600 });
    expect(older.logIndex).toBeGreaterThan(newer.logIndex);
    const v = await runPipeline(w, d.value, keyPolicy);
    expect(v.verified).toBe(true);
    expect(v.candidates.map((c) => c.status)).toEqual(['passed', 'passed']);
    expect(v.accepted?.uuid).toBe(newer.uuid);
    expect(v.accepted?.integratedTime).toBe(now - 60);
    expect(v.accepted?.builderId).toBe('https://builder.example/newer');
  });
});
