/**
 * Text from logs, registries, statements and servers is untrusted: it may be huge, and it may carry characters
 * that fake lines or colours in a CI log (C0 and C1 controls), reorder what is shown (bidi overrides and
 * isolates) or hide text (zero-width characters, BOM). Every such string goes through this module on its way out:
 * - `capped` where it is taken into a result, a field or a message (at most MAX_UNTRUSTED characters);
 * - `printable` on text output and result files (the characters above replaced with `?`);
 * - `jsonText` for JSON output (the same characters written as `\u` escapes, so no reader sees them raw).
 */

/** The most characters of one untrusted string that rekor-gate shows (predicate type, identity, builder ID ...). */
export const MAX_UNTRUSTED = 256;

/**
 * C0 controls and DEL, C1 controls (U+0080-009F), zero-width and directional marks (U+200B-200F), line and
 * paragraph separators (U+2028/2029), bidi embeddings and overrides (U+202A-202E), bidi isolates (U+2066-2069)
 * and the zero-width no-break space / BOM (U+FEFF).
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;
/** The same less C0, which JSON.stringify escapes in strings (and whose newlines format the JSON itself). */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

/**
 * At most `max` characters of an untrusted string; a longer one is cut, with an ellipsis and its full length:
 * `https://aaaa… (60000 characters)`. Never splits a surrogate pair.
 */
export function capped(text: string, max = MAX_UNTRUSTED): string {
  if (text.length <= max) return text;
  let head = text.slice(0, max);
  const last = head.charCodeAt(head.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) head = head.slice(0, -1);
  return `${head}… (${text.length} characters)`;
}

/**
 * Text made safe to print: the characters above and lone surrogates replaced with `?`. Newlines are control
 * characters too: one message, one line.
 */
export function printable(text: string): string {
  return text.toWellFormed().replace(UNSAFE, '?');
}

const escape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * JSON.stringify, with every character above written as a `\u` escape (JSON.stringify escapes C0 controls and
 * lone surrogates, but writes DEL, C1, bidi and zero-width characters raw). The value is unchanged for a JSON
 * reader; a terminal or log viewer shows the escape. Safe on the whole text: these characters only occur inside
 * JSON strings.
 */
export function jsonText(value: unknown, space?: number): string {
  return (JSON.stringify(value, null, space) ?? 'null').replace(UNSAFE_IN_JSON, escape);
}
