import { RE2JS, RE2JSException } from 're2js';
import { GateError, errorMessage } from '../errors.ts';

/**
 * An identity or issuer matcher: exact string, or a regexp matched the way cosign matches (unanchored). Regexps
 * are Go's RE2 dialect, the one users copy from cosign, Kyverno and policy-controller policies, run by `re2js`
 * (a port of RE2): `\z` is the end of the text, `(?i)`/`(?P<name>)`/`[[:alpha:]]` work, and matching takes time
 * linear in the input (no backtracking), whatever the pattern.
 */
export type Matcher = { readonly kind: 'exact'; readonly value: string } | { readonly kind: 'regexp'; readonly re: RE2JS; readonly source: string };

export function exact(value: string): Matcher {
  return { kind: 'exact', value };
}

/** Compiles an RE2 regexp; what RE2 rejects (backreferences, lookaround, ...) is a usage error naming the construct. */
export function regexp(source: string, flag: string): Matcher {
  try {
    return { kind: 'regexp', re: RE2JS.compile(source), source };
  } catch (err) {
    const why = err instanceof RE2JSException ? err.message : errorMessage(err);
    throw new GateError(
      'USAGE',
      `${flag} "${source}" is not a valid RE2 (Go) regular expression: ${why} (RE2 has no backreferences, lookahead or lookbehind)`,
    );
  }
}

/** cosign's `regexp.MatchString`: the pattern may match anywhere in the value. */
export function matches(m: Matcher, value: string | undefined): boolean {
  if (value === undefined) return false;
  return m.kind === 'exact' ? m.value === value : m.re.test(value);
}

export function describe(m: Matcher): string {
  return m.kind === 'exact' ? `"${m.value}"` : `/${m.source}/`;
}

/** Whether a regexp source has a `|` outside any group or class (`^a|b$` anchors only `a` at the start). */
function hasTopLevelAlternation(source: string): boolean {
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === '\\') i++;
    else if (inClass) inClass = ch !== ']';
    else if (ch === '[') inClass = true;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === '|' && depth === 0) return true;
  }
  return false;
}

/** Whether `source` ends with `anchor` itself, not with an escaped last character (`\$` is a literal dollar). */
function endsWithUnescaped(source: string, anchor: string): boolean {
  if (!source.endsWith(anchor)) return false;
  let backslashes = 0;
  for (let i = source.length - anchor.length - 1; i >= 0 && source[i] === '\\'; i--) backslashes++;
  return backslashes % 2 === 0;
}

/**
 * True when a regexp does not pin the whole value: not `^...$` (or `\A`, `\z`; an unanchored prefix accepts
 * every workflow of a repository, and an unanchored issuer any host that contains it), or with a top-level
 * alternation.
 */
export function isUnanchored(m: Matcher): boolean {
  if (m.kind !== 'regexp') return false;
  const s = m.source.replace(/^\(\?[imsU-]+\)/, ''); // leading flags, e.g. (?i)
  const starts = s.startsWith('^') || s.startsWith('\\A');
  const ends = endsWithUnescaped(s, '$') || endsWithUnescaped(s, '\\z');
  return !(starts && ends) || hasTopLevelAlternation(s);
}
