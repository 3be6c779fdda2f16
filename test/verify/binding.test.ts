/**
 * The binding checks no other test made reject (issue 27): a registry copy whose signatures are not the logged
 * ones, an intoto 0.0.2 copy whose payload type is not the logged one, a payload type that is not in-toto (of an
 * entry's envelope, and of a bundle's), and a logged key or certificate that does not parse. Each runs one candidate of the test log through checkCandidate,
 * in-process, with the registry's copy as a finder would hand it (no registry needed), and first shows that the
 * same candidate with the faithful copy passes, so that only the one change is what rejects.
 */
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { policyFromFlags } from '../../src/cli/inputs.ts';
import { parseImageDigest } from '../../src/digest.ts';
import type { Policy } from '../../src/policy/policy.ts';
import type { LogEntryAnon } from '../../src/rekor/types.ts';
import type { Trust } from '../../src/trust/index.ts';
import type { BundleCandidate, EntryCandidate, RegistryCopy } from '../../src/verify/candidate.ts';
import { checkCandidate } from '../../src/verify/check-candidate.ts';
import type { CandidateOutcome } from '../../src/verify/types.ts';
import { dsseBundleV03 } from '../fixtures/bundle-json.ts';
import { dsseV001Entry, intotoV001Entry, intotoV002Entry, serializeEnvelope, type DsseEnvelope } from '../fixtures/rekor-log/index.ts';
import { signDsse } from '../fixtures/signers.ts';
import { statementPayload } from '../fixtures/statements.ts';
import { IDENTITY, ISSUER, keylessSigner, provenance, randomDigest, startWorld, type World } from '../fixtures/world.ts';
import { worldTrust } from './pipeline.ts';

let w: World;
let trust: Trust;
let keyPolicy: Policy;
let keylessPolicy: Policy;

beforeAll(async () => {
  w = await startWorld();
  trust = worldTrust(w);
  keyPolicy = policyFromFlags({ key: [w.keyPath] });
  keylessPolicy = policyFromFlags({ certificateIdentity: IDENTITY, certificateOidcIssuer: ISSUER });
});
afterAll(async () => {
  await w.close();
});

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

/** A bundle referrer's copy: re-encoded, so its bytes are not what was uploaded (no envelope hash binds it). */
const reencoded = (env: DsseEnvelope | string): RegistryCopy => ({
  bytes: Buffer.from(typeof env === 'string' ? env : JSON.stringify(env)),
  exact: false,
  location: 'registry.local/acme/app@sha256:referrer',
});

function judge(uuid: string, digest: string, policy: Policy, o: { envelope?: RegistryCopy; withoutAttestation?: boolean } = {}): CandidateOutcome {
  const entry = structuredClone(w.log.logEntry(uuid)?.[uuid]) as LogEntryAnon;
  // `attestation` is outside what the log signs (the SET covers body, time, index and log ID): a log that keeps
  // no copy (over 100 KB, or a dsse entry) leaves only the registry's.
  if (o.withoutAttestation) delete entry.attestation;
  const c: EntryCandidate = { kind: 'entry', uuid, entry, sources: o.envelope ? ['referrer-bundle'] : ['rekor-search'], ...(o.envelope ? { envelope: o.envelope } : {}) };
  return checkCandidate(c, { digest: parseImageDigest(digest), trust, policy, now: Math.floor(Date.now() / 1000) });
}

function expectFailed(out: CandidateOutcome, check: string, code: string, reason: RegExp): void {
  expect({ status: out.status, check: out.check, code: out.code }, out.reason).toEqual({ status: 'failed', check, code });
  expect(out.reason).toMatch(reason);
}

describe("a registry copy stands in for the log's only when it is the one the log signed", () => {
  it('dsse 0.0.1: a re-encoded copy signed again (a valid signature, but not the logged one) fails ATTESTATION_BINDING', () => {
    const d = randomDigest();
    const payload = statementPayload(provenance(d.value));
    const logged = signDsse(w.signer, payload);
    const { uuid } = w.log.add(dsseV001Entry({ envelope: logged, verifiers: [w.signer.publicKeyPem] }));
    expect(judge(uuid, d.value, keyPolicy, { envelope: reencoded(logged) }).status).toBe('passed');
    // ECDSA signs with a fresh nonce: the same key over the same PAE gives another signature
    const resigned = signDsse(w.signer, payload);
    expect(resigned.signatures[0]?.sig).not.toBe(logged.signatures[0]?.sig);
    expectFailed(judge(uuid, d.value, keyPolicy, { envelope: reencoded(resigned) }), 'attestation', 'ATTESTATION_BINDING', /signatures are not the ones the log recorded/);
  });

  it('dsse 0.0.1: a copy with an extra signature beside the logged one fails ATTESTATION_BINDING', () => {
    const d = randomDigest();
    const logged = signDsse(w.signer, statementPayload(provenance(d.value)));
    const { uuid } = w.log.add(dsseV001Entry({ envelope: logged, verifiers: [w.signer.publicKeyPem] }));
    const extra = { ...logged, signatures: [...logged.signatures, { keyid: '', sig: Buffer.from('another').toString('base64') }] };
    expectFailed(judge(uuid, d.value, keyPolicy, { envelope: reencoded(extra) }), 'attestation', 'ATTESTATION_BINDING', /signatures are not the ones the log recorded/);
  });

  it('intoto 0.0.2 without the log\'s copy: a copy signed again fails ATTESTATION_BINDING', () => {
    const d = randomDigest();
    const payload = statementPayload(provenance(d.value));
    const logged = signDsse(w.signer, payload);
    const { uuid } = w.log.add(intotoV002Entry({ envelope: logged, publicKeys: [w.signer.publicKeyPem] }));
    expect(judge(uuid, d.value, keyPolicy, { envelope: reencoded(logged), withoutAttestation: true }).status).toBe('passed');
    const resigned = signDsse(w.signer, payload);
    expectFailed(
      judge(uuid, d.value, keyPolicy, { envelope: reencoded(resigned), withoutAttestation: true }),
      'attestation',
      'ATTESTATION_BINDING',
      /signatures are not the ones the log recorded/,
    );
  });

  it('intoto 0.0.2 without the log\'s copy: the logged signatures under another payload type fail ATTESTATION_BINDING', () => {
    const d = randomDigest();
    const logged = signDsse(w.signer, statementPayload(provenance(d.value)));
    const { uuid } = w.log.add(intotoV002Entry({ envelope: logged, publicKeys: [w.signer.publicKeyPem] }));
    // the same payload and the very signatures the log recorded; only the type differs (the PAE the signature
    // covers names the logged type, which is what the signature check would then use)
    const retyped = { ...logged, payloadType: 'application/json' };
    expectFailed(
      judge(uuid, d.value, keyPolicy, { envelope: reencoded(retyped), withoutAttestation: true }),
      'attestation',
      'ATTESTATION_BINDING',
      /payload type differs from the logged one/,
    );
  });
});

describe('the statement step takes only in-toto payloads', () => {
  it('dsse 0.0.1: an envelope of payload type application/json (signed, bound) fails STATEMENT_MALFORMED', () => {
    const d = randomDigest();
    const env = signDsse(w.signer, statementPayload(provenance(d.value)), { payloadType: 'application/json' });
    const { uuid } = w.log.add(dsseV001Entry({ envelope: env, verifiers: [w.signer.publicKeyPem] }));
    const out = judge(uuid, d.value, keyPolicy, { envelope: { ...reencoded(serializeEnvelope(env)), exact: true } });
    expectFailed(out, 'statement', 'STATEMENT_MALFORMED', /payload type application\/json is not application\/vnd\.in-toto\+json/);
  });

  it('intoto 0.0.2: a logged payload type that is not in-toto fails STATEMENT_MALFORMED', () => {
    const d = randomDigest();
    const env = signDsse(w.signer, statementPayload(provenance(d.value)), { payloadType: 'text/plain' });
    const { uuid } = w.log.add(intotoV002Entry({ envelope: env, publicKeys: [w.signer.publicKeyPem] }));
    expectFailed(judge(uuid, d.value, keyPolicy), 'statement', 'STATEMENT_MALFORMED', /payload type text\/plain is not/);
  });
});

describe('a Sigstore bundle candidate takes only in-toto payloads', () => {
  it('a v0.3 bundle of a dsse entry whose envelope is of payload type application/json fails STATEMENT_MALFORMED', async () => {
    const d = randomDigest();
    const { signer, leaf } = await keylessSigner(w);
    const env = signDsse(signer, statementPayload(provenance(d.value)), { payloadType: 'application/json' });
    const { uuid } = w.log.add(dsseV001Entry({ envelope: serializeEnvelope(env), verifiers: [leaf.pem] }), {
      integratedTime: Math.floor(leaf.notBefore.getTime() / 1000) + 30,
    });
    const bundle = dsseBundleV03(w.log.logEntry(uuid)?.[uuid] as LogEntryAnon, leaf.der, env);
    const c: BundleCandidate = { kind: 'bundle', uuid, bundle, location: 'registry.local/acme/app@sha256:referrer', sources: ['referrer-bundle'] };
    const out = checkCandidate(c, { digest: parseImageDigest(d.value), trust, policy: keylessPolicy, now: Math.floor(Date.now() / 1000) });
    expectFailed(out, 'statement', 'STATEMENT_MALFORMED', /payload type application\/json is not application\/vnd\.in-toto\+json/);
  });
});

describe('a logged verifier that does not parse fails the candidate, as ENTRY_MALFORMED', () => {
  /** An intoto 0.0.1 entry of the world's signer whose logged verifier is replaced by `pem` (before logging). */
  function loggedWith(pem: string): { uuid: string; digest: string } {
    const d = randomDigest();
    const built = intotoV001Entry({ envelope: signDsse(w.signer, statementPayload(provenance(d.value))), publicKey: w.signer.publicKeyPem });
    built.body.spec.publicKey = b64(pem);
    return { uuid: w.log.add(built).uuid, digest: d.value };
  }

  it('a verifier that is not PEM', () => {
    const e = loggedWith('not a PEM block at all');
    expectFailed(judge(e.uuid, e.digest, keyPolicy), 'attestation', 'ENTRY_MALFORMED', /the logged verifier is not PEM/);
  });

  it('a PUBLIC KEY block that is no key', () => {
    const e = loggedWith('-----BEGIN PUBLIC KEY-----\nAAAAAAAA\n-----END PUBLIC KEY-----\n');
    expectFailed(judge(e.uuid, e.digest, keyPolicy), 'attestation', 'ENTRY_MALFORMED', /the logged public key does not parse/);
  });

  it('a CERTIFICATE block that is no certificate (intoto 0.0.1: judged in the signer step)', () => {
    const e = loggedWith('-----BEGIN CERTIFICATE-----\nAAAAAAAA\n-----END CERTIFICATE-----\n');
    expectFailed(judge(e.uuid, e.digest, keylessPolicy), 'signer', 'ENTRY_MALFORMED', /the logged certificate does not parse/);
  });

  it('a CERTIFICATE block that is no certificate, beside a signature (intoto 0.0.2): a stable failure, not INTERNAL', async () => {
    const d = randomDigest();
    const { signer } = await keylessSigner(w);
    const built = intotoV002Entry({ envelope: signDsse(signer, statementPayload(provenance(d.value))), publicKeys: [signer.publicKeyPem] });
    const sig = built.body.spec.content.envelope.signatures[0];
    if (!sig) throw new Error('no signature');
    sig.publicKey = b64('-----BEGIN CERTIFICATE-----\nAAAAAAAA\n-----END CERTIFICATE-----\n');
    const { uuid } = w.log.add(built);
    expectFailed(judge(uuid, d.value, keylessPolicy), 'attestation', 'ENTRY_MALFORMED', /the logged certificate does not parse/);
  });
});

describe('the body records sha256 digests only: Rekor\'s schema, not a check of ours, refuses another algorithm', () => {
  it('an intoto 0.0.1 payload hash of sha512 fails the entry check (ENTRY_SCHEMA)', () => {
    const d = randomDigest();
    const built = intotoV001Entry({ envelope: signDsse(w.signer, statementPayload(provenance(d.value))), publicKey: w.signer.publicKeyPem });
    const h = built.body.spec.content.payloadHash;
    Object.assign(h, { algorithm: 'sha512', value: `${h.value}${h.value}` });
    const { uuid } = w.log.add(built);
    expectFailed(judge(uuid, d.value, keyPolicy), 'entry', 'ENTRY_SCHEMA', /payloadHash/);
  });
});
