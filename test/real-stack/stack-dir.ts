import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * One started stack's temporary directory (data, logs and the TMPDIR its servers write through) and its
 * processes, stopped in reverse order. close(keep) leaves the directory, logs included, when a test failed.
 */
export class StackDir {
  readonly dir: string;
  readonly logDir: string;
  private readonly served: { stop(): Promise<void> }[] = [];

  constructor(prefix: string) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), `rekor-gate-${prefix}-`));
    this.logDir = this.dir;
  }

  add<T extends { stop(): Promise<void> }>(s: T): T {
    this.served.push(s);
    return s;
  }

  async close(keep: boolean): Promise<void> {
    for (const s of this.served.reverse()) await s.stop().catch(() => undefined);
    this.served.length = 0;
    if (keep) console.warn(`real stack: a test failed; logs and data kept in ${this.dir}`);
    else rmSync(this.dir, { recursive: true, force: true });
  }
}
