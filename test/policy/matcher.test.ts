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
