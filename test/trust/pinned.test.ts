import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/errors.ts';
import { loadTrust, parseTrustedRootDigest, type TrustInputNames } from '../../src/trust/index.ts';
import { corpus, trustedRootPath } from '../corpus/corpus.ts';
import { gateError, rejection } from '../fixtures/errors.ts';

const file = trustedRootPath('staging');
const digest = `sha256:${createHash('sha256').update(readFileSync(file)).digest('hex')}`;

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
    await expect(loadTrust({ trustedRootPath: file, trustedRootDigest: digest })).resolves.toMatchObject({ ctlogCount: 5 });
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
    const keyPath = path.join(corpus, 'trust', 'rekor.staging.pub.pem');
    const err = await rejection(loadTrust({ rekorPublicKeyPath: keyPath, trustedRootDigest: digest }));
    expect(err.code).toBe('USAGE');
  });

  it('--trusted-root and a TUF mirror together: a usage error', async () => {
    const err = await rejection(loadTrust({ trustedRootPath: file, tufMirror: 'https://tuf.example' }));
    expect(err.code).toBe('USAGE');
    expect(err.message).toContain('give one');
  });
});
