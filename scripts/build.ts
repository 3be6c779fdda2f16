// Bundles the CLI into one self-contained file (what the step image runs): dist/rekor-gate.js (and dist/cli.js).
//
// Cold start (measured by `npm run bench`, bench/RESULTS.md). V8 has to scan every function of a module before
// its first line runs, and all but ~120 kB of the ~1.4 MB of code (undici, ajv, @sigstore/*, yaml, ...) serve
// the commands, not `--version`, `--help` or a usage error. So:
// - src/cli/main.ts, yargs and src/cli/version.ts form the module itself;
// - the modules main.ts loads with `import()` (the commands) are bundled separately, as one CommonJS bundle,
//   appended to the file as `//` comment lines (which V8 skips at a fraction of the cost of parsing them), and
//   read back from the file and compiled (node:vm) the first time a command is imported.
// The file still needs nothing beside it: no node_modules, no chunk files.
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { chmod, copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

const ENTRY = path.resolve('src/cli/main.ts');

const common: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node24',
  minify: true,
  sourcemap: false,
  logLevel: 'warning',
};

const isLazyImport = (kind: string, importer: string): boolean => kind === 'dynamic-import' && importer === ENTRY;

// 1. The modules main.ts imports dynamically; each becomes an export (m0, m1, ...) of the commands bundle.
const lazyTargets: string[] = [];
await build({
  ...common,
  entryPoints: [ENTRY],
  format: 'esm',
  write: false,
  plugins: [
    {
      name: 'collect-lazy-imports',
      setup(b) {
        b.onResolve({ filter: /.*/ }, (args) => {
          if (!isLazyImport(args.kind, args.importer)) return undefined;
          const target = path.resolve(path.dirname(ENTRY), args.path);
          if (!lazyTargets.includes(target)) lazyTargets.push(target);
          return { path: args.path, external: true };
        });
      },
    },
  ],
});

// 2. The commands bundle: CommonJS in strict mode (as the ES module it was part of), license comments apart.
const commands = await build({
  ...common,
  stdin: {
    contents: lazyTargets.map((t, i) => `export * as m${i} from ${JSON.stringify(t)};`).join('\n'),
    resolveDir: path.dirname(ENTRY),
    sourcefile: 'rekor-gate-commands.ts',
    loader: 'ts',
  },
  outfile: 'dist/rekor-gate-commands.js',
  format: 'cjs',
  banner: { js: '"use strict";' },
  legalComments: 'external',
  write: false,
});
const commandsCode = commands.outputFiles?.find((f) => f.path.endsWith('.js'))?.text ?? '';
const commandsLegal = commands.outputFiles?.find((f) => f.path.endsWith('.LEGAL.txt'))?.text ?? '';

// The commands follow this line, each of their lines behind `//`: every JavaScript line terminator is followed
// by `//`, so that removing the `//` after each terminator gives back the exact text.
const MARK = '// rekor-gate commands (CommonJS, read back by the loader above): each line behind "//"';
const TERMINATOR = /(\r\n|[\n\r\u2028\u2029])/g;
const AFTER_TERMINATOR = /(\r\n|[\n\r\u2028\u2029])\/\//g;
const tail = `\n${MARK}\n//${commandsCode.replace(TERMINATOR, '$1//')}\n`;

// 3. The module: main.ts + yargs; each `import()` of main.ts answered from the commands, evaluated once.
//    Stack traces of the commands name dist/rekor-gate.js, with line numbers counted from the mark.
const LOADER = `
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script, constants } from 'node:vm';
let commands;
export function load() {
  if (commands === undefined) {
    const filename = fileURLToPath(import.meta.url);
    const text = readFileSync(filename, 'utf8');
    const mark = ${JSON.stringify(`\n${MARK}\n//`)};
    const at = text.lastIndexOf(mark);
    if (at < 0) throw new Error(filename + ': the commands appended to this file are missing');
    const body = text.slice(at + mark.length).replace(${AFTER_TERMINATOR.toString()}, '$1');
    const wrapped = '(function (exports, require, module, __filename, __dirname) {' + body + '\\n})';
    const fn = new Script(wrapped, { filename, importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER }).runInThisContext();
    const module = { exports: {} };
    fn.call(module.exports, module.exports, createRequire(import.meta.url), module, filename, dirname(filename));
    commands = module.exports;
  }
  return commands;
}
`;
const embedCommands: Plugin = {
  name: 'embed-commands',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (isLazyImport(args.kind, args.importer)) {
        const i = lazyTargets.indexOf(path.resolve(path.dirname(ENTRY), args.path));
        if (i < 0) throw new Error(`${args.path}: not collected in the first pass`);
        return { path: String(i), namespace: 'rekor-gate-command' };
      }
      if (args.path === 'rekor-gate:commands') return { path: 'commands', namespace: 'rekor-gate-commands' };
      return undefined;
    });
    // CommonJS, so that `import()` sees exactly the exports of the command's module, loaded on first use.
    b.onLoad({ filter: /.*/, namespace: 'rekor-gate-command' }, (args) => ({
      contents: `module.exports = require('rekor-gate:commands').load().m${args.path};`,
      loader: 'js',
    }));
    b.onLoad({ filter: /.*/, namespace: 'rekor-gate-commands' }, () => ({ contents: LOADER, loader: 'js' }));
  },
};

// yargs' help layout (cliui, wrap-ansi) measures text with string-width, which builds an Intl.Segmenter and
// Unicode-property regexps as it loads: ICU work that every start paid for, though only help and usage output
// measure text. string-width is evaluated on its first call instead (its one export is a function).
const DEFERRED: ReadonlySet<string> = new Set(['string-width']);
const deferUntilCalled: Plugin = {
  name: 'defer-until-called',
  setup(b) {
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (!DEFERRED.has(args.path) || args.kind !== 'import-statement' || args.pluginData === 'deferred') return undefined;
      const real = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: 'deferred' });
      if (real.errors.length > 0) return { errors: real.errors };
      return { path: real.path, namespace: 'deferred' };
    });
    b.onLoad({ filter: /.*/, namespace: 'deferred' }, (args) => ({
      contents: `let real;\nexport default function deferred(...a) { real ??= require(${JSON.stringify(args.path)}).default; return real(...a); }\n`,
      loader: 'js',
      resolveDir: path.dirname(args.path),
    }));
  },
};

await mkdir('dist', { recursive: true });
const main = await build({
  ...common,
  entryPoints: [ENTRY],
  outfile: 'dist/rekor-gate.js',
  format: 'esm',
  legalComments: 'linked',
  plugins: [embedCommands, deferUntilCalled],
  banner: {
    js: [
      '#!/usr/bin/env node',
      // CommonJS dependencies bundled into ESM still call require() for Node built-ins.
      "import { createRequire as __rgCreateRequire } from 'node:module';",
      'const require = __rgCreateRequire(import.meta.url);',
    ].join('\n'),
  },
  write: false,
});
const moduleCode = main.outputFiles?.find((f) => f.path.endsWith('.js'))?.text ?? '';
const moduleLegal = main.outputFiles?.find((f) => f.path.endsWith('.LEGAL.txt'))?.text ?? '';
const file = `${moduleCode.replace(/\n*$/, '')}${tail}`;

// The loader's own check, done here: the text after the last mark gives back the commands exactly.
const back = file.slice(file.lastIndexOf(`\n${MARK}\n//`) + MARK.length + 4).replace(AFTER_TERMINATOR, '$1');
if (back !== `${commandsCode}\n`) throw new Error('build: the commands appended to dist/rekor-gate.js do not read back exactly');

await writeFile('dist/rekor-gate.js', file);
// One license file for both parts.
const legal = [moduleLegal, commandsLegal].map((t) => t.replace(/^Bundled license information:\s*/, '').trim()).filter(Boolean);
if (legal.length > 0) await writeFile('dist/rekor-gate.js.LEGAL.txt', `Bundled license information:\n\n${legal.join('\n\n')}\n`);
await copyFile('dist/rekor-gate.js', 'dist/cli.js');
await chmod('dist/rekor-gate.js', 0o755);
await chmod('dist/cli.js', 0o755);
