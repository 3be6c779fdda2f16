import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keylessSigner, logIntotoV001, provenance, randomDigest, runCli, startWorld, worldFlags, ISSUER, IDENTITY, type World } from '../fixtures/world.ts';

let w: World;
beforeAll(async () => {
  w = await startWorld();
});
afterAll(async () => {
  await w.close();
});

describe('rekor-gate verify (the bundled CLI against the test log)', () => {
  it('verifies a key-signed Chains intoto entry and writes the Tekton results', async () => {
    const d = randomDigest();
    const logged = logIntotoV001(w, provenance(d.value));
    const results = path.join(w.dir, 'results-key');
    const r = await runCli([...worldFlags(w, d.value), '--key', w.keyPath, '--results-dir', results]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`VERIFIED ${d.value}`);
    const read = (n: string) => readFileSync(path.join(results, n), 'utf8');
    expect(read('VERIFIED')).toBe('true');
    expect(read('REKOR_UUID')).toBe(logged.uuid);
    expect(read('REKOR_LOG_INDEX')).toBe(String(logged.logIndex));
    expect(read('SIGNER')).toBe(`sha256:${w.signer.fingerprint}`);
    expect(read('BUILDER_ID')).toBe('https://tekton.dev/chains/v2');
    expect(read('PREDICATE_TYPE')).toBe('https://slsa.dev/provenance/v0.2');
    expect(read('REKOR_LOG_URL')).toBe(`${w.log.url}/api/v1/log/entries/${logged.uuid}`);
  });

  it('verifies a keyless entry by identity and issuer', async () => {
    const d = randomDigest();
    const k = await keylessSigner(w);
    logIntotoV001(w, provenance(d.value), { signer: k.signer, certificatePem: k.certificatePem });
    const r = await runCli([...worldFlags(w, d.value), '--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER, '--output', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.verified).toBe(true);
    expect(out.accepted.signer).toBe(IDENTITY);
  });

  it('rejects a keyless signer whose certificate is not for code signing (serverAuth only): exit 1, CERTIFICATE_USAGE', async () => {
    const d = randomDigest();
    const k = await keylessSigner(w, { extKeyUsages: ['1.3.6.1.5.5.7.3.1'] });
    logIntotoV001(w, provenance(d.value), { signer: k.signer, certificatePem: k.certificatePem });
    const r = await runCli([...worldFlags(w, d.value), '--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER, '--output', 'json']);
    expect(r.code, r.stderr).toBe(1);
    expect(JSON.parse(r.stdout).candidates[0]).toMatchObject({ status: 'failed', check: 'signer', code: 'CERTIFICATE_USAGE' });
  });

  it('reads --certificate-identity-regexp as Go RE2: \\z ends the text (JavaScript would read a literal z)', async () => {
    const d = randomDigest();
    const evil = `${IDENTITY}z-evil`;
    const good = await keylessSigner(w);
    const bad = await keylessSigner(w, { identity: evil });
    const ok = logIntotoV001(w, provenance(d.value), { signer: good.signer, certificatePem: good.certificatePem });
    const no = logIntotoV001(w, provenance(d.value), { signer: bad.signer, certificatePem: bad.certificatePem });
    const re = '^https://github\\.com/acme/app/\\.github/workflows/build\\.yml@refs/heads/main\\z';
    const r = await runCli([...worldFlags(w, d.value), '--certificate-identity-regexp', re, '--certificate-oidc-issuer', ISSUER, '--output', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.accepted.uuid).toBe(ok.uuid);
    expect(out.candidates.find((c: { uuid: string }) => c.uuid === no.uuid)).toMatchObject({ code: 'CERTIFICATE_IDENTITY' });
  });

  it('a backtracking-prone identity regexp against a long SAN does not hang the gate (linear-time RE2)', async () => {
    const d = randomDigest();
    const k = await keylessSigner(w, { identity: `https://x.test/${'a'.repeat(5000)}!` });
    logIntotoV001(w, provenance(d.value), { signer: k.signer, certificatePem: k.certificatePem });
    const r = await runCli([...worldFlags(w, d.value), '--certificate-identity-regexp', '^https://x\\.test/(a+)+$', '--certificate-oidc-issuer', ISSUER, '--output', 'json'], { timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(1);
    expect(JSON.parse(r.stdout).candidates[0]).toMatchObject({ check: 'signer', code: 'CERTIFICATE_IDENTITY' });
  });

  it('rejects an entry signed by an untrusted key (exit 1)', async () => {
    const d = randomDigest();
    logIntotoV001(w, provenance(d.value));
    const other = path.join(w.dir, 'other.pub');
    const { generateSigner } = await import('../fixtures/signers.ts');
    (await import('node:fs')).writeFileSync(other, generateSigner().publicKeyPem);
    const r = await runCli([...worldFlags(w, d.value), '--key', other]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('NOT VERIFIED');
    expect(r.stdout).toContain('SIGNER_UNTRUSTED');
  });

  it('trusts a private log by its public key alone (--rekor-public-key), never a key fetched from the log', async () => {
    const d = randomDigest();
    logIntotoV001(w, provenance(d.value));
    const rekorPub = path.join(w.dir, 'rekor.pub');
    (await import('node:fs')).writeFileSync(rekorPub, w.log.publicKeyPem);
    const args = ['verify', '--image-digest', d.value, '--rekor-url', w.log.url, '--rekor-public-key', rekorPub, '--key', w.keyPath, '--output', 'json'];
    const r = await runCli(args);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).accepted.signer).toBe(`sha256:${w.signer.fingerprint}`);
    expect(w.log.requests.some((q) => q.path.includes('/api/v1/log/publicKey'))).toBe(false);
  });

  it('verifies keyless against a private log key with the CAs of a trusted root', async () => {
    const d = randomDigest();
    const k = await keylessSigner(w);
    logIntotoV001(w, provenance(d.value), { signer: k.signer, certificatePem: k.certificatePem });
    const rekorPub = path.join(w.dir, 'rekor.pub');
    (await import('node:fs')).writeFileSync(rekorPub, w.log.publicKeyPem);
    const args = ['verify', '--image-digest', d.value, '--rekor-url', w.log.url, '--rekor-public-key', rekorPub, '--trusted-root', w.trustedRootPath];
    const r = await runCli([...args, '--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
  });
});
