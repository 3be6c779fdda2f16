import yargs, { type Argv } from 'yargs';
import { VERSION } from './version.ts';

const ENV_PREFIX = 'REKOR_GATE_';

/**
 * Every flag can be given as REKOR_GATE_<FLAG> (how the Tekton step passes params without a shell);
 * an empty variable counts as unset, so an empty optional param never becomes an empty flag.
 */
function dropEmptyEnv(env: NodeJS.ProcessEnv): void {
  for (const [k, v] of Object.entries(env)) if (k.startsWith(ENV_PREFIX) && v !== undefined && v.trim() === '') delete env[k];
}

/** The log and what to trust about it: shared by verify, search and get. */
export function logOptions<T>(y: Argv<T>) {
  return y
    .option('rekor-url', { type: 'string', default: 'https://rekor.sigstore.dev', describe: 'Rekor log to search' })
    .option('trusted-root', { type: 'string', describe: 'Sigstore trusted_root.json (log keys, CAs, CT logs)' })
    .option('rekor-public-key', { type: 'string', describe: 'A private log\'s public key, PEM file' })
    .option('trust-dir', { type: 'string', describe: 'Directory holding trusted_root.json and/or rekor.pub (and ca.crt)' })
    .option('tuf-cache-dir', { type: 'string', describe: 'Cache directory for the TUF metadata and trusted root' })
    .option('tuf-mirror', { type: 'string', describe: 'A private or mirrored Sigstore TUF repository to take trusted_root.json from (default the public-good one)' })
    .option('tuf-root', { type: 'string', describe: 'The TUF repository\'s initial root.json (needed with --tuf-mirror)' })
    .option('trusted-root-digest', { type: 'string', describe: 'Pin the trusted root: sha256:<64 hex> of trusted_root.json (a file, in --trust-dir, or from TUF)' })
    .option('ca-cert', { type: 'string', describe: 'Extra CA (PEM) for TLS to a private log or registry' })
    .option('timeout', { type: 'number', default: 30, describe: 'Seconds per HTTP request, whole (at most 600)' })
    .option('output', { choices: ['text', 'json'] as const, default: 'text' as const, describe: 'Output format on stdout' });
}

export function verifyOptions<T>(y: Argv<T>) {
  return logOptions(y)
    .option('image-digest', { type: 'string', demandOption: true, describe: 'Digest of the built image, sha256:<64 hex> (buildah\'s IMAGE_DIGEST)' })
    .option('image-url', { type: 'string', describe: 'Image reference (buildah\'s IMAGE_URL); also searches the registry for .att attestations and bundle referrers' })
    .option('log-index', { type: 'string', describe: 'Verify exactly this entry (global log index) instead of searching' })
    .option('entry-url', { type: 'string', describe: 'Verify exactly this entry: <rekor>/api/v1/log/entries?logIndex=N (the chains.tekton.dev/transparency annotation)' })
    .option('key', { type: 'string', array: true, describe: 'Trusted signer public key, PEM file (repeatable)' })
    .option('key-dir', { type: 'string', describe: 'Directory (a mounted Secret): every *.pub and *.pem file in it is a trusted signer public key' })
    .option('public-key', { type: 'string', array: true, describe: 'Trusted signer public key(s) as PEM text' })
    .option('certificate-identity', { type: 'string', describe: 'Keyless: exact certificate identity (SAN)' })
    .option('certificate-identity-regexp', { type: 'string', describe: 'Keyless: certificate identity regexp (unanchored, as cosign)' })
    .option('certificate-oidc-issuer', { type: 'string', describe: 'Keyless: exact OIDC issuer' })
    .option('certificate-oidc-issuer-regexp', { type: 'string', describe: 'Keyless: OIDC issuer regexp' })
    .option('predicate-type', { type: 'string', array: true, describe: 'Allowed predicate type URI (repeatable or comma-separated; default any)' })
    .option('policy', { type: 'string', describe: 'Policy file (YAML or JSON); see "rekor-gate policy schema"' })
    .option('policy-dir', { type: 'string', describe: 'Directory (a mounted ConfigMap) holding the policy file: policy.yaml, policy.yml or policy.json' })
    .option('results-dir', { type: 'string', describe: 'Write Tekton result files here (/tekton/results)' })
    .option('results-budget', { type: 'number', default: 4096, describe: 'Bytes all result files may take together (Tekton\'s termination message; lower it in a Task with several steps)' })
    .option('wait', { type: 'number', default: 0, describe: 'Seconds to keep polling until an acceptable entry appears (at most 86400)' })
    .option('fail-on-unverified', { type: 'boolean', default: true, describe: 'Exit 1 when nothing is verified (--no-fail-on-unverified: exit 0, VERIFIED=false)' })
    .option('offline', { type: 'boolean', default: false, describe: 'Send no request to the log: verify registry-held entries from their SET or proof' })
    .option('vsa', { type: 'string', describe: 'Write a SLSA verification summary attestation (in-toto statement) to this file' })
    .option('vsa-dir', { type: 'string', describe: 'Write the VSA as vsa.json in this directory (a workspace)' })
    .option('vsa-key', { type: 'string', describe: 'Sign the VSA with this private key (PEM) and write a DSSE envelope' })
    .option('vsa-key-dir', { type: 'string', describe: 'Directory (a mounted Secret) holding the VSA signing key as vsa.key' })
    .option('vsa-upload', { type: 'boolean', default: false, describe: 'Also log the signed VSA in the Rekor instance (a dsse entry); needs --vsa-key' })
    .option('vsa-verifier-id', { type: 'string', default: 'https://github.com/rekor-gate/rekor-gate', describe: 'The verifier ID written in the VSA' })
    .conflicts('log-index', 'entry-url')
    .conflicts('policy', 'policy-dir')
    .conflicts('vsa', 'vsa-dir')
    .conflicts('vsa-key', 'vsa-key-dir');
}

export type VerifyArgs = Awaited<ReturnType<typeof verifyOptions>['argv']>;

export function searchOptions<T>(y: Argv<T>) {
  return logOptions(y).option('image-digest', { type: 'string', demandOption: true, describe: 'Digest to search for, sha256:<64 hex>' });
}
export type SearchArgs = Awaited<ReturnType<typeof searchOptions>['argv']>;

export function getOptions<T>(y: Argv<T>) {
  return logOptions(y)
    .option('uuid', { type: 'string', describe: 'Entry UUID (64 or 80 hex)' })
    .option('log-index', { type: 'string', describe: 'Global log index' })
    .conflicts('uuid', 'log-index')
    .check((a) => {
      if (a.uuid === undefined && a['log-index'] === undefined) throw new Error('give --uuid or --log-index');
      return true;
    });
}
export type GetArgs = Awaited<ReturnType<typeof getOptions>['argv']>;

/** The flags that take several values; any other flag given twice keeps its last value (as in most CLIs). */
const ARRAY_FLAGS = new Set(['key', 'public-key', 'publicKey', 'predicate-type', 'predicateType', '_']);

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
        const { runVerify } = await import('./verify-command.ts');
        exitCode = await runVerify(args as VerifyArgs);
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
