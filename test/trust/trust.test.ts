import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitCodeFor, type GateError } from '../../src/errors.ts';
import { loadTrust, trustFromRekorPublicKey, trustFromTrustedRoot } from '../../src/trust/index.ts';
import { conformanceDir, readJSON, trustedRootJSON } from '../corpus/corpus.ts';
import { createTestCA } from '../fixtures/ca.ts';
import { gateError } from '../fixtures/errors.ts';
import { logIdHex } from '../fixtures/rekor-log/encoding.ts';
import { generateSigner } from '../fixtures/signers.ts';
import { corpusDir, describeWithTestData } from '../fixtures/test-data.ts';
import { buildTrustedRoot, type TrustedRootJSON } from '../fixtures/trusted-root.ts';
import { closedLoopbackPort } from '../fixtures/loopback-guard.ts';
import { writeTufRepo } from '../fixtures/tuf-repo.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'rekor-gate-trust-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = path.join(tmp, name);
  writeFileSync(file, text);
  return file;
}

const hex = (b: Buffer): string => b.toString('hex');

// A trusted root of two test logs, a test CA and its CT log, and the key of a third log (a private log's PEM).
const logKeys = [generateSigner(), generateSigner()];
const privateLog = generateSigner();
let root: () => TrustedRootJSON;
let rootPath: string;
let keyPath: string;
beforeAll(async () => {
  const ca = await createTestCA();
  const made = buildTrustedRoot({ logs: logKeys.map((k, i) => ({ origin: `log${i}.test`, publicKeyPem: k.publicKeyPem })), cas: ca });
  root = () => structuredClone(made);
  rootPath = write('trusted_root.json', JSON.stringify(made));
  keyPath = write('rekor.pub', privateLog.publicKeyPem);
});

describe('trustFromTrustedRoot', () => {
  it('loads a trusted root: its logs by log ID, its CAs and CT logs', () => {
    const t = trustFromTrustedRoot(root(), 'test root');
    expect(t.material.tlogs.map((l) => l.baseURL)).toEqual(['https://log0.test', 'https://log1.test']);
    expect(t.material.tlogs.map((l) => hex(l.logID))).toEqual(logKeys.map((k) => logIdHex(k.publicKey)));
    expect(t).toMatchObject({ source: 'test root', ctlogCount: 1, caCount: 1 });
  });

  it('rejects a tlog key without validFor.start (as conformance trust-root-tlog-missing-validity-start_fail)', () => {
    const r = root() as unknown as { tlogs: { publicKey: { validFor: { start?: string } } }[] };
    delete r.tlogs[1]!.publicKey.validFor.start;
    const err = gateError(() => trustFromTrustedRoot(r, 'case root'));
    expect(err.code).toBe('BAD_TRUST_ROOT');
    expect(err.message).toMatch(/^case root: .*\/tlogs\/1\/publicKey\/validFor must have required property 'start'/);
    expect(exitCodeFor(err)).toBe(2);
  });

  it('accepts protobuf JSON nulls (a tlog validity end and checkpointKeyId of null)', () => {
    const r = root() as unknown as { tlogs: Record<string, any>[] };
    r.tlogs[0]!['publicKey'].validFor = { start: '2021-01-01T00:00:00Z', end: '2023-07-12T15:56:36Z' };
    r.tlogs[1]!['publicKey'].validFor.end = null;
    r.tlogs[1]!['checkpointKeyId'] = null;
    const t = trustFromTrustedRoot(r, 'case root');
    expect(t.material.tlogs[0]?.validFor.end.toISOString()).toBe('2023-07-12T15:56:36.000Z');
  });

  it.each([
    ['not an object', () => 'nope'],
    ['no tlogs', () => ({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: [] })],
    ['another media type', () => ({ ...root(), mediaType: 'application/json' })],
    ['a tlog key that is not base64', () => {
      const r = root();
      r.tlogs[0]!.publicKey.rawBytes = '***';
      return r;
    }],
    ['a tlog key that is not a key', () => {
      const r = root();
      r.tlogs[0]!.publicKey.rawBytes = 'AAAA';
      return r;
    }],
  ])('rejects %s: BAD_TRUST_ROOT', (_, json) => {
    expect(gateError(() => trustFromTrustedRoot(json(), 'x')).code).toBe('BAD_TRUST_ROOT');
  });
});

describe('trustFromRekorPublicKey', () => {
  const pem = privateLog.publicKeyPem;

  it('derives the log ID as sha256 of the SPKI DER', () => {
    const t = trustFromRekorPublicKey(pem, undefined, 'log pem');
    expect(t.material.tlogs.map((l) => hex(l.logID))).toEqual([logIdHex(privateLog.publicKey)]);
    expect(t).toMatchObject({ source: 'log pem', caCount: 0, ctlogCount: 0 });
    expect(t.material.certificateAuthorities).toEqual([]);
  });

  it('takes CAs, CT logs and TSAs (not logs) from caTrust', () => {
    const ca = trustFromTrustedRoot(root(), 'test root');
    const t = trustFromRekorPublicKey(pem, ca, 'log pem');
    expect(t.material.tlogs).toHaveLength(1);
    expect(t.material.certificateAuthorities).toBe(ca.material.certificateAuthorities);
    expect(t.material.ctlogs).toBe(ca.material.ctlogs);
    expect(t.material.timestampAuthorities).toBe(ca.material.timestampAuthorities);
    expect(t).toMatchObject({ source: 'log pem + test root', caCount: ca.caCount, ctlogCount: ca.ctlogCount });
  });

  it.each([
    ['garbage', 'not a key'],
    // as conformance managed-key-wrong-key_fail's key.pub: a PEM whose base64 body is damaged
    ['a corrupted PEM', pem.replace(/\n([A-Za-z0-9+/]{20})/, '\n$1!!!!')],
    ['two keys', pem + pem],
    ['a private key', generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string],
  ])('rejects %s: BAD_KEY', (_, text) => {
    const err = gateError(() => trustFromRekorPublicKey(text, undefined, 'k.pem'));
    expect(err.code).toBe('BAD_KEY');
    expect(err.message).toMatch(/^k\.pem: /);
  });
});

describe('loadTrust', () => {
  it('loads --trusted-root once and reuses it', async () => {
    const a = await loadTrust({ trustedRootPath: rootPath });
    const b = await loadTrust({ trustedRootPath: path.relative(process.cwd(), rootPath) });
    expect(a).toBe(b);
    expect(a.source).toBe(`trusted root ${rootPath}`);
  });

  it('--rekor-public-key, with the CAs of --trusted-root', async () => {
    const t = await loadTrust({ rekorPublicKeyPath: keyPath, trustedRootPath: rootPath });
    expect(t.material.tlogs.map((l) => hex(l.logID))).toEqual([logIdHex(privateLog.publicKey)]);
    expect(t.caCount).toBe(1);
    expect(t.source).toBe(`Rekor public key ${keyPath} + trusted root ${rootPath}`);
  });

  it.each([
    ['a missing trusted root', { trustedRootPath: path.join(tmp, 'missing.json') }, 'BAD_TRUST_ROOT', /cannot be read/],
    ['a trusted root that is not JSON', { trustedRootPath: write('bad.json', '{') }, 'BAD_TRUST_ROOT', /not JSON/],
    ['a missing Rekor key', { rekorPublicKeyPath: path.join(tmp, 'missing.pem') }, 'BAD_KEY', /cannot be read/],
    ['a Rekor key that is not PEM', { rekorPublicKeyPath: write('bad.pem', 'hello') }, 'BAD_KEY', /no PEM public key/],
  ])('%s fails with a usage error', async (_, opts, code, message) => {
    const err = await loadTrust(opts).then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string },
    );
    expect(err).toMatchObject({ code, message: expect.stringMatching(message) });
    expect(exitCodeFor(err)).toBe(2);
  });

  it('a failed load is not cached', async () => {
    const file = path.join(tmp, 'later.json');
    await expect(loadTrust({ trustedRootPath: file })).rejects.toMatchObject({ code: 'BAD_TRUST_ROOT' });
    writeFileSync(file, JSON.stringify(root()));
    await expect(loadTrust({ trustedRootPath: file })).resolves.toMatchObject({ ctlogCount: 1 });
  });

  it('TUF from a repository that cannot be reached (a closed loopback port): a NETWORK error hinting at a trusted root file', async () => {
    // A mirror, not the public-good repository: tests stay on loopback (test/setup/hermetic.ts).
    const mirror = `http://127.0.0.1:${await closedLoopbackPort()}`;
    const repo = writeTufRepo(path.join(tmp, 'unreachable-repo'), { 'trusted_root.json': JSON.stringify(root()) });
    const err = await loadTrust({ tufMirror: mirror, tufRoot: repo.rootPath, tufCacheDir: path.join(tmp, 'tuf'), timeoutMs: 2_000 }).then(
      () => undefined,
      (e: unknown) => e as GateError,
    );
    expect(err?.code).toBe('NETWORK');
    expect(err?.message).toContain(`TUF repository ${mirror} could not be reached`);
    expect(err?.hint).toEqual({ give: 'trusted-root-file' });
    expect(exitCodeFor(err)).toBe(3);
  });

  it('an unusable TUF cache directory: BAD_TRUST_ROOT', async () => {
    const file = write('not-a-dir', '');
    await expect(loadTrust({ tufCacheDir: path.join(file, 'sub') })).rejects.toMatchObject({
      code: 'BAD_TRUST_ROOT',
      message: expect.stringMatching(/TUF cache .* is unusable/),
      hint: { give: 'other-tuf-cache' },
    });
  });
});

describeWithTestData(import.meta.url, 'the production and staging trusted roots and the conformance trust roots (corpus/)', 'the real trust roots', () => {
  const PROD_LOG_ID = 'c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d';

  it('loads the production and staging roots', () => {
    const prod = trustFromTrustedRoot(trustedRootJSON('production'), 'prod');
    expect(prod.material.tlogs.map((t) => t.baseURL)).toEqual(['https://rekor.sigstore.dev', 'https://log2025-1.rekor.sigstore.dev']);
    expect(hex(prod.material.tlogs[0]!.logID)).toBe(PROD_LOG_ID);
    expect(prod).toMatchObject({ source: 'prod', ctlogCount: 2, caCount: 2 });
    expect(prod.material.timestampAuthorities).toHaveLength(1);
    const staging = trustFromTrustedRoot(trustedRootJSON('staging'), 'staging');
    expect(staging.material.tlogs).toHaveLength(5);
  });

  it('the production key gives the production log ID', () => {
    const pem = readFileSync(corpusDir('trust', 'rekor.production.pub.pem'), 'utf8');
    expect(trustFromRekorPublicKey(pem).material.tlogs.map((l) => hex(l.logID))).toEqual([PROD_LOG_ID]);
  });

  it('rejects conformance trust-root-tlog-missing-validity-start_fail', () => {
    const r = readJSON(path.join(conformanceDir(), 'trust-root-tlog-missing-validity-start_fail', 'trusted_root.json'));
    const err = gateError(() => trustFromTrustedRoot(r, 'case root'));
    expect(err.code).toBe('BAD_TRUST_ROOT');
    expect(err.message).toMatch(/^case root: .*\/tlogs\/1\/publicKey\/validFor must have required property 'start'/);
  });

  it('accepts conformance trust-root-tlog-validity-end-inclusive (protobuf JSON nulls)', () => {
    const r = readJSON(path.join(conformanceDir(), 'trust-root-tlog-validity-end-inclusive', 'trusted_root.json'));
    expect(trustFromTrustedRoot(r, 'case root').material.tlogs[0]?.validFor.end.toISOString()).toBe('2023-07-12T15:56:36.000Z');
  });

  it('rejects the damaged key.pub of conformance managed-key-wrong-key_fail: BAD_KEY', () => {
    const text = readFileSync(path.join(conformanceDir(), 'managed-key-wrong-key_fail', 'key.pub'), 'utf8');
    expect(gateError(() => trustFromRekorPublicKey(text, undefined, 'k.pem')).code).toBe('BAD_KEY');
  });
});
