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

/** True when a regexp is not anchored at both ends (an unanchored prefix accepts every workflow of a repository). */
export function isUnanchored(m: Matcher): boolean {
  return m.kind === 'regexp' && !(m.source.startsWith('^') && m.source.endsWith('$') && !m.source.endsWith('\\$'));
}
