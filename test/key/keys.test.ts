import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseLoggedSigner } from '../../src/key/keys.ts';
import { fingerprint, parseTrustedKeys } from '../../src/trust/public-keys.ts';
import { codeOf } from '../fixtures/errors.ts';

const pem = (k: ReturnType<typeof generateKeyPairSync>['publicKey']) => k.export({ type: 'spki', format: 'pem' }).toString();

describe('trusted keys', () => {
  it('accepts ECDSA P-256/P-384/P-521, RSA and Ed25519 PEM keys', () => {
    const keys = [
      generateKeyPairSync('ec', { namedCurve: 'P-256' }),
      generateKeyPairSync('ec', { namedCurve: 'P-384' }),
      generateKeyPairSync('ec', { namedCurve: 'P-521' }),
      generateKeyPairSync('rsa', { modulusLength: 2048 }),
      generateKeyPairSync('ed25519'),
    ];
    for (const k of keys) {
      const [t] = parseTrustedKeys(pem(k.publicKey), 'k.pub');
      expect(t?.fingerprint).toBe(fingerprint(k.publicKey));
    }
  });

  it('reads several PEM blocks from one text (as pasted in a Kyverno policy)', () => {
    const a = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const b = generateKeyPairSync('ed25519');
    expect(parseTrustedKeys(`${pem(a.publicKey)}\n${pem(b.publicKey)}`, 'param')).toHaveLength(2);
  });

  it('rejects junk, private keys and unsupported curves as bad input (exit 2)', () => {
    expect(codeOf(() => parseTrustedKeys('hello', 'junk.pem'))).toBe('BAD_KEY');
    expect(codeOf(() => parseTrustedKeys('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n', 'bad.pem'))).toBe('BAD_KEY');
    const priv = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(codeOf(() => parseTrustedKeys(priv, 'priv.pem'))).toBe('BAD_KEY');
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    expect(codeOf(() => parseTrustedKeys(pem(k1.publicKey), 'k1.pem'))).toBe('BAD_KEY');
  });

  it('tells a logged key from a logged certificate', () => {
    const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const s = parseLoggedSigner(pem(k.publicKey), 'e');
    expect(s.kind).toBe('key');
    expect(codeOf(() => parseLoggedSigner('nope', 'e'))).toBe('ENTRY_MALFORMED');
  });
});
