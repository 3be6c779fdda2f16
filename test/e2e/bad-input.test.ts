/**
 * Bad input through the bundled CLI: exit 2, one clear line (no stack trace), no request to the log, and
 * nothing half-written to --results-dir: once the directory is known to be writable, every result file is
 * written whole with VERIFIED=false (Tekton reads VERIFIED on every failure); before that, none.
 * Then configuration through REKOR_GATE_* environment variables.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESULT_NAMES } from '../../src/tekton/results.ts';
import { generateSigner } from '../fixtures/signers.ts';
import {
  IDENTITY,
  ISSUER,
  keylessSigner,
  logIntotoV001,
  provenance,
  randomDigest,
  runCli,
  startWorld,
  worldFlags,
  type CliResult,
  type World,
} from '../fixtures/world.ts';

let w: World;
let inputs: string;
const DIGEST = randomDigest().value;

type Case = {
  name: string;
  /** Flags after `verify` (the results dir is added). */
  args: (d: { results: string }) => string[];
  /** stderr's first line must match. */
  message: RegExp;
  /** A yargs parse error: the message line plus the "--help" hint. */
  parseError?: boolean;
  /** The results dir is writable: the whole set of result files is written, VERIFIED=false, the error in REPORT. */
  writesResults?: boolean;
};

const p = (name: string): string => path.join(inputs, name);

/**
 * Valid flags, with the log on 127.0.0.1 port 1: a run that got as far as the network would exit 3, not 2.
 * `trustedRoot: null` leaves --trusted-root out (a case gives its own: a repeated flag is not "last wins").
 */
function base(digest: string | null = DIGEST, trustedRoot: string | null = w.trustedRootPath): string[] {
  return [
    'verify',
    ...(digest === null ? [] : ['--image-digest', digest]),
    '--rekor-url', 'http://127.0.0.1:1',
    ...(trustedRoot === null ? [] : ['--trusted-root', trustedRoot]),
    '--timeout', '2',
  ];
}
const withKey = (digest: string | null = DIGEST, trustedRoot: string | null = w.trustedRootPath) => [...base(digest, trustedRoot), '--key', w.keyPath];

const cases: Case[] = [
  { name: 'a digest with too few hex digits (sha256:abc)', args: () => withKey('sha256:abc'), message: /\[BAD_DIGEST\]: .*--image-digest "sha256:abc"/, writesResults: true },
  { name: 'a digest in upper-case hex', args: () => withKey(`sha256:${'AB'.repeat(32)}`), message: new RegExp(`\\[BAD_DIGEST\\].*"sha256:${'AB'.repeat(32)}"`), writesResults: true },
  { name: 'an md5 digest', args: () => withKey(`md5:${'a'.repeat(32)}`), message: /\[BAD_DIGEST\]: .*"md5:a{32}"/, writesResults: true },
  { name: 'no --image-digest', args: () => withKey(null), message: /usage error: Missing required argument: image-digest/, parseError: true },
  { name: 'a junk key file', args: () => [...base(), '--key', p('junk.pub')], message: /\[BAD_KEY\]: .*--key .*junk\.pub: no PEM public key found/, writesResults: true },
  { name: 'a missing key file', args: () => [...base(), '--key', p('absent.pub')], message: /\[BAD_KEY\]: .*--key .*absent\.pub cannot be read: ENOENT/, writesResults: true },
  { name: 'a private key given as --key', args: () => [...base(), '--key', p('private.pem')], message: /\[BAD_KEY\]: .*private\.pem.*found PRIVATE KEY \(never pass a private key\)/, writesResults: true },
  { name: 'no signer policy', args: () => base(), message: /\[USAGE\]: no signer policy: no trusted key and no keyless identity is given; give --key PATH/, writesResults: true },
  {
    name: 'an identity without an issuer',
    args: () => [...base(), '--certificate-identity', IDENTITY],
    message: /\[USAGE\]: keyless verification needs an issuer too: add --certificate-oidc-issuer/,
    writesResults: true,
  },
  {
    name: 'an invalid identity regexp',
    args: () => [...base(), '--certificate-identity-regexp', '^https://github.com/(acme$', '--certificate-oidc-issuer', ISSUER],
    message: /\[USAGE\]: --certificate-identity-regexp "\^https:\/\/github\.com\/\(acme\$" is not a valid RE2 \(Go\) regular expression/,
    writesResults: true,
  },
  {
    name: 'an identity regexp with a backreference (JavaScript has them, Go RE2 does not)',
    args: () => [...base(), '--certificate-identity-regexp', '^https://(github)\\.com/\\1', '--certificate-oidc-issuer', ISSUER],
    message: /\[USAGE\]: --certificate-identity-regexp .* is not a valid RE2 \(Go\) regular expression: error parsing regexp: invalid escape sequence: `\\1`/,
    writesResults: true,
  },
  {
    name: 'an issuer regexp with a lookahead',
    args: () => [...base(), '--certificate-identity', IDENTITY, '--certificate-oidc-issuer-regexp', '^(?=https://token)'],
    message: /\[USAGE\]: --certificate-oidc-issuer-regexp .* invalid or unsupported Perl syntax: `\(\?=`/,
    writesResults: true,
  },
  {
    name: 'a results dir that is a file',
    args: () => withKey(),
    message: /\[BAD_RESULTS_DIR\]: --results-dir .*results-file cannot be written/,
  },
  {
    name: 'a results dir under a file',
    args: () => withKey(),
    message: /\[BAD_RESULTS_DIR\]: --results-dir .*results-file\/sub cannot be written/,
  },
  { name: 'a --trusted-root that is not JSON', args: () => withKey(DIGEST, p('junk.pub')), message: /\[BAD_TRUST_ROOT\]: --trusted-root .*junk\.pub: the file is not JSON/, writesResults: true },
  {
    name: 'a --trusted-root that is not a trusted root',
    args: () => withKey(DIGEST, p('not-a-root.json')),
    message: /\[BAD_TRUST_ROOT\]: --trusted-root .*not-a-root\.json: not an acceptable Sigstore trusted root/,
    writesResults: true,
  },
  { name: 'a missing --trusted-root', args: () => withKey(DIGEST, p('absent.json')), message: /\[BAD_TRUST_ROOT\]: --trusted-root .*absent\.json.*cannot be read/, writesResults: true },
  { name: 'an unknown flag', args: () => [...withKey(), '--bogus-flag', 'x'], message: /usage error: Unknown arguments?: bogus-flag/, parseError: true },
  { name: '--wait -1', args: () => [...withKey(), '--wait', '-1'], message: /\[USAGE\]: --wait must be a number of seconds >= 0, got -1/, writesResults: true },
];

/** The results dir each case is given. */
function resultsDirOf(c: Case, i: number): string {
  if (c.name === 'a results dir that is a file') return p('results-file');
  if (c.name === 'a results dir under a file') return path.join(p('results-file'), 'sub');
  return path.join(w.dir, `results-bad-${i}`);
}

const runs = new Map<string, Promise<CliResult>>();

beforeAll(async () => {
  w = await startWorld();
  inputs = path.join(w.dir, 'inputs');
  mkdirSync(inputs);
  writeFileSync(p('junk.pub'), 'this is not a key\n');
  writeFileSync(p('private.pem'), generateSigner().privateKeyPem);
  writeFileSync(p('not-a-root.json'), JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: 'none' }));
  writeFileSync(p('results-file'), 'a file\n');
  // every bad-input run at once: each is a separate process
  cases.forEach((c, i) => {
    const results = resultsDirOf(c, i);
    runs.set(c.name, runCli([...c.args({ results }), '--results-dir', results]));
  });
  await Promise.all(runs.values());
});
afterAll(async () => {
  await w?.close();
});

describe('bad input: exit 2, one clear line, nothing written', () => {
  cases.forEach((c, i) => {
    it(`${c.name}: exit 2 with one line naming the input`, async () => {
      const r = (await runs.get(c.name)) as CliResult;
      expect(r.code, r.stderr).toBe(2);
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^rekor-gate: usage error/);
      expect(lines[0]).toMatch(c.message);
      if (c.parseError) {
        expect(lines).toHaveLength(2);
        expect(lines[1]).toMatch(/^Run "rekor-gate .*--help" for the flags\.$/);
      } else {
        expect(lines).toHaveLength(1);
      }
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(r.stderr).not.toMatch(/internal error|INTERNAL/);
      expect(r.stdout).toBe('');
    });

    it(`${c.name}: nothing half-written to --results-dir`, async () => {
      await runs.get(c.name);
      const dir = resultsDirOf(c, i);
      if (c.name.startsWith('a results dir')) {
        expect(readFileSync(p('results-file'), 'utf8')).toBe('a file\n');
        expect(existsSync(path.join(p('results-file'), 'sub'))).toBe(false);
        return;
      }
      const files = existsSync(dir) ? readdirSync(dir).sort() : [];
      if (!c.writesResults) {
        expect(files).toEqual([]);
        return;
      }
      expect(files).toEqual([...RESULT_NAMES].sort());
      expect(readFileSync(path.join(dir, 'VERIFIED'), 'utf8')).toBe('false');
      expect(readFileSync(path.join(dir, 'REKOR_UUID'), 'utf8')).toBe('');
      expect(JSON.parse(readFileSync(path.join(dir, 'REPORT'), 'utf8')).error).toMatch(/^\[[A-Z_]+\] /);
    });
  });

  it('a --trusted-root that is not JSON: the message stays on one line and does not echo the file', async () => {
    const r = (await runs.get('a --trusted-root that is not JSON')) as CliResult;
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('no bad-input run sent a request to the test log', () => {
    expect(w.log.requests).toEqual([]);
  });
});

describe.concurrent('repeated scalar flags', () => {
  it('a repeated --trusted-root: the last one wins', async () => {
    const d = randomDigest();
    logIntotoV001(w, provenance(d.value));
    const flags = ['verify', '--image-digest', d.value, '--rekor-url', w.log.url, '--key', w.keyPath];
    const r = await runCli([...flags, '--trusted-root', p('junk.pub'), '--trusted-root', w.trustedRootPath]);
    expect(r.stderr).not.toMatch(/INTERNAL|internal error/);
    expect(r.code, r.stderr).toBe(0);
  });
});

describe.concurrent('configuration through REKOR_GATE_* environment variables', () => {
  it('REKOR_GATE_IMAGE_DIGEST, _REKOR_URL, _TRUSTED_ROOT, _KEY, _PREDICATE_TYPE, _RESULTS_DIR, _OUTPUT configure a run', async () => {
    const d = randomDigest();
    const logged = logIntotoV001(w, provenance(d.value));
    const results = path.join(w.dir, 'results-env');
    const r = await runCli(['verify'], {
      env: {
        REKOR_GATE_IMAGE_DIGEST: d.value,
        REKOR_GATE_REKOR_URL: w.log.url,
        REKOR_GATE_TRUSTED_ROOT: w.trustedRootPath,
        REKOR_GATE_KEY: w.keyPath,
        REKOR_GATE_PREDICATE_TYPE: 'https://slsa.dev/provenance/v1,https://slsa.dev/provenance/v0.2',
        REKOR_GATE_RESULTS_DIR: results,
        REKOR_GATE_OUTPUT: 'json',
        REKOR_GATE_TIMEOUT: '5',
      },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ verified: true, accepted: { uuid: logged.uuid } });
    expect(readFileSync(path.join(results, 'REKOR_UUID'), 'utf8')).toBe(logged.uuid);
  });

  it('keyless identity and issuer from the environment', async () => {
    const d = randomDigest();
    const k = await keylessSigner(w);
    logIntotoV001(w, provenance(d.value), { signer: k.signer, certificatePem: k.certificatePem });
    const r = await runCli([...worldFlags(w, d.value), '--output', 'json'], {
      env: { REKOR_GATE_CERTIFICATE_IDENTITY: IDENTITY, REKOR_GATE_CERTIFICATE_OIDC_ISSUER: ISSUER },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).accepted.signer).toBe(IDENTITY);
  });

  it('an invalid value from the environment is a usage error like the flag', async () => {
    const r = await runCli(['verify'], { env: { REKOR_GATE_IMAGE_DIGEST: 'sha256:abc', REKOR_GATE_KEY: w.keyPath } });
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/\[BAD_DIGEST\]: --image-digest "sha256:abc"/);
  });

  it('empty (or blank) REKOR_GATE_* variables count as unset, as the Tekton Task passes empty params', async () => {
    const d = randomDigest();
    const logged = logIntotoV001(w, provenance(d.value));
    const empty = Object.fromEntries(
      [
        'IMAGE_URL', 'CERTIFICATE_IDENTITY', 'CERTIFICATE_IDENTITY_REGEXP', 'CERTIFICATE_OIDC_ISSUER', 'CERTIFICATE_OIDC_ISSUER_REGEXP',
        'PUBLIC_KEY', 'PREDICATE_TYPE', 'RESULTS_DIR', 'WAIT', 'OUTPUT', 'TRUST_DIR', 'CA_CERT', 'POLICY', 'VSA', 'TUF_CACHE_DIR',
      ].map((n, i) => [`REKOR_GATE_${n}`, i % 2 === 0 ? '' : '  ']),
    );
    const r = await runCli([...worldFlags(w, d.value), '--key', w.keyPath, '--output', 'json'], { env: empty });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ verified: true, accepted: { uuid: logged.uuid, signer: `sha256:${w.signer.fingerprint}` }, warnings: [] });
    expect(out.imageUrl).toBeUndefined();
  });

  it('an empty REKOR_GATE_CERTIFICATE_IDENTITY does not become an empty identity next to a regexp flag', async () => {
    const d = randomDigest();
    const k = await keylessSigner(w);
    logIntotoV001(w, provenance(d.value), { signer: k.signer, certificatePem: k.certificatePem });
    const r = await runCli(
      [...worldFlags(w, d.value), '--certificate-identity-regexp', '^https://github\\.com/acme/app/.*$', '--certificate-oidc-issuer', ISSUER, '--output', 'json'],
      { env: { REKOR_GATE_CERTIFICATE_IDENTITY: '', REKOR_GATE_CERTIFICATE_OIDC_ISSUER_REGEXP: '' } },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ verified: true, accepted: { signer: IDENTITY }, warnings: [] });
  });

  it('a flag wins over its environment variable', async () => {
    const d = randomDigest();
    logIntotoV001(w, provenance(d.value));
    const r = await runCli([...worldFlags(w, d.value), '--key', w.keyPath], { env: { REKOR_GATE_IMAGE_DIGEST: 'sha256:abc' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`VERIFIED ${d.value}`);
  });
});
