import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { keyDirFiles, policyFromFlags, resolveDirFlags } from '../../src/cli/inputs.ts';
import { fingerprint } from '../../src/trust/public-keys.ts';
import { codeOf } from '../fixtures/errors.ts';

/**
 * The directory flags a Tekton step passes as workspace paths: --key-dir (every public key of a Secret, as
 * Chains' signing-secrets holds cosign.pub beside cosign.key), --policy-dir, --vsa-dir, --vsa-key-dir.
 */
let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const tmp = (): string => (dir = mkdtempSync(path.join(os.tmpdir(), 'rg-dirs-')));
const keyPair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pub = (k: ReturnType<typeof keyPair>): string => k.publicKey.export({ type: 'spki', format: 'pem' }).toString();

/** A Secret volume as the kubelet lays it out: ..data -> a timestamped dir; each key a link through ..data. */
function secretVolume(files: Record<string, string>): string {
  const root = tmp();
  const real = path.join(root, '..2026_12_02_10_00_00.123');
  mkdirSync(real);
  for (const [n, text] of Object.entries(files)) writeFileSync(path.join(real, n), text);
  symlinkSync(path.basename(real), path.join(root, '..data'));
  for (const n of Object.keys(files)) symlinkSync(path.join('..data', n), path.join(root, n));
  return root;
}

describe('--key-dir', () => {
  it('trusts every *.pub and *.pem public key of a mounted Secret, and nothing else in it', () => {
    const a = keyPair();
    const b = generateKeyPairSync('ed25519');
    const d = secretVolume({
      'cosign.pub': pub(a),
      'cosign.key': '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n',
      'cosign.password': 'hunter2',
      'other.pem': b.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    });
    expect(keyDirFiles(d).map((f) => path.basename(f))).toEqual(['cosign.pub', 'other.pem']);
    const policy = policyFromFlags({ keyDir: d });
    expect(policy.keys.map((k) => k.fingerprint).sort()).toEqual([fingerprint(a.publicKey), fingerprint(b.publicKey)].sort());
    expect(policy.keys[0]!.label).toContain('--key-dir');
  });

  it('adds to --key and --public-key', () => {
    const a = keyPair();
    const b = keyPair();
    const d = secretVolume({ 'cosign.pub': pub(a) });
    expect(policyFromFlags({ keyDir: d, publicKey: [pub(b)] }).keys).toHaveLength(2);
  });

  it('fails (never trusts nothing) on a directory without a key file, a missing directory, or a private key', () => {
    const empty = secretVolume({ 'cosign.password': 'x' });
    expect(codeOf(() => policyFromFlags({ keyDir: empty }))).toBe('BAD_KEY');
    expect(codeOf(() => keyDirFiles(path.join(empty, 'nope')))).toBe('USAGE');
    const k = keyPair();
    rmSync(dir, { recursive: true, force: true });
    const priv = secretVolume({ 'signing.pem': k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() });
    expect(() => policyFromFlags({ keyDir: priv })).toThrow(/never pass a private key/);
  });
});

describe('--policy-dir, --vsa-dir, --vsa-key-dir', () => {
  it('stand for the file each directory holds', () => {
    const d = secretVolume({ 'policy.yaml': 'x', 'vsa.key': 'y' });
    expect(resolveDirFlags({ policyDir: d, vsaDir: '/out', vsaKeyDir: d })).toEqual({
      policy: path.join(d, 'policy.yaml'),
      vsa: path.join('/out', 'vsa.json'),
      vsaKey: path.join(d, 'vsa.key'),
    });
    expect(resolveDirFlags({ policy: 'p.yaml', vsa: 'v.json' })).toEqual({ policy: 'p.yaml', vsa: 'v.json', vsaKey: undefined });
    expect(resolveDirFlags({})).toEqual({ policy: undefined, vsa: undefined, vsaKey: undefined });
  });

  it('refuse a directory without the file, or with two candidates', () => {
    const d = secretVolume({ 'policy.yaml': 'x', 'policy.json': '{}' });
    expect(codeOf(() => resolveDirFlags({ policyDir: d }))).toBe('USAGE');
    expect(() => resolveDirFlags({ vsaKeyDir: d })).toThrow(/--vsa-key-dir .* must hold exactly one of vsa\.key \(found 0\)/);
    expect(codeOf(() => resolveDirFlags({ policyDir: path.join(d, 'missing') }))).toBe('USAGE');
  });
});
