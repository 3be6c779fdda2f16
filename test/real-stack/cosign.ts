import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { toolPath } from './tools.ts';

export type CosignVersion = 'cosign2' | 'cosign3';
export type Run = { code: number; stdout: string; stderr: string };

/** Runs a binary of the stack with a clean environment (HOME and TUF_ROOT inside `home`, nothing from the user's). */
export function runTool(bin: string, args: readonly string[], o: { home: string; env?: Record<string, string>; timeoutMs?: number }): Promise<Run> {
  mkdirSync(path.join(o.home, 'tuf'), { recursive: true });
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: o.home, TUF_ROOT: path.join(o.home, 'tuf'), TMPDIR: o.home, ...o.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** Runs one of the two cosigns (an empty key password); fails with its output unless it exits 0. */
export async function cosign(version: CosignVersion, args: readonly string[], o: { home: string; env?: Record<string, string> }): Promise<Run> {
  // attest and sign ask before uploading to a log: --yes answers
  const full = args[0] === 'attest' || args[0] === 'sign' ? [args[0], '--yes', ...args.slice(1)] : args;
  const r = await runTool(toolPath(version), full, { ...o, env: { COSIGN_PASSWORD: '', ...o.env } });
  if (r.code !== 0) throw new Error(`${version} ${args.join(' ')} exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
  return r;
}

/** A cosign key pair (`cosign generate-key-pair`, empty password): paths of cosign.key and cosign.pub. */
export async function cosignKeyPair(version: CosignVersion, home: string, dir: string): Promise<{ key: string; pub: string }> {
  mkdirSync(dir, { recursive: true });
  await cosign(version, ['generate-key-pair', '--output-key-prefix', path.join(dir, 'cosign')], { home });
  return { key: path.join(dir, 'cosign.key'), pub: path.join(dir, 'cosign.pub') };
}

/** A SLSA v0.2 provenance predicate as Chains writes it (builder, buildType, invocation), in a file. */
export function provenancePredicate(dir: string, builderId: string): string {
  const file = path.join(dir, `predicate-${Math.random().toString(16).slice(2)}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      builder: { id: builderId },
      buildType: 'tekton.dev/v1beta1/TaskRun',
      invocation: { configSource: {}, parameters: {} },
      metadata: { buildStartedOn: new Date().toISOString(), completeness: { parameters: false, environment: false, materials: false }, reproducible: false },
      materials: [],
    }),
  );
  return file;
}
