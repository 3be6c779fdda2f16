/**
 * Text from the log and its statements reaches stdout, JSON and the Tekton results capped (256 characters, an
 * ellipsis and the length) and cleaned: bidi, zero-width and C0/C1 controls replaced in text and results, and
 * written as \u escapes in JSON. Through the bundled CLI against the test log.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigner } from '../fixtures/signers.ts';
import { logIntotoV001, provenance, randomDigest, runCli, startWorld, worldFlags, type World } from '../fixtures/world.ts';

// Written as escapes: nothing hidden in this file either.
const RLO = '\u202e';
const ZWSP = '\u200b';
const CSI = '\u009b';
const HIDING = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/;

let w: World;
beforeAll(async () => {
  w = await startWorld();
});
afterAll(async () => {
  await w.close();
});

const hugeType = `https://evil.test/${RLO}${ZWSP}${CSI}${'a'.repeat(60_000)}`;

describe('untrusted text in the output', () => {
  it('a 60 KB predicate type with bidi, zero-width and C1 characters, in a rejection reason: capped and cleaned', async () => {
    const d = randomDigest();
    logIntotoV001(w, { ...provenance(d.value), predicateType: hugeType }, { signer: generateSigner() });
    const args = [...worldFlags(w, d.value), '--key', w.keyPath, '--predicate-type', 'https://slsa.dev/provenance/v1'];

    const text = await runCli(args);
    expect(text.code, text.stderr).toBe(1);
    expect(text.stdout).not.toMatch(HIDING);
    expect(text.stdout).toContain(`predicate type https://evil.test/???${'a'.repeat(100)}`);
    expect(text.stdout).toMatch(/a… \(60021 characters\)/);
    expect(text.stdout.length).toBeLessThan(2000);

    const json = await runCli([...args, '--output', 'json']);
    expect(json.code).toBe(1);
    expect(json.stdout).not.toMatch(HIDING);
    expect(json.stdout).toContain('https://evil.test/\\u202e\\u200b\\u009b');
    expect(json.stdout.length).toBeLessThan(3000);
    expect(JSON.parse(json.stdout).candidates[0].reason).toContain(`https://evil.test/${RLO}${ZWSP}${CSI}`);
  });

  it('a passing entry: predicate type and builder ID capped and cleaned in text, JSON and the results', async () => {
    const d = randomDigest();
    const builder = `https://builder.test/${RLO}gpj.exe${'b'.repeat(1000)}`;
    const st = { ...provenance(d.value, { builderId: builder }), predicateType: `https://type.test/${CSI}${'t'.repeat(500)}` };
    logIntotoV001(w, st);
    const results = path.join(w.dir, 'results-untrusted');
    const r = await runCli([...worldFlags(w, d.value), '--key', w.keyPath, '--results-dir', results]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(HIDING);
    expect(r.stdout).toMatch(/ {2}builder: {3}https:\/\/builder\.test\/\?gpj\.exeb+… \(1029 characters\)\n/);
    expect(r.stdout).toMatch(/ {2}predicate: https:\/\/type\.test\/\?t+… \(519 characters\)\n/);
    const read = (n: string) => readFileSync(path.join(results, n), 'utf8');
    expect(read('BUILDER_ID')).not.toMatch(HIDING);
    expect(read('BUILDER_ID')).toMatch(/^https:\/\/builder\.test\/\?gpj\.exeb+… \(1029 characters\)$/);
    expect(read('PREDICATE_TYPE')).toMatch(/^https:\/\/type\.test\/\?t+… \(519 characters\)$/);

    const json = await runCli([...worldFlags(w, d.value), '--key', w.keyPath, '--output', 'json']);
    expect(json.code).toBe(0);
    expect(json.stdout).not.toMatch(HIDING);
    const out = JSON.parse(json.stdout);
    expect(out.accepted.builderId).toMatch(new RegExp(`^https://builder\\.test/${RLO}gpj\\.exeb+… \\(1029 characters\\)$`));
    expect(out.accepted.predicateType).toMatch(new RegExp(`^https://type\\.test/${CSI}t+… \\(519 characters\\)$`));
  });

  it('rekor-gate search prints what the log holds capped and cleaned', async () => {
    const d = randomDigest();
    logIntotoV001(w, { ...provenance(d.value), predicateType: hugeType });
    const base = ['search', '--image-digest', d.value, '--rekor-url', w.log.url, '--trusted-root', w.trustedRootPath, '--timeout', '5'];
    const text = await runCli(base);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).not.toMatch(HIDING);
    expect(text.stdout).toMatch(/predicate: {3}https:\/\/evil\.test\/\?\?\?a+… \(60021 characters\)/);
    const json = await runCli([...base, '--output', 'json']);
    expect(json.stdout).not.toMatch(HIDING);
    expect(json.stdout.length).toBeLessThan(3000);
    expect(JSON.parse(json.stdout)[0].predicateType).toMatch(/a… \(60021 characters\)$/);
  });
});
