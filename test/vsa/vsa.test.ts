import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { crypto as sigcrypto, dsse } from '@sigstore/core';
import { GateError } from '../../src/errors.ts';
import { fingerprint } from '../../src/trust/public-keys.ts';
import type { CandidateOutcome, Verdict } from '../../src/verify/types.ts';
import {
  buildVsa,
  flagsPolicy,
  imageResourceUri,
  readSigningKeyFile,
  signVsa,
  validateVsa,
  writeVsa,
  type BuildVsaOptions,
} from '../../src/vsa/index.ts';
import { codeOf } from '../fixtures/errors.ts';

const IMAGE_HEX = 'ab'.repeat(32);
const IMAGE_DIGEST = `sha256:${IMAGE_HEX}`;
const REKOR = 'https://rekor.example.test/';
const TREE = '24296fb24b8ad77a';
const leaf = (c: string) => c.repeat(64);
const uuid80 = (c: string) => `${TREE}${leaf(c)}`;

const candidate = (over: Partial<CandidateOutcome> & { uuid: string }): CandidateOutcome => ({
  sources: ['rekor-search'],
  status: 'passed',
  kind: 'intoto',
  ...over,
});

const passA = candidate({ uuid: uuid80('a'), logIndex: 20, integratedTime: 1_700_000_200 });
const passB = candidate({ uuid: uuid80('b'), logIndex: 10, integratedTime: 1_700_000_100, sources: ['att-tag'] });
const failC = candidate({ uuid: uuid80('c'), logIndex: 5, status: 'failed', check: 'signer', code: 'SIGNER_UNTRUSTED' });
const skipD = candidate({ uuid: uuid80('d'), logIndex: 6, status: 'skipped', kind: 'hashedrekord' });

const passed: Verdict = {
  verified: true,
  imageDigest: IMAGE_DIGEST,
  imageUrl: 'registry.example.test:5000/team/app:v1',
  rekorUrl: REKOR,
  accepted: { ...passA, entryUrl: `https://rekor.example.test/api/v1/log/entries/${passA.uuid}` },
  candidates: [failC, passA, skipD, passB],
  polls: 1,
  warnings: [],
};

const failed: Verdict = {
  verified: false,
  imageDigest: IMAGE_DIGEST,
  rekorUrl: REKOR,
  candidates: [failC, skipD],
  reason: 'none passed',
  polls: 1,
  warnings: [],
};

const opts: BuildVsaOptions = {
  verifierId: 'https://github.com/example/rekor-gate',
  verifierVersion: '0.1.0',
  timeVerified: new Date('2024-05-01T12:34:56Z'),
  resourceUri: imageResourceUri('registry.example.test:5000/team/app:v1', IMAGE_DIGEST),
  policy: { uri: 'file:///etc/rekor-gate/policy.yaml', sha256: 'cd'.repeat(32) },
  verifiedLevels: ['SLSA_BUILD_LEVEL_2'],
};

const clone = <T>(v: T): T => structuredClone(v) as T;
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('buildVsa', () => {
  it('builds a schema-valid PASSED VSA whose input attestations are exactly the passing entries', () => {
    const vsa = buildVsa(passed, opts);
    expect(validateVsa(vsa)).toBeUndefined();
    expect(vsa._type).toBe('https://in-toto.io/Statement/v1');
    expect(vsa.predicateType).toBe('https://slsa.dev/verification_summary/v1');
    expect(vsa.subject).toEqual([{ name: 'registry.example.test:5000/team/app', digest: { sha256: IMAGE_HEX } }]);
    const p = vsa.predicate;
    expect(p.verifier).toEqual({ id: opts.verifierId, version: { 'rekor-gate': '0.1.0' } });
    expect(p.timeVerified).toBe('2024-05-01T12:34:56.000Z');
    expect(p.resourceUri).toBe(
      `pkg:oci/app@sha256%3A${IMAGE_HEX}?repository_url=registry.example.test:5000/team/app&tag=v1`,
    );
    expect(p.policy).toEqual({ uri: 'file:///etc/rekor-gate/policy.yaml', digest: { sha256: 'cd'.repeat(32) } });
    expect(p.verificationResult).toBe('PASSED');
    expect(p.verifiedLevels).toEqual(['SLSA_BUILD_LEVEL_2']);
    expect(p).not.toHaveProperty('dependencyLevels');
    // log order (B has the lower log index), failed and skipped candidates left out
    expect(p.inputAttestations).toEqual([
      { name: uuid80('b'), uri: `https://rekor.example.test/api/v1/log/entries/${uuid80('b')}`, digest: { sha256: leaf('b') } },
      { name: uuid80('a'), uri: passed.accepted?.entryUrl, digest: { sha256: leaf('a') } },
    ]);
  });

  it('builds a schema-valid FAILED VSA with no input attestations and verifiedLevels FAILED', () => {
    const vsa = buildVsa(failed, { ...opts, policy: flagsPolicy({ keys: ['x'], predicateTypes: [] }) });
    expect(validateVsa(vsa)).toBeUndefined();
    expect(vsa.subject[0]?.name).toBe(opts.resourceUri);
    expect(vsa.predicate.verificationResult).toBe('FAILED');
    expect(vsa.predicate.verifiedLevels).toEqual(['FAILED']);
    expect(vsa.predicate.inputAttestations).toEqual([]);
    expect(vsa.predicate.policy.uri).toBe('rekor-gate:flags');
    expect(vsa.predicate.policy.digest?.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is deterministic: same verdict, same bytes, whatever the candidate order', () => {
    const a = JSON.stringify(buildVsa(passed, opts));
    const b = JSON.stringify(buildVsa({ ...passed, candidates: [...passed.candidates].reverse() }, opts));
    expect(a).toBe(b);
    expect(Object.keys(JSON.parse(a) as object)).toEqual(['_type', 'subject', 'predicateType', 'predicate']);
    expect(Object.keys((JSON.parse(a) as Json).predicate as object)).toEqual([
      'verifier', 'timeVerified', 'resourceUri', 'policy', 'inputAttestations', 'verificationResult', 'verifiedLevels',
    ]);
  });

  it('hashes the flag policy canonically (key order does not matter)', () => {
    expect(flagsPolicy({ a: 1, b: [2, 3] })).toEqual(flagsPolicy({ b: [2, 3], a: 1 }));
    expect(flagsPolicy({ a: 1 }).sha256).not.toBe(flagsPolicy({ a: 2 }).sha256);
  });

  it('without a policy names the flags policy; without levels a PASSED VSA claims none', () => {
    const vsa = buildVsa(passed, { ...opts, policy: undefined, verifiedLevels: undefined });
    expect(vsa.predicate.policy).toEqual({ uri: 'rekor-gate:flags' });
    expect(vsa.predicate.verifiedLevels).toEqual([]);
    expect(validateVsa(vsa)).toBeUndefined();
  });

  it('rejects options that would make an invalid VSA', () => {
    expect(codeOf(() => buildVsa(passed, { ...opts, verifierId: 'not a uri' }))).toBe('USAGE');
    expect(codeOf(() => buildVsa(passed, { ...opts, resourceUri: 'registry.example.test/team/app' }))).toBe('USAGE');
    expect(codeOf(() => buildVsa(passed, { ...opts, verifiedLevels: ['SLSA_BOGUS'] }))).toBe('USAGE');
    expect(codeOf(() => buildVsa(passed, { ...opts, timeVerified: new Date('nope') }))).toBe('USAGE');
    expect(codeOf(() => buildVsa({ ...passed, imageDigest: 'sha256:xyz' }, opts))).toBe('BAD_DIGEST');
    expect(codeOf(() => imageResourceUri('registry.example.test/team/app:v1', 'sha256:xyz'))).toBe('BAD_DIGEST');
  });

  it('names only log entries as its input attestations: a passing candidate whose ID is no entry UUID is a defect (INTERNAL)', () => {
    const odd = { ...passA, uuid: 'registry.example.test/team/app@sha256:referrer' };
    expect(codeOf(() => buildVsa({ ...passed, accepted: { ...odd, entryUrl: 'x' }, candidates: [odd] }, opts))).toBe('INTERNAL');
  });
});

describe('the VSA schema', () => {
  const good = buildVsa(passed, opts) as unknown as Json;

  it('rejects a VSA without verifier.id', () => {
    const v = clone(good);
    delete v.predicate.verifier.id;
    expect(validateVsa(v)).toMatch(/verifier.*id/);
  });

  it('rejects verificationResult MAYBE', () => {
    const v = clone(good);
    v.predicate.verificationResult = 'MAYBE';
    expect(validateVsa(v)).toMatch(/verificationResult/);
  });

  it('rejects other malformed VSAs', () => {
    const cases: ((v: Json) => void)[] = [
      (v) => delete v.predicate.verifier,
      (v) => delete v.predicate.timeVerified,
      (v) => (v.predicate.timeVerified = '2024-05-01 noon'),
      (v) => (v.predicate.timeVerified = '2024-05-01T12:34:56'), // no offset: not RFC 3339
      (v) => delete v.predicate.resourceUri,
      (v) => delete v.predicate.policy,
      (v) => delete v.predicate.policy.uri,
      (v) => delete v.predicate.verifiedLevels,
      (v) => (v.predicate.verifiedLevels = ['FAILED']), // PASSED with FAILED level
      (v) => (v.predicate.inputAttestations = [{ name: 'x' }]), // no uri/digest/content
      (v) => (v.predicate.inputAttestations = [{ uri: 'https://x.test/e' }]), // VSA: an input attestation needs a digest
      (v) => (v.predicate.inputAttestations[0].digest = { sha256: 'abc' }),
      (v) => (v.predicate.inputAttestations[0].digest = {}),
      (v) => (v.predicateType = 'https://slsa.dev/provenance/v1'),
      (v) => (v._type = 'https://in-toto.io/Statement/v0.1'),
      (v) => (v.subject = []),
      (v) => delete v.subject[0].digest,
    ];
    for (const [i, mutate] of cases.entries()) {
      const v = clone(good);
      mutate(v);
      expect(validateVsa(v), `case ${i}`).toBeTypeOf('string');
    }
    const f = clone(good);
    f.predicate.verificationResult = 'FAILED';
    expect(validateVsa(f)).toBeTypeOf('string'); // FAILED without a FAILED level
    f.predicate.verifiedLevels = ['FAILED'];
    expect(validateVsa(f)).toBeUndefined();
  });

  it('accepts a ResourceDescriptor with only uri or only content, and extra fields', () => {
    const v = clone(good);
    v.predicate.policy = { uri: 'https://example.test/policy' };
    v.predicate.slsaVersion = '1.0';
    v.predicate.dependencyLevels = { SLSA_BUILD_LEVEL_3: 2 };
    v.predicate['https://example.test/ext'] = true;
    expect(validateVsa(v)).toBeUndefined();
  });
});

const tmp = mkdtempSync(path.join(os.tmpdir(), 'rekor-gate-vsa-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const pemPrivate = (k: KeyObject) => k.export({ type: 'pkcs8', format: 'pem' }).toString();

function verifies(env: ReturnType<typeof signVsa>, publicKey: KeyObject, hash: string | undefined): boolean {
  const sig = env.signatures[0];
  if (!sig) return false;
  const pae = dsse.preAuthEncoding(env.payloadType, Buffer.from(env.payload, 'base64'));
  return sigcrypto.verify(pae, publicKey, Buffer.from(sig.sig, 'base64'), hash);
}

describe('signVsa', () => {
  const statement = buildVsa(passed, opts);
  const keyTypes = [
    ['ECDSA P-256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' }), 'sha256'],
    ['ECDSA P-384', () => generateKeyPairSync('ec', { namedCurve: 'P-384' }), 'sha384'],
    ['ECDSA P-521', () => generateKeyPairSync('ec', { namedCurve: 'P-521' }), 'sha512'],
    ['RSA', () => generateKeyPairSync('rsa', { modulusLength: 2048 }), 'sha256'],
    ['Ed25519', () => generateKeyPairSync('ed25519'), undefined],
  ] as const;

  for (const [name, gen, hash] of keyTypes) {
    it(`signs the PAE with ${name}: verifies with its public key, not with another key or a changed payload`, () => {
      const k = gen();
      const env = signVsa(statement, pemPrivate(k.privateKey));
      expect(env.payloadType).toBe('application/vnd.in-toto+json');
      expect(JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8'))).toEqual(statement);
      expect(env.signatures).toHaveLength(1);
      expect(env.signatures[0]?.keyid).toBe(fingerprint(k.publicKey));
      expect(verifies(env, k.publicKey, hash)).toBe(true);

      expect(verifies(env, gen().publicKey, hash)).toBe(false);
      const changed = { ...statement, predicate: { ...statement.predicate, verificationResult: 'FAILED' } };
      expect(verifies({ ...env, payload: Buffer.from(JSON.stringify(changed)).toString('base64') }, k.publicKey, hash)).toBe(false);
      expect(verifies({ ...env, payloadType: 'application/json' }, k.publicKey, hash)).toBe(false);
    });
  }

  it('uses the keyid it is given', () => {
    const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(signVsa(statement, pemPrivate(k.privateKey), { keyid: '' }).signatures[0]?.keyid).toBe('');
  });

  it('signs with an encrypted PKCS#8 key and its passphrase', () => {
    const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const enc = k.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }).toString();
    expect(verifies(signVsa(statement, enc, { passphrase: 'pw' }), k.publicKey, 'sha256')).toBe(true);
    expect(codeOf(() => signVsa(statement, enc, { passphrase: 'wrong' }))).toBe('BAD_KEY');
  });

  it('bad, unsupported or unreadable keys -> BAD_KEY, never echoing the key', () => {
    const pub = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const k1 = pemPrivate(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey);
    const junk = '-----BEGIN PRIVATE KEY-----\nAAAAsecretAAAA\n-----END PRIVATE KEY-----\n';
    const cosign = '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n';
    // each with the reason that fits it (what the user must change), not only the code
    const cases: [string, RegExp][] = [
      ['', /no PEM private key found/],
      ['hello', /no PEM private key found/],
      [pub, /no PEM private key found/],
      [k1, /unsupported key type/],
      [junk, /does not parse/],
      [cosign, /cosign's encrypted key format is not supported/],
    ];
    for (const [bad, reason] of cases) {
      let err: unknown;
      try {
        signVsa(statement, bad, { label: 'vsa.key' });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(GateError);
      expect((err as GateError).code).toBe('BAD_KEY');
      expect((err as GateError).message).toContain('vsa.key');
      expect((err as GateError).message).toMatch(reason);
      expect((err as GateError).message).not.toContain('secret');
    }

    const badFile = path.join(tmp, 'bad.key');
    writeFileSync(badFile, junk);
    expect(codeOf(() => signVsa(statement, readSigningKeyFile(badFile), { label: badFile }))).toBe('BAD_KEY');
    expect(() => readSigningKeyFile(path.join(tmp, 'missing.key'))).toThrow(expect.objectContaining({ code: 'BAD_KEY', message: expect.stringMatching(/missing\.key cannot be read \(ENOENT\)/) }));
  });
});

describe('writeVsa', () => {
  it('writes the statement or envelope whole, leaving no temporary file', () => {
    const statement = buildVsa(passed, opts);
    const k = generateKeyPairSync('ed25519');
    const env = signVsa(statement, pemPrivate(k.privateKey));
    const dir = mkdtempSync(path.join(tmp, 'out-'));
    writeVsa(path.join(dir, 'vsa.json'), statement);
    writeVsa(path.join(dir, 'vsa.intoto.json'), env);
    writeVsa(path.join(dir, 'vsa.json'), statement); // overwrite
    expect(readdirSync(dir).sort()).toEqual(['vsa.intoto.json', 'vsa.json']);
    expect(JSON.parse(readFileSync(path.join(dir, 'vsa.json'), 'utf8'))).toEqual(statement);
    const written = JSON.parse(readFileSync(path.join(dir, 'vsa.intoto.json'), 'utf8')) as typeof env;
    expect(written).toEqual(env);
    expect(verifies(written, k.publicKey, undefined)).toBe(true);
    expect(readFileSync(path.join(dir, 'vsa.intoto.json'), 'utf8')).not.toContain('PRIVATE');
  });

  it('an unwritable target -> USAGE, no temporary file left', () => {
    const dir = mkdtempSync(path.join(tmp, 'bad-'));
    expect(codeOf(() => writeVsa(path.join(dir, 'missing-dir', 'vsa.json'), {}))).toBe('USAGE');
    expect(codeOf(() => writeVsa(dir, {}))).toBe('USAGE'); // a directory
    expect(readdirSync(dir)).toEqual([]);
  });
});
