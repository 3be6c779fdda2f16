import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { crypto as sigcrypto, dsse } from '@sigstore/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateVsa } from '../../src/vsa/index.ts';
import { generateSigner } from '../fixtures/signers.ts';
import { logIntotoV001, provenance, randomDigest, runCli, startWorld, worldFlags, CHAINS_BUILDER, type World } from '../fixtures/world.ts';
import { chainsStatement, CATALOG, promotionBuild, SOURCE } from '../fixtures/chains-provenance.ts';
import type { Statement } from '../fixtures/statements.ts';

let w: World;
beforeAll(async () => {
  w = await startWorld();
});
afterAll(async () => {
  await w.close();
});

let n = 0;
function policyFile(spec: Record<string, unknown>): string {
  const file = path.join(w.dir, `policy-${n++}.json`);
  writeFileSync(file, JSON.stringify({ apiVersion: 'rekor-gate.dev/v1alpha1', kind: 'Policy', spec: { signers: [{ keyPath: w.keyPath }], ...spec } }));
  return file;
}

async function verifyWith(digest: string, extra: string[]) {
  const r = await runCli([...worldFlags(w, digest), ...extra, '--output', 'json']);
  return { ...r, out: r.stdout ? JSON.parse(r.stdout) : undefined };
}

describe('policy files change the verdict, field by field', () => {
  it('signers: the file alone is enough, and an unlisted key fails', async () => {
    const d = randomDigest();
    logIntotoV001(w, provenance(d.value));
    expect((await verifyWith(d.value, ['--policy', policyFile({})])).code).toBe(0);
    const other = generateSigner();
    const d2 = randomDigest();
    logIntotoV001(w, provenance(d2.value), { signer: other });
    const r = await verifyWith(d2.value, ['--policy', policyFile({})]);
    expect(r.code).toBe(1);
    expect(r.out.candidates[0].code).toBe('SIGNER_UNTRUSTED');
  });

  it('builderIds', async () => {
    const d = randomDigest();
    logIntotoV001(w, provenance(d.value));
    expect((await verifyWith(d.value, ['--policy', policyFile({ builderIds: [CHAINS_BUILDER] })])).code).toBe(0);
    const r = await verifyWith(d.value, ['--policy', policyFile({ builderIds: ['https://example.com/other-builder'] })]);
    expect(r.code).toBe(1);
    expect(r.out.candidates[0]).toMatchObject({ check: 'statement', code: 'POLICY' });
  });

  it('predicateTypes, and their intersection with --predicate-type', async () => {
    const d = randomDigest();
    logIntotoV001(w, provenance(d.value));
    const r = await verifyWith(d.value, ['--policy', policyFile({ predicateTypes: ['https://slsa.dev/provenance/v1'] })]);
    expect(r.out.candidates[0].code).toBe('PREDICATE_TYPE');
    const none = await runCli([...worldFlags(w, d.value), '--policy', policyFile({ predicateTypes: ['https://slsa.dev/provenance/v1'] }), '--predicate-type', 'https://slsa.dev/provenance/v0.2']);
    expect(none.code).toBe(2);
  });

  it('predicateSchema', async () => {
    const d = randomDigest();
    logIntotoV001(w, provenance(d.value));
    const ok = policyFile({ predicateSchema: { type: 'object', required: ['builder'] } });
    expect((await verifyWith(d.value, ['--policy', ok])).code).toBe(0);
    const bad = policyFile({ predicateSchema: { type: 'object', required: ['runDetails'] } });
    const r = await verifyWith(d.value, ['--policy', bad]);
    expect(r.out.candidates[0]).toMatchObject({ check: 'statement', code: 'POLICY' });
    expect(r.out.candidates[0].reason).toContain('predicateSchema');
  });

  it('maxAge, judged against the integrated time', async () => {
    const d = randomDigest();
    logIntotoV001(w, provenance(d.value), { integratedTime: Math.floor(Date.now() / 1000) - 3 * 86400 });
    expect((await verifyWith(d.value, ['--policy', policyFile({ maxAge: '7d' })])).code).toBe(0);
    const r = await verifyWith(d.value, ['--policy', policyFile({ maxAge: '48h' })]);
    expect(r.out.candidates[0].code).toBe('POLICY');
  });

  it('minSigners: distinct trusted signers must each have a passing entry', async () => {
    const second = generateSigner();
    const secondPath = path.join(w.dir, 'second.pub');
    writeFileSync(secondPath, second.publicKeyPem);
    const d = randomDigest();
    logIntotoV001(w, provenance(d.value));
    const twoSigners = (file: string) => {
      const p = JSON.parse(readFileSync(file, 'utf8'));
      p.spec.signers.push({ keyPath: secondPath });
      writeFileSync(file, JSON.stringify(p));
      return file;
    };
    const policy = twoSigners(policyFile({ minSigners: 2 }));
    const one = await verifyWith(d.value, ['--policy', policy]);
    expect(one.code).toBe(1);
    expect(one.out.reason).toContain('2 distinct signers');
    logIntotoV001(w, provenance(d.value, { builderId: 'https://tekton.dev/chains/v2#second' }), { signer: second });
    expect((await verifyWith(d.value, ['--policy', policy])).code).toBe(0);
  });

  it('a bad policy file is exit 2 with the path and the line', async () => {
    const file = path.join(w.dir, 'bad.yaml');
    writeFileSync(file, 'apiVersion: rekor-gate.dev/v1alpha1\nkind: Policy\nspec:\n  signers:\n    - keyless:\n        identity: x\n');
    const r = await runCli([...worldFlags(w, randomDigest().value), '--policy', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.yaml:5:\d+/);
    expect(r.stderr).toContain('issuer');
  });
});

describe('verification summary attestation (--vsa)', () => {
  it('names the accepted entries, validates as a SLSA VSA v1, and is signed with --vsa-key', async () => {
    const d = randomDigest();
    const logged = logIntotoV001(w, provenance(d.value));
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keyFile = path.join(w.dir, 'vsa.key');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const plain = path.join(w.dir, 'vsa.json');
    const signed = path.join(w.dir, 'vsa.dsse.json');
    expect((await runCli([...worldFlags(w, d.value), '--key', w.keyPath, '--vsa', plain])).code).toBe(0);
    const st = JSON.parse(readFileSync(plain, 'utf8'));
    expect(validateVsa(st)).toBeUndefined();
    expect(st.predicate.verificationResult).toBe('PASSED');
    expect(st.subject[0].digest.sha256).toBe(d.hex);
    expect(st.predicate.inputAttestations.map((a: { name: string }) => a.name)).toEqual([logged.uuid]);

    expect((await runCli([...worldFlags(w, d.value), '--key', w.keyPath, '--vsa', signed, '--vsa-key', keyFile])).code).toBe(0);
    const env = JSON.parse(readFileSync(signed, 'utf8'));
    const payload = Buffer.from(env.payload, 'base64');
    const pae = dsse.preAuthEncoding(env.payloadType, payload);
    expect(sigcrypto.verify(pae, publicKey, Buffer.from(env.signatures[0].sig, 'base64'))).toBe(true);
    expect(JSON.parse(payload.toString()).predicateType).toBe('https://slsa.dev/verification_summary/v1');
  });

  it('records FAILED when nothing passes', async () => {
    const d = randomDigest();
    const file = path.join(w.dir, 'vsa-failed.json');
    const r = await runCli([...worldFlags(w, d.value), '--key', w.keyPath, '--vsa', file]);
    expect(r.code).toBe(1);
    const st = JSON.parse(readFileSync(file, 'utf8'));
    expect(st.predicate.verificationResult).toBe('FAILED');
    expect(validateVsa(st)).toBeUndefined();
  });

  it('--vsa-upload logs the signed VSA as a dsse entry and checks what the log answered', async () => {
    const d = randomDigest();
    logIntotoV001(w, provenance(d.value));
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keyFile = path.join(w.dir, 'vsa-upload.key');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const file = path.join(w.dir, 'vsa-upload.json');
    const r = await runCli([...worldFlags(w, d.value), '--key', w.keyPath, '--vsa', file, '--vsa-key', keyFile, '--vsa-upload']);
    expect(r.code, r.stderr).toBe(0);
    const m = /VSA logged as entry ([0-9a-f]{80}) \(log index (\d+)\)/.exec(r.stderr);
    expect(m).not.toBeNull();
    const logged = w.log.logEntry(m![1]!)?.[m![1]!];
    const body = JSON.parse(Buffer.from(logged!.body, 'base64').toString());
    expect(body.kind).toBe('dsse');
    const envelopeText = JSON.stringify(JSON.parse(readFileSync(file, 'utf8')));
    expect(body.spec.envelopeHash.value).toBe(createHash('sha256').update(envelopeText).digest('hex'));
    expect(r.stderr).not.toContain('PRIVATE KEY');
  });

  it('--vsa-upload without --vsa-key is a usage error', async () => {
    const r = await runCli([...worldFlags(w, randomDigest().value), '--key', w.keyPath, '--vsa', path.join(w.dir, 'x.json'), '--vsa-upload']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--vsa-upload needs --vsa-key');
  });
});

// Provenance rules and CEL conditions through the built program (dist/, with its CEL worker thread).
/** A Chains PipelineRun's provenance for a new image, logged. */
function logged(format: 'slsa/v1' | 'slsa/v2alpha4'): string {
  const d = randomDigest();
  const st = chainsStatement(promotionBuild(), format, 'slsa-tekton') as unknown as Statement;
  st.subject = [{ name: 'registry.local/acme/app', digest: { sha256: d.hex } }];
  logIntotoV001(w, st);
  return d.value;
}

const verify = (digest: string, policy: string) => verifyWith(digest, ['--policy', policy]);

const PROMOTION = {
  provenance: {
    source: [{ repository: SOURCE.url }],
    trustedTasks: [{ bundle: `${CATALOG}/git-clone` }, { bundle: `${CATALOG}/buildah` }, { git: 'https://github.com/acme/tekton-tasks', path: 'task/' }],
    requiredTasks: [{ name: 'unit-tests', result: { name: 'TEST_OUTPUT', pattern: '"result":"SUCCESS"' } }],
    parameters: { forbidden: [{ name: 'TLSVERIFY', value: 'false' }] },
  },
};

describe('provenance rules and CEL conditions gate the image', () => {
  it.each(['slsa/v1', 'slsa/v2alpha4'] as const)('%s: the promotion policy passes; a failing rule fails with POLICY naming it', async (format) => {
    const d = logged(format);
    const ok = await verify(d, policyFile({ ...PROMOTION, conditions: [{ expression: 'subject.exists(s, s.name.startsWith("registry.local/"))' }] }));
    expect(ok.code, ok.stderr).toBe(0);
    const bad = await verify(d, policyFile({ provenance: { ...PROMOTION.provenance, source: [{ repository: 'https://github.com/acme/other' }] } }));
    expect(bad.code).toBe(1);
    expect(bad.out.candidates[0]).toMatchObject({ check: 'statement', code: 'POLICY' });
    expect(bad.out.candidates[0].reason).toContain(`provenance rule source fails: material git+${SOURCE.url}.git`);
  });

  it('a false CEL condition fails the candidate after its signer passed, with its message', async () => {
    const d = logged('slsa/v2alpha4');
    const r = await verify(d, policyFile({ conditions: [{ expression: 'predicate.runDetails.builder.id == "https://example.com/x"', message: 'the release builder' }] }));
    expect(r.code).toBe(1);
    expect(r.out.candidates[0]).toMatchObject({ check: 'statement', code: 'POLICY' });
    expect(r.out.candidates[0].reason).toContain('CEL conditions fails: condition 1 (the release builder) is false');
  });

  it('an invalid CEL expression is a usage error naming it', async () => {
    const r = await runCli([...worldFlags(w, randomDigest().value), '--policy', policyFile({ conditions: [{ expression: 'predicate.x ==' }] })]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('/spec/conditions/0/expression: CEL expression "predicate.x ==" is not valid CEL');
  });
});
