import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeEntry } from '../../src/rekor/entry.ts';
import { hasBodySchema, validateBody } from '../../src/rekor/schemas.ts';
import { toTransparencyLogEntry } from '../../src/rekor/tlog-entry.ts';
import type { LogEntryAnon } from '../../src/rekor/types.ts';
import type { LogEntryResponse } from '../../src/rekor/types.ts';
import { entryFiles, loadEntry } from '../corpus/corpus.ts';
import { gateError } from '../fixtures/errors.ts';
import { dsseV001Entry, hashedrekordV001Entry, intotoV001Entry, intotoV002Entry, startTestLog } from '../fixtures/rekor-log/index.ts';
import { generateSigner, signDsse } from '../fixtures/signers.ts';
import { imageSubject, slsaV1Statement } from '../fixtures/statements.ts';
import { describeWithTestData } from '../fixtures/test-data.ts';

const leaf = (body: Buffer): string => createHash('sha256').update(Buffer.from([0])).update(body).digest('hex');

/** An entry whose UUID is recomputed for a new body (so that the checks after the UUID are reached). */
function withBody(raw: LogEntryAnon, body: Buffer): { uuid: string; raw: LogEntryAnon } {
  return { uuid: leaf(body), raw: { ...raw, body: body.toString('base64') } };
}

/** What decodeEntry must give for any entry: the UUID's parts, the index, the kind, whether it reads the spec. */
function expectDecodes(uuid: string, raw: LogEntryAnon, kindVersion: string): void {
  const e = decodeEntry(uuid, raw);
  expect(e.uuid).toBe(uuid);
  expect(e.leafHash).toBe(uuid.slice(-64));
  expect(e.treeID).toBe(uuid.length === 80 ? uuid.slice(0, 16) : undefined);
  expect(e.logIndex).toBe(raw.logIndex);
  expect(`${e.kind}-${e.apiVersion}`).toBe(kindVersion);
  expect(e.supported).toBe(['intoto', 'dsse', 'hashedrekord'].includes(e.kind));
  if (!e.supported) expect(e.unsupportedReason).toMatch(/not one rekor-gate reads/);
  expect(e.body.toString('base64')).toBe(raw.body);
}

/** An intoto 0.0.1 entry with attestation.data: the statement, and the body's payloadHash is its sha256 (what the binding relies on). */
function expectAttestation(uuid: string, raw: LogEntryAnon, statementType: string): void {
  const e = decodeEntry(uuid, raw);
  const statement = JSON.parse((e.attestation as Buffer).toString('utf8')) as { _type: string };
  expect(statement._type).toBe(statementType);
  const spec = e.spec as { content: { payloadHash: { value: string } } };
  expect(createHash('sha256').update(e.attestation as Buffer).digest('hex')).toBe(spec.content.payloadHash.value);
}

type Logged = { uuid: string; raw: LogEntryAnon };
/** One entry of each kind the test log makes (intoto 0.0.1 with its attestation, intoto 0.0.2, dsse 0.0.1, hashedrekord 0.0.1), and one of a kind rekor-gate does not read. */
const made: Record<'intoto-0.0.1' | 'intoto-0.0.2' | 'dsse-0.0.1' | 'hashedrekord-0.0.1' | 'rekord-0.0.1', Logged> = {} as never;

beforeAll(async () => {
  const log = await startTestLog();
  const signer = generateSigner();
  const env = signDsse(signer, slsaV1Statement({ subjects: [imageSubject('r.test/a', `sha256:${'5b'.repeat(32)}`)], builderId: 'https://b.test' }));
  const logged = (r: { uuid: string }): Logged => ({ uuid: r.uuid, raw: Object.values(log.logEntry(r.uuid) as LogEntryResponse)[0] as LogEntryAnon });
  made['intoto-0.0.1'] = logged(log.add(intotoV001Entry({ envelope: env, publicKey: signer.publicKeyPem })));
  made['intoto-0.0.2'] = logged(log.add(intotoV002Entry({ envelope: env, publicKeys: [signer.publicKeyPem] })));
  made['dsse-0.0.1'] = logged(log.add(dsseV001Entry({ envelope: env, verifiers: [signer.publicKeyPem] })));
  const digest = createHash('sha256').update('an image manifest').digest();
  made['hashedrekord-0.0.1'] = logged(
    log.add(hashedrekordV001Entry({ digest: { algorithm: 'sha256', hex: digest.toString('hex') }, signature: signer.sign(digest), publicKey: signer.publicKeyPem })),
  );
  made['rekord-0.0.1'] = logged(log.addEntry({ apiVersion: '0.0.1', kind: 'rekord', spec: { data: {}, signature: {} } }));
  await log.close();
});

const entry = (k: keyof typeof made): Logged => structuredClone(made[k]);

describe('decodeEntry on entries of every kind', () => {
  it.each(['intoto-0.0.1', 'intoto-0.0.2', 'dsse-0.0.1', 'hashedrekord-0.0.1', 'rekord-0.0.1'] as const)('%s decodes', (k) => {
    const { uuid, raw } = entry(k);
    expect(uuid).toHaveLength(80);
    expectDecodes(uuid, raw, k);
  });

  it('decodes attestation.data of an intoto entry', () => {
    const { uuid, raw } = entry('intoto-0.0.1');
    expectAttestation(uuid, raw, 'https://in-toto.io/Statement/v1');
  });

  it('accepts an upper-case UUID and reports it lower-case', () => {
    const { uuid, raw } = entry('dsse-0.0.1');
    expect(decodeEntry(uuid.toUpperCase(), raw).uuid).toBe(uuid);
  });
});

describe('decodeEntry rejections', () => {
  let base: Logged;
  beforeAll(() => {
    base = entry('dsse-0.0.1');
  });

  it('a tampered body: ENTRY_UUID_MISMATCH naming the UUID and the leaf hash check', () => {
    const body = Buffer.from(base.raw.body, 'base64');
    body.writeUInt8(body.readUInt8(body.length - 3) ^ 1, body.length - 3);
    const err = gateError(() => decodeEntry(base.uuid, { ...base.raw, body: body.toString('base64') }));
    expect(err.code).toBe('ENTRY_UUID_MISMATCH');
    expect(err.message).toContain(base.uuid);
    expect(err.message).toMatch(/UUID check failed.*leaf hash/);
  });

  it('a UUID naming another entry: ENTRY_UUID_MISMATCH', () => {
    const other = entry('hashedrekord-0.0.1');
    expect(gateError(() => decodeEntry(other.uuid, base.raw)).code).toBe('ENTRY_UUID_MISMATCH');
  });

  it.each([
    ['63 hex', 'a'.repeat(63)],
    ['72 hex', 'a'.repeat(72)],
    ['not hex', 'g'.repeat(64)],
  ])('a UUID of %s: ENTRY_MALFORMED', (_, uuid) => {
    expect(gateError(() => decodeEntry(uuid, base.raw)).code).toBe('ENTRY_MALFORMED');
  });

  it.each([
    ['logID not hex', { logID: 'zz' }],
    ['body not base64', { body: '!!!' }],
    ['negative logIndex', { logIndex: -1 }],
    ['SET not base64', { verification: { signedEntryTimestamp: 'no base64!' } }],
    ['proof without hashes', { verification: { inclusionProof: { logIndex: 0, rootHash: 'ab'.repeat(32), treeSize: 1 } } }],
  ])('a response with %s: ENTRY_MALFORMED (ajv)', (_, patch) => {
    const err = gateError(() => decodeEntry(base.uuid, { ...base.raw, ...patch } as LogEntryAnon));
    expect(err.code).toBe('ENTRY_MALFORMED');
    expect(err.message).toContain('malformed');
  });

  it('a body that is not JSON: ENTRY_MALFORMED', () => {
    const { uuid, raw } = withBody(base.raw, Buffer.from('not json'));
    expect(gateError(() => decodeEntry(uuid, raw))).toMatchObject({ code: 'ENTRY_MALFORMED', message: expect.stringContaining('not JSON') });
  });

  it('a body without kind/apiVersion/spec: ENTRY_SCHEMA', () => {
    const { uuid, raw } = withBody(base.raw, Buffer.from('{"kind":"dsse"}'));
    expect(gateError(() => decodeEntry(uuid, raw)).code).toBe('ENTRY_SCHEMA');
  });

  it('a dsse 0.0.1 body failing Rekor schema: ENTRY_SCHEMA naming the kind and the path', () => {
    const body = Buffer.from(JSON.stringify({ apiVersion: '0.0.1', kind: 'dsse', spec: { envelopeHash: { algorithm: 'md5', value: 'x' } } }));
    const { uuid, raw } = withBody(base.raw, body);
    const err = gateError(() => decodeEntry(uuid, raw));
    expect(err.code).toBe('ENTRY_SCHEMA');
    expect(err.message).toMatch(/dsse 0\.0\.1 body fails Rekor's schema/);
  });

  it('an unknown kind decodes as unsupported (log-level checks still possible)', () => {
    const body = Buffer.from(JSON.stringify({ apiVersion: '0.0.1', kind: 'helm', spec: {} }));
    const { uuid, raw } = withBody(base.raw, body);
    const e = decodeEntry(uuid, raw);
    expect(e.supported).toBe(false);
    expect(e.unsupportedReason).toContain('helm 0.0.1');
  });
});

describe('validateBody', () => {
  it('knows the four supported kinds', () => {
    expect(['intoto/0.0.1', 'intoto/0.0.2', 'dsse/0.0.1', 'hashedrekord/0.0.1'].every((k) => hasBodySchema(...(k.split('/') as [string, string])))).toBe(true);
    expect(hasBodySchema('dsse', '0.0.2')).toBe(false);
    expect(hasBodySchema('rekord', '0.0.1')).toBe(false);
  });

  it('checks the spec against the version named', () => {
    const body = { kind: 'intoto', apiVersion: '0.0.2', spec: { content: {} } };
    expect(validateBody('intoto', '0.0.2', body)).toMatch(/^\/spec\/content must have required property 'envelope'/);
    expect(validateBody('intoto', '0.0.1', body)).toMatch(/expected intoto\/0\.0\.1/);
    expect(validateBody('rekord', '0.0.1', { ...body, kind: 'rekord', apiVersion: '0.0.1' })).toMatch(/no schema/);
  });
});

describe('toTransparencyLogEntry', () => {
  it('keeps the global index on the entry and the shard index on the proof', () => {
    const { uuid, raw } = entry('dsse-0.0.1');
    const t = toTransparencyLogEntry(decodeEntry(uuid, raw));
    const proof = raw.verification?.inclusionProof;
    expect(t.logIndex).toBe(String(raw.logIndex));
    expect(t.inclusionProof?.logIndex).toBe(String(proof?.logIndex));
    expect(t.inclusionProof?.logIndex).not.toBe(t.logIndex);
    expect(t.inclusionProof?.treeSize).toBe(String(proof?.treeSize));
    expect(t.inclusionProof?.rootHash.toString('hex')).toBe(proof?.rootHash);
    expect(t.inclusionProof?.hashes.map((h) => h.toString('hex'))).toEqual(proof?.hashes);
    expect(t.inclusionProof?.checkpoint?.envelope).toBe(proof?.checkpoint);
    expect(t.logId.keyId.toString('hex')).toBe(raw.logID);
    expect(t.kindVersion).toEqual({ kind: 'dsse', version: '0.0.1' });
    expect(t.integratedTime).toBe(String(raw.integratedTime));
    expect(t.inclusionPromise?.signedEntryTimestamp.toString('base64')).toBe(raw.verification?.signedEntryTimestamp);
    expect(t.canonicalizedBody.toString('base64')).toBe(raw.body);
  });

  it('leaves out an inclusion proof without checkpoint and a missing SET', () => {
    const { uuid, raw } = entry('rekord-0.0.1');
    delete raw.verification?.inclusionProof?.checkpoint;
    const noSet = { ...raw, verification: { ...raw.verification, signedEntryTimestamp: undefined } } as LogEntryAnon;
    const t = toTransparencyLogEntry(decodeEntry(uuid, noSet));
    expect(t.inclusionProof).toBeUndefined();
    expect(t.inclusionPromise).toBeUndefined();
  });
});

describeWithTestData(import.meta.url, 'the recorded Rekor entries (corpus/entries)', 'decodeEntry on the recorded entries', () => {
  it.each(entryFiles())('%s decodes', (file) => {
    const { uuid, raw } = loadEntry(file);
    expectDecodes(uuid, raw, file.split('__')[0]!);
  });

  it('decodes attestation.data of an intoto entry', () => {
    const { uuid, raw } = loadEntry('intoto-0.0.1__slsa-verifier-container-v1.9.0__521e543bfd8d.with-attestation.json');
    expectAttestation(uuid, raw, 'https://in-toto.io/Statement/v0.1');
  });
});
