/**
 * Flag names only in src/cli/: the rooms below name an input by what it is or by a label their caller hands
 * them, and leave advice to a typed hint that src/cli/hints.ts words as flags. dependency-cruiser sees imports,
 * not text, so this scans the code itself: each file with its comments removed (esbuild, which keeps every
 * string and template literal) must hold no `--flag` of rekor-gate's (any command's, as yargs declares them;
 * a V8 flag that net/ sets is none of them).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { transformSync } from 'esbuild';
import { describe, expect, it } from 'vitest';
import yargs from 'yargs';
import { getOptions, searchOptions, verifyOptions } from '../../src/cli/options.ts';
import { GateError, type Hint } from '../../src/errors.ts';
import { adviser, explain, hintText } from '../../src/cli/hints.ts';

const FLAG = /--(?:no-)?([a-z][a-z0-9-]*)/g;

/** Every flag of every command, as yargs declares them (yargs' getOptions() is untyped in @types/yargs). */
const DECLARED = new Set(
  [verifyOptions, searchOptions, getOptions].flatMap((options) =>
    Object.keys((options(yargs([])) as unknown as { getOptions(): { key: Record<string, unknown> } }).getOptions().key),
  ),
);

/** rekor-gate's `--flag` texts in a TypeScript source, comments left out. */
function flagsIn(source: string): string[] {
  const { code } = transformSync(source, { loader: 'ts', legalComments: 'none' });
  return [...code.matchAll(FLAG)].filter((m) => DECLARED.has(m[1] as string)).map((m) => m[0]);
}

const SRC = path.resolve(import.meta.dirname, '../../src');
const belowCli = readdirSync(SRC, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.ts') && !f.startsWith(`cli${path.sep}`))
  .sort();

describe('flag names only in src/cli/', () => {
  it('the scan sees a flag in a string or template, not in a comment nor a flag of another program', () => {
    expect(DECLARED).toContain('image-url');
    expect(DECLARED).toContain('trusted-root-digest');
    const source = "// --key in a comment\n/** --offline */\nconst a = 'give --key PATH';\nconst b = `${a} --image-url, --no-fail-on-unverified`;\nv8('--wasm-tiering-budget=1');\n";
    expect(flagsIn(source)).toEqual(['--key', '--image-url', '--no-fail-on-unverified']);
  });

  it('no file below src/cli/ names a flag', () => {
    expect(belowCli.length).toBeGreaterThan(50);
    const found = belowCli.flatMap((f) => flagsIn(readFileSync(path.join(SRC, f), 'utf8')).map((flag) => `src/${f}: ${flag}`));
    expect(found).toEqual([]);
  });
});

describe('the CLI words hints as flags', () => {
  const every: Hint[] = [
    { give: 'image-reference' },
    { give: 'signer', withPolicyFile: false },
    { give: 'signer', withPolicyFile: true },
    { give: 'trusted-root-file' },
    { give: 'tuf-initial-root' },
    { give: 'other-tuf-cache' },
  ];

  it('each hint names the flag that is the fix', () => {
    expect(every.map((h) => hintText(h))).toEqual([
      "pass --image-url (the Task's IMAGE_URL) so that the copy kept in the registry can be used",
      'give --key PATH (or --public-key PEM), or --certificate-identity[-regexp] with --certificate-oidc-issuer[-regexp], or --policy FILE with spec.signers',
      'give --key PATH (or --public-key PEM), or --certificate-identity[-regexp] with --certificate-oidc-issuer[-regexp], or spec.signers in the policy file',
      'pass --trusted-root PATH to verify without TUF',
      'pass its initial root.json with --tuf-root FILE',
      'pass --tuf-cache-dir DIR or --trusted-root PATH',
    ]);
  });

  it('a run given the image reference is not told to pass it', () => {
    const advise = adviser({ imageUrl: 'r.test/app:v1' });
    expect(advise({ give: 'image-reference' })).toBe('the registry of r.test/app:v1 holds no copy that this entry records');
  });

  it('an error is shown with its hint after its message; without one, as it is', () => {
    expect(explain(new GateError('USAGE', 'no signer policy: none', { hint: { give: 'signer', withPolicyFile: false } }))).toBe(
      `no signer policy: none; ${hintText({ give: 'signer', withPolicyFile: false })}`,
    );
    expect(explain(new GateError('NETWORK', 'down'))).toBe('down');
    expect(explain(new Error('plain'))).toBe('plain');
  });
});
