/**
 * Text from entries, registries and servers, made safe to print: control characters (which could fake lines or
 * colours in a CI log) and lone surrogates replaced. Newlines are control characters too: one message, one line.
 */
export function printable(text: string): string {
  return text.toWellFormed().replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');
}
