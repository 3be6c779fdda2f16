import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/errors.ts';
import { loadTrust, parseTrustedRootDigest, type TrustInputNames } from '../../src/trust/index.ts';
import { createTestCA } from '../fixtures/ca.ts';
import { gateError, rejection } from '../fixtures/errors.ts';
import { generateSigner } from '../fixtures/signers.ts';
import { buildTrustedRoot, writeTrustedRoot } from '../fixtures/trusted-root.ts';

// A trusted root of a test log, a test CA and its CT log, written as a file (what --trusted-root reads).
const dir = mkdtempSync(path.join(tmpdir(), 'rekor-gate-pinned-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const logKey = generateSigner();
const keyPath = path.join(dir, 'rekor.pub');
let file: string;
let digest: string;
beforeAll(async () => {
  const ca = await createTestCA();
  file = await writeTrustedRoot(dir, buildTrustedRoot({ logs: { origin: 'rekor.test.internal', publicKeyPem: logKey.publicKeyPem }, cas: ca }));
  digest = `sha256:${createHash('sha256').update(readFileSync(file)).digest('hex')}`;
  writeFileSync(keyPath, logKey.publicKeyPem);
});

describe('--trusted-root-digest', () => {
  it('takes sha256:<64 hex> in either case, and nothing else', () => {
    expect(parseTrustedRootDigest(` ${digest.toUpperCase().replace('SHA256', 'sha256')} `)).toBe(digest);
    for (const bad of ['', digest.slice(7), `sha512:${digest.slice(7)}`, `${digest}0`, `sha256:${'g'.repeat(64)}`]) {
      const err = gateError(() => parseTrustedRootDigest(bad));
      expect(err.code).toBe('USAGE');
      expect(exitCodeFor(err)).toBe(2);
    }
  });

  it('loads a --trusted-root whose bytes hash to the pin', async () => {
    await expect(loadTrust({ trustedRootPath: file, trustedRootDigest: digest })).resolves.toMatchObject({ ctlogCount: 1 });
  });

  it('refuses one whose bytes do not, naming the file and both digests', async () => {
    const other = `sha256:${'0'.repeat(64)}`;
    const err = await rejection(loadTrust({ trustedRootPath: file, trustedRootDigest: other }));
    expect(err.code).toBe('BAD_TRUST_ROOT');
    expect(err.message).toBe(`trusted root ${file}: the trusted root's digest is ${digest}, but the pin given pins ${other}`);
  });

  it('names the inputs as the caller does (the CLI: its flags)', async () => {
    const other = `sha256:${'1'.repeat(64)}`;
    const names: TrustInputNames = { trustedRoot: 'ROOT', rekorPublicKey: 'KEY', trustedRootDigest: 'PIN', tufMirror: 'MIRROR', tufRoot: 'TUF_ROOT', offline: 'OFFLINE' };
    const err = await rejection(loadTrust({ trustedRootPath: file, trustedRootDigest: other, names }));
    expect(err.message).toBe(`ROOT ${file}: the trusted root's digest is ${digest}, but PIN pins ${other}`);
    expect(gateError(() => parseTrustedRootDigest('sha256:abc', 'PIN')).message).toBe('PIN must be sha256:<64 hex>, got "sha256:abc"');
    const both = await rejection(loadTrust({ trustedRootPath: file, tufMirror: 'https://tuf.example', names }));
    expect(both.message).toBe(`ROOT ${file} and MIRROR / TUF_ROOT both name the trusted root: give one`);
  });

  it('is a usage error when no trusted root is loaded at all (a private log key alone)', async () => {
    const err = await rejection(loadTrust({ rekorPublicKeyPath: keyPath, trustedRootDigest: digest }));
    expect(err.code).toBe('USAGE');
  });

  it('--trusted-root and a TUF mirror together: a usage error', async () => {
    const err = await rejection(loadTrust({ trustedRootPath: file, tufMirror: 'https://tuf.example' }));
    expect(err.code).toBe('USAGE');
    expect(err.message).toContain('give one');
  });
});
