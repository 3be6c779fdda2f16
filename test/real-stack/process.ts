import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A port nothing listens on at 127.0.0.1 right now (the kernel's pick, released for the server to take). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export type Served = { readonly name: string; readonly logFile: string; readonly child: ChildProcess; stop(): Promise<void> };

/** The last `n` characters of a log, for an error message. */
export function logTail(file: string, n = 4000): string {
  try {
    const t = readFileSync(file, 'utf8');
    return t.length > n ? `…${t.slice(-n)}` : t;
  } catch {
    return '(no log)';
  }
}

/**
 * Starts a server process with its stdout and stderr in `<logDir>/<name>.log`, and waits until `ready()`
 * answers true (polled) or the process exits or `timeoutMs` passes (then it is killed and the error carries the
 * log's tail). stop() sends SIGTERM, then SIGKILL after 5 s.
 */
export async function startServer(o: {
  name: string;
  bin: string;
  args: readonly string[];
  env: Record<string, string>;
  logDir: string;
  ready: () => Promise<boolean>;
  timeoutMs?: number;
}): Promise<Served> {
  const logFile = path.join(o.logDir, `${o.name}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  log.write(`$ ${o.bin} ${o.args.join(' ')}\n`);
  const child = spawn(o.bin, o.args, { env: o.env, stdio: ['ignore', 'pipe', 'pipe'], cwd: o.logDir });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  let exited: string | undefined;
  const exit = new Promise<void>((resolve) =>
    child.on('exit', (code, signal) => {
      exited = `exited (${code ?? signal})`;
      resolve();
    }),
  );
  child.on('error', (e) => (exited = `failed to start: ${e.message}`));
  const stop = async (): Promise<void> => {
    if (exited === undefined) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(killer);
    }
    await new Promise<void>((r) => log.end(r));
  };
  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  for (;;) {
    if (exited !== undefined) {
      await stop();
      throw new Error(`${o.name} ${exited} before it was ready; ${logFile}:\n${logTail(logFile)}`);
    }
    if (await o.ready().catch(() => false)) return { name: o.name, logFile, child, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${o.name} not ready within ${o.timeoutMs ?? 60_000} ms; ${logFile}:\n${logTail(logFile)}`);
    }
    await sleep(200);
  }
}

/** True when a GET of `url` answers with status 200. */
export async function answers200(url: string): Promise<boolean> {
  const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await r.arrayBuffer();
  return r.status === 200;
}

/** True when something accepts TCP connections at 127.0.0.1:port. */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
