import { GateError } from '../errors.ts';

/** An identity or issuer matcher: exact string, or a regexp matched the way cosign matches (unanchored). */
export type Matcher = { readonly kind: 'exact'; readonly value: string } | { readonly kind: 'regexp'; readonly re: RegExp; readonly source: string };

export function exact(value: string): Matcher {
  return { kind: 'exact', value };
}

export function regexp(source: string, flag: string): Matcher {
  try {
    return { kind: 'regexp', re: new RegExp(source), source };
  } catch (err) {
    throw new GateError('USAGE', `${flag} "${source}" is not a valid regular expression: ${(err as Error).message}`);
  }
}

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

/**
 * True when a regexp does not pin the whole value: not `^...$` (an unanchored prefix accepts every workflow of a
 * repository, and an unanchored issuer any host that contains it), or with a top-level alternation.
 */
export function isUnanchored(m: Matcher): boolean {
  if (m.kind !== 'regexp') return false;
  const s = m.source;
  const endsWithAnchor = s.endsWith('$') && !/(^|[^\\])(\\\\)*\\\$$/.test(s);
  return !(s.startsWith('^') && endsWithAnchor) || hasTopLevelAlternation(s);
}
