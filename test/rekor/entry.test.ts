import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeEntry } from '../../src/rekor/entry.ts';
import { hasBodySchema, validateBody } from '../../src/rekor/schemas.ts';
import { toTransparencyLogEntry } from '../../src/rekor/tlog-entry.ts';
import type { LogEntryAnon } from '../../src/rekor/types.ts';
import { entryFiles, loadEntry } from '../corpus/corpus.ts';
import { gateError } from '../fixtures/errors.ts';

const leaf = (body: Buffer): string => createHash('sha256').update(Buffer.from([0])).update(body).digest('hex');

/** An entry whose UUID is recomputed for a new body (so that the checks after the UUID are reached). */
function withBody(raw: LogEntryAnon, body: Buffer): { uuid: string; raw: LogEntryAnon } {
  return { uuid: leaf(body), raw: { ...raw, body: body.toString('base64') } };
}

describe('decodeEntry on the corpus', () => {
  it.each(entryFiles())('%s decodes', (file) => {
    const { uuid, raw } = loadEntry(file);
    const e = decodeEntry(uuid, raw);
    expect(e.uuid).toBe(uuid);
    expect(e.leafHash).toBe(uuid.slice(-64));
    expect(e.treeID).toBe(uuid.length === 80 ? uuid.slice(0, 16) : undefined);
    expect(e.logIndex).toBe(raw.logIndex);
    expect(`${e.kind}-${e.apiVersion}`).toBe(file.split('__')[0]);
    expect(e.supported).toBe(['intoto', 'dsse', 'hashedrekord'].includes(e.kind));
    if (!e.supported) expect(e.unsupportedReason).toMatch(/not one rekor-gate reads/);
    expect(e.body.toString('base64')).toBe(raw.body);
  });

  it('decodes attestation.data of an intoto entry', () => {
    const { uuid, raw } = loadEntry('intoto-0.0.1__slsa-verifier-container-v1.9.0__521e543bfd8d.with-attestation.json');
    const e = decodeEntry(uuid, raw);
    const statement = JSON.parse((e.attestation as Buffer).toString('utf8')) as { _type: string };
    expect(statement._type).toBe('https://in-toto.io/Statement/v0.1');
    // What the intoto 0.0.1 binding relies on: the body's payloadHash is the sha256 of attestation.data.
    const spec = e.spec as { content: { payloadHash: { value: string } } };
    expect(createHash('sha256').update(e.attestation as Buffer).digest('hex')).toBe(spec.content.payloadHash.value);
  });

  it('accepts an upper-case UUID and reports it lower-case', () => {
    const { uuid, raw } = loadEntry('dsse-0.0.1__cosign-oci-attestation__1d35142cf4d1.json');
    expect(decodeEntry(uuid.toUpperCase(), raw).uuid).toBe(uuid);
  });
});

describe('decodeEntry rejections', () => {
  const base = loadEntry('dsse-0.0.1__cosign-oci-attestation__1d35142cf4d1.json');

  it('a tampered body: ENTRY_UUID_MISMATCH naming the UUID and the leaf hash check', () => {
    const body = Buffer.from(base.raw.body, 'base64');
    body.writeUInt8(body.readUInt8(body.length - 3) ^ 1, body.length - 3);
    const err = gateError(() => decodeEntry(base.uuid, { ...base.raw, body: body.toString('base64') }));
    expect(err.code).toBe('ENTRY_UUID_MISMATCH');
    expect(err.message).toContain(base.uuid);
    expect(err.message).toMatch(/UUID check failed.*leaf hash/);
  });

  it('a UUID naming another entry: ENTRY_UUID_MISMATCH', () => {
    const other = loadEntry('hashedrekord-0.0.1__gitsign__71f37cf7fa41.json');
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
    const { uuid, raw } = loadEntry('dsse-0.0.1__cosign-oci-attestation__1d35142cf4d1.json');
    const t = toTransparencyLogEntry(decodeEntry(uuid, raw));
    const proof = raw.verification?.inclusionProof;
    expect(t.logIndex).toBe('175508996');
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
    const { uuid, raw } = loadEntry('rekord-0.0.1__rekor-release-verify-md__b6fdc91e6af5.json');
    const noSet = { ...raw, verification: { ...raw.verification, signedEntryTimestamp: undefined } } as LogEntryAnon;
    const t = toTransparencyLogEntry(decodeEntry(uuid, noSet));
    expect(t.inclusionProof).toBeUndefined();
    expect(t.inclusionPromise).toBeUndefined();
  });
});
