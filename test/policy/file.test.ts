import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GateError } from '../../src/errors.ts';
import { fingerprint } from '../../src/trust/public-keys.ts';
import { combinePolicies } from '../../src/policy/combine.ts';
import { loadPolicyFile, policySchema } from '../../src/policy/file.ts';
import { exact, matches, regexp } from '../../src/policy/matcher.ts';
import type { Policy } from '../../src/policy/policy.ts';

const REPO = path.resolve(import.meta.dirname, '..', '..');
const GITHUB = 'https://token.actions.githubusercontent.com';
const SLSA02 = 'https://slsa.dev/provenance/v0.2';
const SLSA1 = 'https://slsa.dev/provenance/v1';

const newKey = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
const keyA = newKey();
const keyB = newKey();
const pemOf = (k: typeof keyA) => k.export({ type: 'spki', format: 'pem' }).toString();
const indent = (text: string, n: number) =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => ' '.repeat(n) + l)
    .join('\n');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'rekor-gate-policy-'));
  mkdirSync(path.join(dir, 'keys'));
  writeFileSync(path.join(dir, 'keys', 'release.pub'), pemOf(keyB));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a policy file into the temp dir and returns its path. */
function write(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** The BAD_POLICY (or other) GateError a load throws. */
async function loadError(file: string): Promise<GateError> {
  try {
    await loadPolicyFile(file);
  } catch (err) {
    expect(err).toBeInstanceOf(GateError);
    return err as GateError;
  }
  throw new Error(`${file} loaded, expected an error`);
}

const HEADER = 'apiVersion: rekor-gate.dev/v1alpha1\nkind: Policy\n';

const FULL_YAML = `# yaml-language-server: $schema=https://rekor-gate.dev/schemas/policy.schema.json
${HEADER}spec:
  signers:
    - name: tekton-chains
      keyless:
        identityRegexp: ^https://github\\.com/acme/app/\\.github/workflows/release\\.yml@refs/tags/v.*$
        issuer: ${GITHUB}
    - name: release-key
      keyPath: keys/release.pub
    - key: |
${indent(pemOf(keyA), 8)}
  predicateTypes:
    - ${SLSA02}
    - ${SLSA1}
  builderIds: [https://tekton.dev/chains/v2]
  predicateSchema:
    type: object
    required: [buildType]
    properties:
      buildType: { type: string, format: uri }
  maxAge: 1d12h
  minSigners: 2
`;

describe('loadPolicyFile: valid files', () => {
  it('loads a full YAML policy into the expected Policy', async () => {
    const file = write('full.yaml', FULL_YAML);
    const p = await loadPolicyFile(file);

    expect(p.keys.map((k) => k.fingerprint)).toEqual([fingerprint(keyB), fingerprint(keyA)]);
    expect(p.keys.map((k) => k.label)).toEqual([`${file} signers[1] (release-key)`, `${file} signers[2]`]);
    expect(p.keyless).toHaveLength(1);
    const [k] = p.keyless;
    expect(k?.label).toBe(`${file} signers[0] (tekton-chains)`);
    expect(k?.identity.kind).toBe('regexp');
    expect(matches(k!.identity, 'https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.3')).toBe(true);
    expect(matches(k!.identity, 'https://github.com/acme/app/.github/workflows/other.yml@refs/tags/v1')).toBe(false);
    expect(k?.issuer).toEqual(exact(GITHUB));

    expect(p.predicateTypes).toEqual([SLSA02, SLSA1]);
    expect(p.builderIds).toEqual(['https://tekton.dev/chains/v2']);
    expect(p.maxAgeSeconds).toBe(36 * 3600);
    expect(p.minSigners).toBe(2);
    expect(p.source).toEqual({
      uri: pathToFileURL(file).href,
      sha256: createHash('sha256').update(readFileSync(file)).digest('hex'),
    });
    expect(p.source?.uri).toBe(`file://${file}`);
    expect(typeof p.predicateSchema).toBe('function');
  });

  it('loads the same policy written as JSON', async () => {
    const json = {
      $schema: 'https://rekor-gate.dev/schemas/policy.schema.json',
      apiVersion: 'rekor-gate.dev/v1alpha1',
      kind: 'Policy',
      spec: {
        signers: [
          { name: 'ci', keyless: { identity: 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main', issuerRegexp: '^https://token\\.actions\\.githubusercontent\\.com$' } },
          { keyPath: path.join(dir, 'keys', 'release.pub') },
          { key: pemOf(keyA) },
        ],
        predicateTypes: [SLSA1],
        maxAge: '720h',
      },
    };
    const p = await loadPolicyFile(write('full.json', JSON.stringify(json, null, 2)));
    expect(p.keys.map((k) => k.fingerprint)).toEqual([fingerprint(keyB), fingerprint(keyA)]);
    expect(p.keyless[0]?.identity).toEqual(exact(json.spec.signers[0]!.keyless!.identity));
    expect(p.keyless[0]?.issuer.kind).toBe('regexp');
    expect(matches(p.keyless[0]!.issuer, GITHUB)).toBe(true);
    expect(p.predicateTypes).toEqual([SLSA1]);
    expect(p.maxAgeSeconds).toBe(720 * 3600);
    expect(p.builderIds).toBeUndefined();
    expect(p.predicateSchema).toBeUndefined();
    expect(p.minSigners).toBeUndefined();
  });

  it('accepts a spec without signers (the flags give them) and every duration unit', async () => {
    for (const [age, seconds] of [['30d', 30 * 86400], ['720h', 720 * 3600], ['90m', 5400], ['3600s', 3600], ['1h30m', 5400]] as const) {
      const p = await loadPolicyFile(write('nosigners.yaml', `${HEADER}spec:\n  maxAge: ${age}\n`));
      expect(p.keys).toEqual([]);
      expect(p.keyless).toEqual([]);
      expect(p.predicateTypes).toEqual([]);
      expect(p.maxAgeSeconds).toBe(seconds);
    }
  });
  it('reads identityRegexp and issuerRegexp as Go RE2 (\\z ends the text)', async () => {
    const main = 'https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main';
    const text = `${HEADER}spec:\n  signers:\n    - keyless:\n        identityRegexp: ^https://github\\.com/acme/app/.*@refs/heads/main\\z\n        issuerRegexp: (?i)^HTTPS://token\\.actions\\.githubusercontent\\.com$\n`;
    const [k] = (await loadPolicyFile(write('re2.yaml', text))).keyless;
    expect(matches(k!.identity, main)).toBe(true);
    expect(matches(k!.identity, `${main}z-evil`)).toBe(false);
    expect(matches(k!.issuer, GITHUB)).toBe(true);
  });

  it('loads the example in docs/policy.md', async () => {
    const doc = readFileSync(path.join(REPO, 'docs', 'policy.md'), 'utf8');
    const example = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(example).toBeDefined();
    writeFileSync(path.join(dir, 'keys', 'chains.pub'), pemOf(keyA));
    const p = await loadPolicyFile(write('docs-example.yaml', example!));
    expect(p.keys.map((k) => k.fingerprint)).toEqual([fingerprint(keyA)]);
    expect(p.keyless.map((k) => k.label)).toEqual([`${dir}/docs-example.yaml signers[0] (github-release)`, `${dir}/docs-example.yaml signers[1] (tekton-chains-keyless)`]);
    expect(matches(p.keyless[0]!.identity, 'https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.0')).toBe(true);
    expect(p.maxAgeSeconds).toBe(30 * 86400);
  });
});

describe('loadPolicyFile: every invalid file is BAD_POLICY with the path and the line', () => {
  const cases: { file: string; name: string; text: () => string; expected: RegExp }[] = [
    {
      file: 'bad-yaml.yaml',
      name: 'a YAML syntax error',
      text: () => `${HEADER}spec:\n  predicateTypes: [${SLSA1}\n  maxAge: 1h\n`,
      expected: /^bad-yaml\.yaml:5:\d+: YAML syntax error: /,
    },
    {
      file: 'bad-dup.yaml',
      name: 'a duplicate key',
      text: () => `${HEADER}spec:\n  maxAge: 1h\n  maxAge: 2h\n`,
      expected: /^bad-dup\.yaml:5:3: YAML syntax error: Map keys must be unique/,
    },
    {
      file: 'bad-unknown.yaml',
      name: 'an unknown field (a typo)',
      text: () => `${HEADER}spec:\n  signers: []\n  predicateType: [${SLSA1}]\n`,
      expected: /^bad-unknown\.yaml:5:3: \/spec: unknown field 'predicateType' \(allowed: signers, predicateTypes,/,
    },
    {
      file: 'bad-version.yaml',
      name: 'a wrong apiVersion',
      text: () => `apiVersion: v1\nkind: Policy\nspec: {}\n`,
      expected: /^bad-version\.yaml:1:1: \/apiVersion: must be "rekor-gate\.dev\/v1alpha1"/,
    },
    {
      file: 'bad-two.yaml',
      name: 'a signer with two kinds',
      text: () => `${HEADER}spec:\n  signers:\n    - keyPath: a.pub\n    - keyPath: b.pub\n      keyless: { identity: x, issuer: y }\n`,
      expected: /^bad-two\.yaml:6:7: \/spec\/signers\/1: must have only one of 'key', 'keyPath' or 'keyless' \(has 'keyPath' and 'keyless'\)$/,
    },
    {
      file: 'bad-none.yaml',
      name: 'a signer of no kind',
      text: () => `${HEADER}spec:\n  signers:\n    - name: nobody\n`,
      expected: /^bad-none\.yaml:5:7: \/spec\/signers\/0: must have one of 'key', 'keyPath' or 'keyless'$/,
    },
    {
      file: 'bad-issuer.yaml',
      name: 'keyless without an issuer',
      text: () => `${HEADER}spec:\n  signers:\n    - keyPath: keys/release.pub\n    - name: ci\n      keyless:\n        identity: x\n`,
      expected: /^bad-issuer\.yaml:7:7: \/spec\/signers\/1\/keyless: must have either 'issuer' or 'issuerRegexp'$/,
    },
    {
      file: 'bad-regexp.yaml',
      name: 'an invalid regexp',
      text: () => `${HEADER}spec:\n  signers:\n    - keyless:\n        identity: x\n        issuerRegexp: "^https://(a|b$"\n`,
      expected: /^bad-regexp\.yaml:7:9: \/spec\/signers\/0\/keyless\/issuerRegexp: issuerRegexp "\^https:\/\/\(a\|b\$" is not a valid RE2 \(Go\) regular expression/,
    },
    {
      file: 'bad-lookahead.yaml',
      name: 'a lookahead (JavaScript has it, RE2 does not)',
      text: () => `${HEADER}spec:\n  signers:\n    - keyless:\n        identityRegexp: '^(?!https://evil)'\n        issuer: y\n`,
      expected: /^bad-lookahead\.yaml:6:9: \/spec\/signers\/0\/keyless\/identityRegexp: identityRegexp "\^\(\?!https:\/\/evil\)" is not a valid RE2 \(Go\) regular expression: error parsing regexp: invalid or unsupported Perl syntax: `\(\?!`/,
    },
    {
      file: 'bad-pem.yaml',
      name: 'a bad PEM key',
      text: () => `${HEADER}spec:\n  signers:\n    - keyPath: keys/release.pub\n    - key: not a key\n`,
      expected: /^bad-pem\.yaml:6:7: \/spec\/signers\/1\/key: .*bad-pem\.yaml signers\[1\]: no PEM public key found$/,
    },
    {
      file: 'bad-private.yaml',
      name: 'a private key',
      text: () => `${HEADER}spec:\n  signers:\n    - key: |\n        -----BEGIN PRIVATE KEY-----\n        AAAA\n        -----END PRIVATE KEY-----\n`,
      expected: /^bad-private\.yaml:5:7: \/spec\/signers\/0\/key: .*found PRIVATE KEY \(never pass a private key\)$/,
    },
    {
      file: 'bad-keypath.yaml',
      name: 'an unreadable keyPath',
      text: () => `${HEADER}spec:\n  signers:\n    - keyPath: keys/missing.pub\n`,
      expected: /^bad-keypath\.yaml:5:7: \/spec\/signers\/0\/keyPath: key file .*keys\/missing\.pub cannot be read: ENOENT$/,
    },
    {
      file: 'bad-age.yaml',
      name: 'a bad maxAge',
      text: () => `${HEADER}spec:\n  maxAge: 30 days\n`,
      expected: /^bad-age\.yaml:4:3: \/spec\/maxAge: must be a duration such as 30d, 720h/,
    },
    {
      file: 'bad-zero-age.yaml',
      name: 'a zero maxAge',
      text: () => `${HEADER}spec:\n  maxAge: 0h\n`,
      expected: /^bad-zero-age\.yaml:4:3: \/spec\/maxAge: "0h" must be a positive duration$/,
    },
    {
      file: 'bad-min.yaml',
      name: 'minSigners 0',
      text: () => `${HEADER}spec:\n  minSigners: 0\n`,
      expected: /^bad-min\.yaml:4:3: \/spec\/minSigners: must be >= 1$/,
    },
    {
      file: 'bad-type.yaml',
      name: 'a predicate type that is not a URI',
      text: () => `${HEADER}spec:\n  predicateTypes:\n    - ${SLSA1}\n    - slsaprovenance\n`,
      expected: /^bad-type\.yaml:6:7: \/spec\/predicateTypes\/1: must match format "uri"$/,
    },
    {
      file: 'bad-schema.yaml',
      name: 'an invalid predicateSchema',
      text: () => `${HEADER}spec:\n  predicateSchema:\n    type: objekt\n`,
      expected: /^bad-schema\.yaml:4:3: \/spec\/predicateSchema: not a valid JSON Schema: /,
    },
    {
      file: 'bad-schema-type.yaml',
      name: 'a predicateSchema that is not an object',
      text: () => `${HEADER}spec:\n  predicateSchema: true\n`,
      expected: /^bad-schema-type\.yaml:4:3: \/spec\/predicateSchema: must be object$/,
    },
    {
      file: 'bad-nospec.yaml',
      name: 'a file without spec',
      text: () => HEADER,
      expected: /^bad-nospec\.yaml:1:1: \/: must have required property 'spec'$/,
    },
    {
      file: 'bad-empty.yaml',
      name: 'an empty file',
      text: () => '',
      expected: /^bad-empty\.yaml:1:1: \/: must be object$/,
    },
  ];

  for (const c of cases) {
    it(`rejects ${c.name}`, async () => {
      const file = write(c.file, c.text());
      // relative path: messages name the file as the user gave it
      const rel = path.relative(process.cwd(), file);
      const err = await loadError(rel);
      expect(err.code).toBe('BAD_POLICY');
      const msg = err.message.startsWith(rel) ? path.basename(rel) + err.message.slice(rel.length) : err.message;
      expect(msg).toMatch(c.expected);
    });
  }

  it('rejects an unreadable file, naming it', async () => {
    const err = await loadError(path.join(dir, 'absent.yaml'));
    expect(err.code).toBe('BAD_POLICY');
    expect(err.message).toBe(`policy file ${path.join(dir, 'absent.yaml')} cannot be read: ENOENT`);
    expect((await loadError(dir)).message).toMatch(/cannot be read: EISDIR/);
  });

  it('locates errors in JSON files too', async () => {
    const file = write('bad.json', JSON.stringify({ apiVersion: 'rekor-gate.dev/v1alpha1', kind: 'Policy', spec: { signers: [{ keyless: { identity: 'x' } }], minSigners: 0 } }, null, 2));
    const err = await loadError(file);
    expect(err.code).toBe('BAD_POLICY');
    expect(err.message.split('\n')).toEqual([
      `${file}:7:9: /spec/signers/0/keyless: must have either 'issuer' or 'issuerRegexp'`,
      `${file}:12:5: /spec/minSigners: must be >= 1`,
    ]);
    const syntax = await loadError(write('bad-syntax.json', '{\n  "apiVersion": "rekor-gate.dev/v1alpha1",\n  "kind": "Policy"\n  "spec": {}\n}\n'));
    expect(syntax.message).toMatch(/bad-syntax\.json:4:\d+: YAML syntax error: /);
  });

  it('reports every schema problem, in file order', async () => {
    const file = write('many.yaml', `${HEADER}spec:\n  minSigners: 0\n  signers:\n    - keyless: { identity: x }\n  extra: 1\n`);
    const lines = (await loadError(file)).message.split('\n');
    expect(lines.map((l) => l.slice(file.length))).toEqual([
      ':4:3: /spec/minSigners: must be >= 1',
      ':6:7: /spec/signers/0/keyless: must have either \'issuer\' or \'issuerRegexp\'',
      ':7:3: /spec: unknown field \'extra\' (allowed: signers, predicateTypes, builderIds, predicateSchema, maxAge, minSigners, signature, provenance, conditions)',
    ]);
  });
});

describe('predicateSchema', () => {
  it('accepts predicates that satisfy it and explains the ones that do not', async () => {
    const check = (await loadPolicyFile(write('schema.yaml', FULL_YAML))).predicateSchema!;
    expect(check({ buildType: 'https://tekton.dev/attestations/chains@v2' })).toBeUndefined();
    expect(check({})).toBe("/ must have required property 'buildType'");
    expect(check({ buildType: 'not a uri' })).toBe('/buildType must match format "uri"');
    expect(check('x')).toBe('/ must be object');
  });

  it('honours a 2020-12 $schema', async () => {
    const file = write(
      'schema2020.yaml',
      `${HEADER}spec:\n  predicateSchema:\n    $schema: https://json-schema.org/draft/2020-12/schema\n    type: object\n    properties:\n      materials:\n        type: array\n        prefixItems: [{ type: string }]\n        items: false\n`,
    );
    const check = (await loadPolicyFile(file)).predicateSchema!;
    expect(check({ materials: ['a'] })).toBeUndefined();
    expect(check({ materials: ['a', 'b'] })).toMatch(/^\/materials must NOT have more than 1 items/);
  });

  it('caps the number of reported predicate errors', async () => {
    const file = write('schema-many.yaml', `${HEADER}spec:\n  predicateSchema:\n    required: [a, b, c, d, e]\n`);
    const check = (await loadPolicyFile(file)).predicateSchema!;
    expect(check({})).toBe("/ must have required property 'a'; / must have required property 'b'; / must have required property 'c'; and 2 more");
  });
});

describe('combinePolicies', () => {
  const keyOnly = (k: typeof keyA, label: string) => ({ fingerprint: fingerprint(k), key: k, label });
  const flagsWith = (p: Partial<Policy>): Policy => ({ keys: [], keyless: [], predicateTypes: [], ...p });
  const ci = { identity: regexp('^https://github\\.com/acme/', 'f'), issuer: exact(GITHUB) };

  it('unions the signers, without duplicate keys', async () => {
    const flags = flagsWith({ keys: [keyOnly(keyA, '--key a.pub')] });
    const file = flagsWith({ keys: [keyOnly(keyA, 'policy.yaml signers[0]'), keyOnly(keyB, 'policy.yaml signers[1]')], keyless: [ci] });
    const p = combinePolicies(flags, file);
    expect(p.keys.map((k) => k.label)).toEqual(['--key a.pub', 'policy.yaml signers[1]']);
    expect(p.keyless).toEqual([ci]);
  });

  it('takes the signers from either side alone, but needs some', async () => {
    expect(combinePolicies(flagsWith({ keyless: [ci] }), flagsWith({})).keyless).toEqual([ci]);
    expect(combinePolicies(undefined, flagsWith({ keyless: [ci] })).keyless).toEqual([ci]);
    expect(combinePolicies(flagsWith({ keyless: [ci] }), undefined).keyless).toEqual([ci]);
    for (const [a, b] of [[flagsWith({}), flagsWith({})], [undefined, undefined], [undefined, flagsWith({ source: { uri: 'file:///p.yaml', sha256: '00' } })]] as const) {
      try {
        combinePolicies(a, b);
        expect.unreachable();
      } catch (err) {
        expect((err as GateError).code).toBe('USAGE');
        expect((err as Error).message).toMatch(/^no signer policy: /);
      }
    }
  });

  it('intersects predicate types when both give a list, else takes whichever is given', async () => {
    const both = combinePolicies(flagsWith({ keyless: [ci], predicateTypes: [SLSA1, 'https://example.com/x'] }), flagsWith({ predicateTypes: [SLSA02, SLSA1] }));
    expect(both.predicateTypes).toEqual([SLSA1]);
    expect(combinePolicies(flagsWith({ keyless: [ci], predicateTypes: [SLSA1] }), flagsWith({})).predicateTypes).toEqual([SLSA1]);
    expect(combinePolicies(flagsWith({ keyless: [ci] }), flagsWith({ predicateTypes: [SLSA02] })).predicateTypes).toEqual([SLSA02]);
    expect(combinePolicies(flagsWith({ keyless: [ci] }), flagsWith({})).predicateTypes).toEqual([]);
  });

  it('rejects an empty intersection, naming both lists', async () => {
    try {
      combinePolicies(flagsWith({ keyless: [ci], predicateTypes: [SLSA1] }), flagsWith({ predicateTypes: [SLSA02] }));
      expect.unreachable();
    } catch (err) {
      expect((err as GateError).code).toBe('USAGE');
      expect((err as Error).message).toContain(`the predicate types given (${SLSA1})`);
      expect((err as Error).message).toContain(`predicateTypes (${SLSA02})`);
    }
  });

  it('takes builderIds, predicateSchema, maxAge, minSigners and source from the file', async () => {
    const check = () => undefined;
    const source = { uri: 'file:///p.yaml', sha256: 'ab' };
    const file = flagsWith({ builderIds: ['b'], predicateSchema: check, maxAgeSeconds: 60, minSigners: 2, source });
    const flags = flagsWith({ keyless: [ci], builderIds: ['other'], maxAgeSeconds: 1e9, minSigners: 1 });
    const p = combinePolicies(flags, file);
    expect(p).toMatchObject({ builderIds: ['b'], maxAgeSeconds: 60, minSigners: 2, source });
    expect(p.predicateSchema).toBe(check);
    const flagsOnly = combinePolicies(flagsWith({ keyless: [ci] }), undefined);
    expect(Object.keys(flagsOnly).sort()).toEqual(['keyless', 'keys', 'predicateTypes']);
  });

  it('combines a loaded file with flag signers end to end', async () => {
    const file = await loadPolicyFile(write('combine.yaml', `${HEADER}spec:\n  predicateTypes: [${SLSA02}, ${SLSA1}]\n  minSigners: 2\n`));
    const p = combinePolicies(flagsWith({ keys: [keyOnly(keyA, '--key a.pub')], predicateTypes: [SLSA02] }), file);
    expect(p.keys).toHaveLength(1);
    expect(p.predicateTypes).toEqual([SLSA02]);
    expect(p.minSigners).toBe(2);
    expect(p.source?.uri).toMatch(/^file:\/\/\/.*combine\.yaml$/);
  });
});

describe('policySchema', () => {
  it('is the content of schemas/policy.schema.json', async () => {
    const onDisk = JSON.parse(readFileSync(path.join(REPO, 'schemas', 'policy.schema.json'), 'utf8')) as object;
    expect(policySchema()).toEqual(onDisk);
    expect(policySchema()).not.toBe(policySchema());
  });

  it('describes every property, so editors show help', async () => {
    const missing: string[] = [];
    const walk = (node: unknown, at: string): void => {
      if (!node || typeof node !== 'object') return;
      const props = (node as { properties?: Record<string, unknown> }).properties;
      for (const [name, sub] of Object.entries(props ?? {})) {
        if (typeof (sub as { description?: unknown }).description !== 'string') missing.push(`${at}/${name}`);
      }
      for (const [k, v] of Object.entries(node)) walk(v, `${at}/${k}`);
    };
    walk(policySchema(), '#');
    expect(missing).toEqual([]);
  });
});
