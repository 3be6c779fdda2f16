import { RE2JS } from 're2js';

/**
 * An ImageValidatingPolicy's `matchImageReferences[].glob`: Kyverno compiles it with github.com/gobwas/glob and
 * no separators (kyverno/kyverno 111e07bbecc66abfde36ab99969af22d7a961003 pkg/cel/compiler/compiler.go
 * CompileMatchImageReference: `glob.Compile(match.Glob)`), so `*` matches any run of characters, `/` and `:`
 * included; `?` one character; `[abc]`, `[a-z]`, `[!a]` a class; `{a,b}` alternatives; `\` escapes. No npm glob
 * library has these semantics (they treat `/` as a separator), so the glob is translated here to an anchored RE2
 * regexp (re2js), matched in linear time.
 */
export function globToRegExp(glob: string): RE2JS {
  let out = '';
  let depth = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '\\') {
      const next = glob[++i];
      if (next === undefined) throw new Error(`glob ${glob}: ends with an escape`);
      out += RE2JS.quote(next);
    } else if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) throw new Error(`glob ${glob}: unclosed [`);
      let body = glob.slice(i + 1, end);
      const negate = body.startsWith('!');
      if (negate) body = body.slice(1);
      out += `[${negate ? '^' : ''}${body.replace(/[\\\]^[]/g, (m) => `\\${m}`)}]`;
      i = end;
    } else if (c === '{') {
      depth++;
      out += '(?:';
    } else if (c === '}' && depth > 0) {
      depth--;
      out += ')';
    } else if (c === ',' && depth > 0) out += '|';
    else out += RE2JS.quote(c);
  }
  if (depth > 0) throw new Error(`glob ${glob}: unclosed {`);
  return RE2JS.compile(`^(?:${out})$`, RE2JS.DOTALL);
}
