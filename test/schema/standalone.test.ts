// The bundle checks every JSON shape with validators ajv generated at build time (scripts/build.ts); the sources
// compile the same specs at run time (src/schema/compile.ts). This test generates them as the build does and
// holds them to the run-time ones: same verdict and same first error on every JSON value of the test log's entries,
// bundles and trusted root, and of the recorded corpus when GATE_TEST_DATA names it.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ValidateFunction } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateValidators } from '../../scripts/build.ts';
import { compile } from '../../src/schema/compile.ts';
import { declaredValidators } from '../../src/schema/validator.ts';
import type { LogEntryAnon, LogEntryResponse } from '../../src/rekor/types.ts';
import { dsseBundleV03 } from '../fixtures/bundle-json.ts';
import { createTestCA } from '../fixtures/ca.ts';
import { repoRoot } from '../fixtures/paths.ts';
import { dsseV001Entry, hashedrekordV001Entry, intotoV001Entry, intotoV002Entry, startTestLog } from '../fixtures/rekor-log/index.ts';
import { generateSigner, signDsse } from '../fixtures/signers.ts';
import { imageSubject, slsaV1Statement } from '../fixtures/statements.ts';
import { corpusDir, hasTestData } from '../fixtures/test-data.ts';
import { buildTrustedRoot } from '../fixtures/trusted-root.ts';

const dir = path.join(repoRoot, '.tmp', `standalone-${process.pid}`);
let generated: Map<string, string>;
const loaded = new Map<string, ValidateFunction>();

/** JSON the tests make: an entry of each kind the test log serves (and its decoded body), a bundle, a trusted root. */
let made: unknown[] = [];

async function makeSamples(): Promise<unknown[]> {
  const log = await startTestLog();
  try {
    const ca = await createTestCA();
    const signer = generateSigner();
    const leaf = await ca.issueLeaf({ publicKey: signer.publicKey, san: { uri: 'https://github.com/o/r/.github/workflows/b.yml@refs/heads/main' } });
    const env = signDsse(signer, slsaV1Statement({ subjects: [imageSubject('r.test/a', `sha256:${'5b'.repeat(32)}`)], builderId: 'https://b.test' }));
    const digest = Buffer.alloc(32, 9);
    const added = [
      log.add(intotoV001Entry({ envelope: env, publicKey: leaf.pem })),
      log.add(intotoV002Entry({ envelope: env, publicKeys: [leaf.pem] })),
      log.add(dsseV001Entry({ envelope: env, verifiers: [leaf.pem] })),
      log.add(hashedrekordV001Entry({ digest: { algorithm: 'sha256', hex: digest.toString('hex') }, signature: signer.sign(digest), publicKey: leaf.pem })),
    ];
    const out: unknown[] = [env, buildTrustedRoot({ logs: log, cas: ca })];
    for (const { uuid } of added) {
      const response = log.logEntry(uuid) as LogEntryResponse;
      const e = Object.values(response)[0] as LogEntryAnon;
      out.push(response, JSON.parse(Buffer.from(e.body, 'base64').toString('utf8')));
    }
    const dsse = Object.values(log.logEntry(added[2]!.uuid) as LogEntryResponse)[0] as LogEntryAnon;
    out.push(dsseBundleV03(dsse, leaf.der, env));
    return out;
  } finally {
    await log.close();
  }
}

/** Every object and array of the made JSON and the corpus' JSON files, down to depth 3 (entries, envelopes, bodies, roots...). */
function samples(): unknown[] {
  const out: unknown[] = [null, 0, 'x', [], {}, { kind: 'intoto', apiVersion: '0.0.1', spec: {} }];
  const visit = (v: unknown, depth: number): void => {
    if (v === null || typeof v !== 'object') return;
    out.push(v);
    if (depth < 3) for (const c of Object.values(v)) visit(c, depth + 1);
  };
  for (const v of made) visit(v, 0);
  const corpus = hasTestData ? corpusDir() : undefined;
  for (const f of corpus ? readdirSync(corpus, { recursive: true, encoding: 'utf8' }) : []) {
    if (!f.endsWith('.json')) continue;
    try {
      visit(JSON.parse(readFileSync(path.join(corpus!, f), 'utf8')), 0);
    } catch {
      // not JSON after all: nothing to sample
    }
  }
  return out;
}

beforeAll(async () => {
  made = await makeSamples();
  generated = await generateValidators();
  mkdirSync(dir, { recursive: true });
  for (const [name, code] of generated) {
    // The build lets esbuild resolve the require() calls of ajv's generated code; here Node does.
    const file = path.join(dir, `${name}.mjs`);
    writeFileSync(file, `import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\n${code}`);
    loaded.set(name, ((await import(pathToFileURL(file).href)) as { default: ValidateFunction }).default);
  }
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('validators generated at build time (ajv standalone)', () => {
  it('exist for every validator the sources declare, and only for those', () => {
    expect(declaredValidators().length).toBeGreaterThanOrEqual(20);
    expect([...generated.keys()].sort()).toEqual(declaredValidators().map((s) => s.name).sort());
  });

  it('count string lengths as .length (unicode off): sound because no shipped schema states a length but minLength 1', () => {
    const lengths: unknown[] = [];
    const visit = (v: unknown): void => {
      if (v === null || typeof v !== 'object') return;
      for (const [k, c] of Object.entries(v)) {
        if (k === 'minLength' || k === 'maxLength') lengths.push(`${k} ${String(c)}`);
        visit(c);
      }
    };
    for (const spec of declaredValidators()) {
      visit(typeof spec.schema === 'function' ? spec.schema() : spec.schema);
      for (const r of spec.refs?.() ?? []) visit(r);
    }
    expect(lengths.length).toBeGreaterThan(0);
    expect(new Set(lengths)).toEqual(new Set(['minLength 1']));
  });

  it('are readable ES modules with no code compiled at run time', () => {
    for (const [name, code] of generated) {
      expect(code, name).toMatch(/^export const validate = /m);
      expect(code, name).not.toMatch(/new Function|\beval\(/);
    }
  });

  it('answer every sample value as the run-time compile does (verdict and first error)', () => {
    const values = samples();
    expect(values.length).toBeGreaterThan(hasTestData ? 100 : 40);
    let accepted = 0;
    for (const spec of declaredValidators()) {
      const runtime = compile(spec);
      const standalone = loaded.get(spec.name)!;
      for (const v of values) {
        const ok = runtime(v);
        expect(standalone(v), `${spec.name}`).toBe(ok);
        if (ok) accepted++;
        else expect(standalone.errors?.[0], spec.name).toEqual(runtime.errors?.[0]);
      }
    }
    // Both verdicts occur: the samples hold values of the shapes checked, not only strangers.
    expect(accepted).toBeGreaterThan(20);
  });

  it('make the bundle: dist/ carries each one, and no ajv compiler outside the policy file loader', () => {
    const chunks = readdirSync(path.join(repoRoot, 'dist', 'chunks')).map((f) => readFileSync(path.join(repoRoot, 'dist', 'chunks', f), 'utf8'));
    const all = chunks.join('\n');
    for (const name of generated.keys()) expect(all).toContain(`// validator:${name}\n`);
    // ajv itself (which compiles with new Function) is bundled only with the policy file loader, for a
    // policy's own predicateSchema; the shipped schemas never need it.
    const compilers = chunks.filter((c) => c.includes('new Function('));
    expect(compilers.length).toBeLessThanOrEqual(1);
    for (const c of compilers) expect(c).toContain('src/policy/file.ts');
  });
});
