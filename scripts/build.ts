// Bundles the CLI into one self-contained file (what the step image runs) and type-checks.
import { build } from 'esbuild';
import { chmod, copyFile, mkdir } from 'node:fs/promises';

await mkdir('dist', { recursive: true });
await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/rekor-gate.js',
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  minify: true,
  sourcemap: false,
  legalComments: 'linked',
  banner: {
    js: [
      '#!/usr/bin/env node',
      // CommonJS dependencies bundled into ESM still call require() for Node built-ins.
      "import { createRequire as __rgCreateRequire } from 'node:module';",
      'const require = __rgCreateRequire(import.meta.url);',
    ].join('\n'),
  },
  logLevel: 'warning',
});
await copyFile('dist/rekor-gate.js', 'dist/cli.js');
await chmod('dist/rekor-gate.js', 0o755);
await chmod('dist/cli.js', 0o755);
