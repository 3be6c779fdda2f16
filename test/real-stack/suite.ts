import { afterAll, afterEach, beforeAll, describe } from 'vitest';
import { needs } from '../fixtures/needs.ts';
import { missingTools, skipReason, type ToolName } from './tools.ts';

/**
 * describe() when every named tool of the real stack is installed (and, with `registry`, Debian's docker-registry,
 * through needs()), else describe.skip with a loud warning naming what is missing (under CI=true a missing tool
 * fails the file instead, as needs() does: CI installs them, so a skip there would hide a broken install).
 */
export function describeWithTools(names: readonly (ToolName | 'mariadb')[], o: { registry?: string } = {}): typeof describe | typeof describe.skip {
  // the registry as every registry suite needs it (test/fixtures/needs.ts: loud, fatal under CI=true)
  if (o.registry !== undefined && !needs(o.registry, { tools: ['docker-registry'] }).ok) return describe.skip;
  const missing = missingTools(names);
  if (missing.length === 0) return describe;
  const reason = skipReason(missing);
  if (process.env['CI'] === 'true') throw new Error(reason);
  console.warn(`SKIPPED: ${reason}`);
  return describe.skip;
}

/**
 * Starts a stack before the suite's tests and stops it after them, keeping its directory (logs) when any test
 * failed. The returned getter throws before the stack is up.
 */
export function useStack<T extends { stop(keepLogs?: boolean): Promise<void> }>(start: () => Promise<T>): () => T {
  let stack: T | undefined;
  let failed = false;
  beforeAll(async () => {
    stack = await start();
  }, 900_000); // a stack may wait for another file's to release the metrics port (metrics-lock.ts)
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') failed = true;
  });
  afterAll(async () => {
    await stack?.stop(failed);
  }, 60_000);
  return () => {
    if (!stack) throw new Error('the stack is not started');
    return stack;
  };
}
