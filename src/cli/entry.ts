// The program's entry (dist/rekor-gate.js): the only place that sets the exit code.
// `--version` alone is answered here, without loading yargs; every other run loads the CLI (src/cli/main.ts)
// with `import()`, and each command loads its own modules the same way (scripts/build.ts: lazy chunks).
import { VERSION } from './version.ts';

async function run(argv: string[]): Promise<number> {
  if (argv.length === 1 && argv[0] === '--version') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const { main } = await import('./main.ts');
  return main(argv, process.env);
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`rekor-gate: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
