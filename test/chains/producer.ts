/**
 * Tekton Chains itself as the producer: the chains-producer binaries (test/chains-producer, built by
 * scripts/chains-producer/install.sh into the tools cache outside the repository) sign a TaskRun or PipelineRun
 * with Chains' own code, push `.sig`/`.att` to a registry and upload to a Rekor log, and print the annotations
 * Chains left on the run. This module finds the binaries, fills the runs written for these tests
 * (test/chains/runs/*.json, `${NAME}` placeholders) and keeps what Chains produced as a corpus in the cache.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../fixtures/paths.ts';

const run = promisify(execFile);

/** The tools cache (not REKOR_GATE_*, which the CLI reads as flags); scripts/chains-producer/install.sh writes here. */
export const TOOLS_DIR = process.env['GATE_TOOLS'] ?? path.join(os.homedir(), '.cache', 'rekor-gate', 'tools');

/** Where the provenance Chains wrote is kept for the provenance-rules work: <dir>/<version>/<format>/<run>.json. */
export const CORPUS_DIR = process.env['GATE_CHAINS_CORPUS'] ?? path.join(os.homedir(), '.cache', 'rekor-gate', 'chains-corpus');

/**
 * A Chains release the producer is built for, the Rekor entry kind it logs provenance as, and the registry
 * layouts it writes (`storage.oci.encoding-format`, v0.29+: `dsse`, the .att/.sig tags, or `sigstore-bundle`).
 */
export type ChainsRelease = { version: 'v0.28.1' | 'v0.29.1'; provenanceKind: 'intoto 0.0.1' | 'dsse 0.0.1'; layouts: readonly ('att' | 'bundle')[] };

export const RELEASES: readonly ChainsRelease[] = [
  { version: 'v0.28.1', provenanceKind: 'intoto 0.0.1', layouts: ['att'] },
  { version: 'v0.29.1', provenanceKind: 'dsse 0.0.1', layouts: ['att', 'bundle'] },
];

/** The provenance formats both releases register (pkg/chains/formats/all), and the predicate type each writes. */
export const FORMATS = [
  { format: 'slsa/v1', predicateType: 'https://slsa.dev/provenance/v0.2' },
  { format: 'slsa/v2alpha3', predicateType: 'https://slsa.dev/provenance/v1' },
  { format: 'slsa/v2alpha4', predicateType: 'https://slsa.dev/provenance/v1' },
] as const;

export function producerPath(version: string): string {
  return path.join(TOOLS_DIR, `chains-producer-${version}`);
}

/** Why the Chains tests cannot run here, or undefined when the producer of `version` is installed. */
export function producerMissing(version: string): string | undefined {
  const bin = producerPath(version);
  if (existsSync(bin)) return undefined;
  return `Tekton Chains ${version} producer not built (${bin} missing): run scripts/chains-producer/install.sh (needs Go and the module proxy; .ci/run does it)`;
}

export type SignedRun = { kind: 'TaskRun' | 'PipelineRun'; name: string; annotations: Record<string, string> };
export type ProducerOutput = { chainsVersion: string; runs: SignedRun[] };

/** Writes a signing-secrets directory (cosign.key, cosign.password, cosign.pub) with the cosign Chains links. */
export async function generateSigningSecrets(version: string, dir: string): Promise<{ dir: string; publicKeyPath: string }> {
  await run(producerPath(version), ['--generate-key', dir], { timeout: 60_000 });
  return { dir, publicKeyPath: path.join(dir, 'cosign.pub') };
}

/** The run written for these tests with its `${NAME}` placeholders filled. */
export function fillRun(name: string, values: Record<string, string>): string {
  const text = readFileSync(path.join(repoRoot, 'test', 'chains', 'runs', `${name}.json`), 'utf8');
  return text.replace(/\$\{([A-Z0-9_]+)\}/g, (_, k: string) => {
    const v = values[k];
    if (v === undefined) throw new Error(`runs/${name}.json: placeholder \${${k}} has no value`);
    return v;
  });
}

/** The chains-config data of one signing: every run kind in `format`, stored in OCI, uploaded to `rekorUrl`. */
export function chainsConfig(format: string, rekorUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'artifacts.taskrun.format': format,
    'artifacts.taskrun.storage': 'oci',
    'artifacts.pipelinerun.format': format,
    'artifacts.pipelinerun.storage': 'oci',
    'artifacts.oci.format': 'simplesigning',
    'artifacts.oci.storage': 'oci',
    'transparency.enabled': 'true',
    'transparency.url': rekorUrl,
    'builder.id': 'https://tekton.dev/chains/v2',
    'storage.oci.repository.insecure': 'true',
    ...extra,
  };
}

/** Runs the producer of `version` on `runJson` with `config`; its stderr (Chains' log) comes with a failure. */
export async function produce(version: string, dir: string, runJson: string, config: Record<string, string>, secretsDir: string): Promise<ProducerOutput> {
  mkdirSync(dir, { recursive: true });
  const runFile = path.join(dir, 'run.json');
  const configFile = path.join(dir, 'chains-config.json');
  writeFileSync(runFile, runJson);
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  try {
    const { stdout, stderr } = await run(producerPath(version), ['--run', runFile, '--config', configFile, '--secrets', secretsDir], {
      timeout: 120_000,
      maxBuffer: 16 << 20,
      env: { PATH: process.env['PATH'] ?? '', HOME: dir },
    });
    writeFileSync(path.join(dir, 'chains.log'), stderr);
    return JSON.parse(stdout) as ProducerOutput;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`chains-producer ${version} failed: ${err.message}\n${(err.stderr ?? '').slice(-4000)}`, { cause: e });
  }
}

/** Keeps what Chains produced for one release × format × run: the statements it signed and the annotations. */
export function keepCorpus(version: string, format: string, runName: string, doc: unknown): string {
  const file = path.join(CORPUS_DIR, version, format.replace('/', '-'), `${runName}.json`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
  return file;
}
