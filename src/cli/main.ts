import yargs, { type Argv } from 'yargs';
import { getOptions, searchOptions, verifyOptions, type GetArgs, type SearchArgs, type VerifyArgs } from './options.ts';
import { VERSION } from './version.ts';

const ENV_PREFIX = 'REKOR_GATE_';

/**
 * Every flag can be given as REKOR_GATE_<FLAG> (how the Tekton step passes params without a shell);
 * an empty variable counts as unset, so an empty optional param never becomes an empty flag.
 */
function dropEmptyEnv(env: NodeJS.ProcessEnv): void {
  for (const [k, v] of Object.entries(env)) if (k.startsWith(ENV_PREFIX) && v !== undefined && v.trim() === '') delete env[k];
}

/** The flags that take several values; any other flag given twice keeps its last value (as in most CLIs). */
const ARRAY_FLAGS = new Set(['key', 'public-key', 'publicKey', 'predicate-type', 'predicateType', 'accept-vsa-from', 'acceptVsaFrom', '_']);

function lastOfRepeated(argv: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(argv)) if (Array.isArray(v) && !ARRAY_FLAGS.has(k)) argv[k] = v[v.length - 1];
}

const COMMAND_OPTIONS: Record<string, (y: Argv) => Argv<unknown>> = {
  verify: (y) => verifyOptions(y),
  search: (y) => searchOptions(y),
  get: (y) => getOptions(y),
};

/**
 * REKOR_GATE_* variables that name no flag of the command run are left out (with a note), rather than failing
 * the run as unknown arguments: a step's environment may carry variables meant for another command.
 */
function dropForeignEnv(command: string | undefined, env: NodeJS.ProcessEnv): void {
  const options = command === undefined ? undefined : COMMAND_OPTIONS[command];
  if (!options || !Object.keys(env).some((k) => k.startsWith(ENV_PREFIX))) return;
  // getOptions() is yargs' own (untyped in @types/yargs) list of the flags declared so far.
  const declared = options(yargs([])) as unknown as { getOptions(): { key: Record<string, unknown> } };
  const known = new Set(Object.keys(declared.getOptions().key));
  for (const k of Object.keys(env)) {
    if (!k.startsWith(ENV_PREFIX)) continue;
    const flag = k.slice(ENV_PREFIX.length).toLowerCase().replaceAll('_', '-');
    if (!known.has(flag)) {
      process.stderr.write(`rekor-gate: note: ${k} is not a flag of "${command}"; ignored\n`);
      delete env[k];
    }
  }
}

/**
 * yargs lays out the whole help text each time a command runs (usage.cacheHelpMessage, kept for a showHelp()
 * inside an async handler, which rekor-gate never calls): ~20 ms of CPU before verify's first request.
 * Skipped through yargs' internal methods (untyped in @types/yargs); help and usage errors are unaffected.
 */
function skipHelpCache(parser: Argv): void {
  type Internals = { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } };
  const usage = (parser as unknown as Internals).getInternalMethods?.().getUsageInstance?.();
  if (usage?.cacheHelpMessage) usage.cacheHelpMessage = () => undefined;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  dropEmptyEnv(env);
  dropForeignEnv(argv[0], env);
  let exitCode = 0;
  const parser = yargs(argv)
    .scriptName('rekor-gate')
    .middleware(lastOfRepeated, true)
    .env('REKOR_GATE')
    .command(
      'verify',
      'Find the image\'s attestations in Rekor (and the registry), verify them, write Tekton results',
      (y) => verifyOptions(y),
      async (args) => {
        const a = args as VerifyArgs;
        // Several subjects (a list of images, an index and its platforms) run the one-image pipeline per subject.
        if (a.images !== undefined) exitCode = await (await import('./images-command.ts')).runVerifyImages({ ...a, images: a.images });
        else if (a.platforms !== undefined) exitCode = await (await import('./platforms-command.ts')).runVerifyPlatforms({ ...a, platforms: a.platforms });
        else exitCode = await (await import('./verify-command.ts')).runVerify(a);
      },
    )
    .command(
      'search',
      'List the log entries indexed under a digest, with their log-level verification (like rekor-cli search)',
      (y) => searchOptions(y),
      async (args) => {
        const { runSearch } = await import('./inspect-commands.ts');
        exitCode = await runSearch(args as SearchArgs);
      },
    )
    .command(
      'get',
      'Show one log entry, with its log-level verification (like rekor-cli get)',
      (y) => getOptions(y),
      async (args) => {
        const { runGet } = await import('./inspect-commands.ts');
        exitCode = await runGet(args as GetArgs);
      },
    )
    .command('policy schema', 'Print the JSON Schema of policy files', {}, async () => {
      const { policySchema } = await import('../policy/file.ts');
      process.stdout.write(`${JSON.stringify(policySchema(), null, 2)}\n`);
    })
    .demandCommand(1, 'name a command: verify, search, get, policy schema')
    .strict()
    .version(VERSION)
    .help()
    .wrap(Math.min(120, process.stdout.columns || 100))
    // Only argument validation reaches here: the command handlers turn their own errors into exit codes.
    .fail((msg, err) => {
      throw Object.assign(err ?? new Error(msg), { usage: true });
    });
  skipHelpCache(parser);
  try {
    await parser.parseAsync();
  } catch (err) {
    const e = err as Error & { usage?: boolean };
    process.stderr.write(`rekor-gate: ${e.usage ? 'usage error' : 'error'}: ${e.message}\n`);
    if (e.usage) process.stderr.write('Run "rekor-gate <command> --help" for the flags.\n');
    return e.usage ? 2 : 1;
  }
  return exitCode;
}
