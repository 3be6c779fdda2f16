import { describe, expect, it } from 'vitest';
import { exact, isUnanchored, matches, regexp } from '../../src/policy/matcher.ts';
import { GateError } from '../../src/errors.ts';

describe('identity matching', () => {
  it('matches exact identities to the letter', () => {
    expect(matches(exact('https://github.com/o/r/.github/workflows/x.yml@refs/heads/main'), 'https://github.com/o/r/.github/workflows/x.yml@refs/heads/main')).toBe(true);
    // an exact identity is not a pattern: its dots are dots
    expect(matches(exact('a.b'), 'axb')).toBe(false);
    expect(matches(exact('x'), undefined)).toBe(false);
  });

  it('matches regexps unanchored, as cosign does', () => {
    const m = regexp('github.com/o/', '--certificate-identity-regexp');
    expect(matches(m, 'https://github.com/o/r/.github/workflows/x.yml@refs/heads/main')).toBe(true);
    expect(isUnanchored(m)).toBe(true);
    expect(isUnanchored(regexp('^https://github\\.com/o/r/.*$', 'f'))).toBe(false);
    expect(isUnanchored(exact('x'))).toBe(false);
  });

  it('rejects an invalid regexp as a usage error', () => {
    try {
      regexp('(', '--certificate-identity-regexp');
      expect.unreachable();
    } catch (err) {
      expect((err as GateError).code).toBe('USAGE');
      expect((err as Error).message).toContain('--certificate-identity-regexp');
    }
  });
});

describe('anchoring', () => {
  it('counts only ^...$ without a top-level alternation as pinning the whole value', () => {
    const unanchored = ['github.com/o/', '^https://github.com/o/', 'x$', '^a|b$', '^a\\$', '^(a)|(b)$'];
    const anchored = ['^https://github\\.com/o/r/\\.github/workflows/x\\.yml@refs/heads/main$', '^(a|b)$', '^[|]$', '^a\\\\$'];
    for (const s of unanchored) expect(isUnanchored(regexp(s, 'f')), s).toBe(true);
    for (const s of anchored) expect(isUnanchored(regexp(s, 'f')), s).toBe(false);
  });
});

/** Identity regexps are written for Go (cosign, Kyverno, policy-controller): matched with RE2 semantics. */
describe('regexps are Go RE2, matched in linear time', () => {
  const main = 'https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main';

  it('\\z is the end of the text, as in Go (JavaScript would read a literal z)', () => {
    const m = regexp('^https://github\\.com/acme/app/.*@refs/heads/main\\z', 'f');
    expect(matches(m, main)).toBe(true);
    expect(matches(m, `${main}z-evil`)).toBe(false);
    expect(matches(m, `${main}-evil`)).toBe(false);
    expect(isUnanchored(m)).toBe(false);
    expect(isUnanchored(regexp('\\A^?https://x\\z', 'f'))).toBe(false);
  });

  it('$ without (?m) is the end of the text only, as in Go', () => {
    expect(matches(regexp('^main$', 'f'), 'main\n')).toBe(false);
  });

  it('Go syntax JavaScript lacks: (?i), (?P<name>), [[:alpha:]], \\x{41}', () => {
    expect(matches(regexp('(?i)^HTTPS://GITHUB\\.COM/', 'f'), main)).toBe(true);
    expect(matches(regexp('^(?P<scheme>https)://', 'f'), main)).toBe(true);
    expect(matches(regexp('^[[:alpha:]]+://', 'f'), main)).toBe(true);
    expect(matches(regexp('^\\x{68}ttps', 'f'), main)).toBe(true);
  });

  it('matches unanchored, as cosign (regexp.MatchString)', () => {
    expect(matches(regexp('acme/app/', 'f'), main)).toBe(true);
    expect(matches(regexp('acme/other/', 'f'), main)).toBe(false);
  });

  it('a catastrophic-backtracking pattern against a long SAN answers at once (linear time)', () => {
    const m = regexp('^(a+)+$', 'f');
    // A backtracking engine would take about 2^40 steps here; RE2 is linear in the input.
    expect(matches(m, `${'a'.repeat(40)}!`)).toBe(false);
    expect(matches(m, `${'a'.repeat(100_000)}!`)).toBe(false);
    expect(matches(m, 'a'.repeat(100_000))).toBe(true);
  });

  it.each([
    ['a backreference', '^(a)\\1$', /invalid escape sequence: `\\1`/],
    ['a lookahead', '^a(?=b)', /invalid or unsupported Perl syntax: `\(\?=`/],
    ['a negative lookahead', '^(?!evil)', /invalid or unsupported Perl syntax: `\(\?!`/],
    ['a lookbehind', '(?<=a)b', /invalid named capture/],
    ['\\Z (not Go)', 'main\\Z', /invalid escape sequence: `\\Z`/],
    ['a possessive quantifier', 'a++', /invalid nested repetition operator: `\+\+`/],
  ])('%s is a usage error naming the construct (RE2 rejects it)', (_, source, construct) => {
    try {
      regexp(source, '--certificate-identity-regexp');
      expect.unreachable();
    } catch (err) {
      expect((err as GateError).code).toBe('USAGE');
      expect((err as Error).message).toContain('--certificate-identity-regexp');
      expect((err as Error).message).toMatch(construct);
      expect((err as Error).message).toMatch(/RE2/);
    }
  });
});

