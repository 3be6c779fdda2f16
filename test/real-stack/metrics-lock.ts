import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * rekor-server v1 and timestamp-server serve their metrics on :2112, a port no flag moves
 * (rekor cmd/rekor-server/app/serve.go at v1.5.4; timestamp-authority pkg/server/prometheus.go at v2.1.3, where a
 * failure to bind it is fatal). The stacks that start them hold this machine-wide lock (a directory in the
 * system temp dir naming its holder's pid; a dead holder's is taken over), so one runs at a time. Within one
 * process (one test file) it is re-entrant: a file may start both, which then share the port as they can.
 */
const LOCK = path.join(os.tmpdir(), 'rekor-gate-metrics-2112.lock');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let held = 0;

/** Takes the machine-wide lock on the fixed metrics port, waiting for another holder up to 10 minutes. */
export async function lockMetricsPort(): Promise<() => void> {
  const release = (): void => {
    held -= 1;
    if (held === 0) rmSync(LOCK, { recursive: true, force: true });
  };
  if (held > 0) {
    held += 1;
    return release;
  }
  const deadline = Date.now() + 600_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(path.join(LOCK, 'pid'), String(process.pid));
      held = 1;
      return release;
    } catch {
      let holder = NaN;
      try {
        holder = Number(readFileSync(path.join(LOCK, 'pid'), 'utf8'));
      } catch {
        // being written or removed: look again
      }
      if (Number.isInteger(holder) && !alive(holder)) rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`${LOCK} held by pid ${holder} for 10 minutes`);
      await sleep(500);
    }
  }
}

