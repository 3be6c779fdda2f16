/** Child processes of the benchmark, timed from spawn to exit (with CPU time and peak RSS where /usr/bin/time exists). */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { repoRoot } from '../test/fixtures/paths.ts';
import { TIME_BIN } from './options.ts';

export type ProcResult = { code: number; stdout: string; stderr: string; wallMs: number; cpuMs?: number; maxRssKB?: number };

/** Temporary files of a measuring run (set by main, removed when it ends). */
let scratch = os.tmpdir();
export const scratchDir = (): string => scratch;
export const setScratchDir = (dir: string): void => {
  scratch = dir;
};

export const node = process.execPath;

/** What a step container gives the CLI: no NODE_OPTIONS, no compile cache, nothing inherited by accident. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'] ?? '', HOME: scratch, ...extra };
}

/**
 * Runs a command, timing it from spawn to exit. With GNU/BusyBox time available, the command runs under
 * `/usr/bin/time` for its CPU time and peak RSS (which adds about a millisecond of fork/exec to the wall time).
 * Asynchronous: the test log in this process must keep answering.
 */
export function runProcess(argv: string[], o: { env?: NodeJS.ProcessEnv; timeoutMs?: number; timed?: boolean } = {}): Promise<ProcResult> {
  const timeFile = TIME_BIN && o.timed !== false ? path.join(scratch, `time-${process.hrtime.bigint()}.txt`) : undefined;
  const full = TIME_BIN && timeFile ? [TIME_BIN, '-f', '%U %S %M', '-o', timeFile, ...argv] : argv;
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(full[0] as string, full.slice(1), {
      cwd: repoRoot,
      env: o.env ?? cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 600_000);
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - t0;
      clearTimeout(timer);
      const r: ProcResult = { code: code ?? -1, stdout, stderr, wallMs };
      if (timeFile && existsSync(timeFile)) {
        // GNU time writes "Command exited with non-zero status N" first when the command fails.
        const last = readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
        rmSync(timeFile, { force: true });
        const [u, s, m] = last.split(/\s+/).map(Number);
        if (u !== undefined && s !== undefined && m !== undefined && [u, s, m].every(Number.isFinite)) {
          r.cpuMs = (u + s) * 1000;
          r.maxRssKB = m;
        }
      }
      resolve(r);
    });
  });
}
