import { describe, expect, it } from 'vitest';
import { capped, jsonText, MAX_UNTRUSTED, printable } from '../../src/text.ts';

// Written as escapes: nothing hidden in this file either.
const RLO = '\u202e';
const ZWSP = '\u200b';
const CSI = '\u009b';
const HIDING = ['\u0007', '\u001b', '\u007f', '\u0085', CSI, '\u200b', '\u200e', '\u200f', '\u2028', '\u2029', '\u202a', RLO, '\u2066', '\u2069', '\ufeff'];

describe('untrusted text', () => {
  it('caps a string at 256 characters, with an ellipsis and its length', () => {
    const long = `https://example.test/${'a'.repeat(60_000)}`;
    const c = capped(long);
    expect(c.startsWith(long.slice(0, MAX_UNTRUSTED))).toBe(true);
    expect(c.endsWith(`… (${long.length} characters)`)).toBe(true);
    expect(c.length).toBeLessThan(MAX_UNTRUSTED + 30);
    expect(capped('short')).toBe('short');
    expect(capped('x'.repeat(MAX_UNTRUSTED))).toBe('x'.repeat(MAX_UNTRUSTED));
  });

  it('never cuts a surrogate pair in half', () => {
    const c = capped(`${'a'.repeat(MAX_UNTRUSTED - 1)}😀😀`);
    expect(c.isWellFormed()).toBe(true);
    expect(c.startsWith(`${'a'.repeat(MAX_UNTRUSTED - 1)}…`)).toBe(true);
  });

  it('printable replaces C0, C1, bidi, zero-width, separators and BOM with ?', () => {
    for (const ch of HIDING) expect(printable(`a${ch}b`), `U+${ch.charCodeAt(0).toString(16)}`).toBe('a?b');
    expect(printable('a\ud800b')).toBe('a\ufffdb');
    expect(printable('ordinary: é ü 中文 ✓')).toBe('ordinary: é ü 中文 ✓');
  });

  it('jsonText escapes them as \\u sequences, and the JSON still reads back the same', () => {
    const value = { t: `a${RLO}b${ZWSP}c${CSI}d\u2028e\ufeff\n` };
    const text = jsonText(value);
    for (const ch of HIDING) expect(text.includes(ch), `U+${ch.charCodeAt(0).toString(16)}`).toBe(false);
    expect(text).toContain('\\u202e');
    expect(text).toContain('\\u009b');
    expect(JSON.parse(text)).toEqual(value);
    expect(JSON.parse(jsonText(value, 2))).toEqual(value);
  });
});
