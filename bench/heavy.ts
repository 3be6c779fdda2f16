/**
 * Peak memory of the heaviest inputs (test/fixtures/hostile-peers.ts HEAVY_INPUTS: what a hostile log or registry
 * can send), each measured alone: one whole CLI process per input, under /usr/bin/time, with no memory limit (so
 * with the present caps, net/budget.ts), after its own peers are started and nothing else runs in the process.
 * Each run must end as the input means it to (exit code); the figures sit beside the whole-process ones of a
 * normal run. test/container/memory.test.ts runs the same inputs in the step image under the Task's limit.
 */
import { PRESENT_CAPS } from '../src/net/budget.ts';
import { HEAVY_INPUTS, peers } from '../test/fixtures/hostile-peers.ts';
import type { World } from '../test/fixtures/world.ts';
import { CLI } from './options.ts';
import { cleanEnv, node, runProcess } from './process.ts';

export type HeavyRun = { name: string; code: number; wallMs: number; cpuMs?: number; maxRssKB?: number };

export async function heavyRuns(w: World, log: (line: string) => void): Promise<HeavyRun[]> {
  const out: HeavyRun[] = [];
  for (const h of HEAVY_INPUTS) {
    const p = peers();
    try {
      const s = await h.setUp(p, w);
      const args = ['verify', '--image-digest', s.digest, '--rekor-url', s.rekorUrl, '--trusted-root', w.trustedRootPath, '--key', w.keyPath, '--timeout', String(s.timeoutSeconds), '--output', 'json'];
      if (s.imageUrl) args.push('--image-url', s.imageUrl);
      const r = await runProcess([node, CLI, ...args], { env: cleanEnv() });
      const want = h.end(PRESENT_CAPS).code;
      if (r.code !== want) throw new Error(`${h.name}: expected exit ${want}, got ${r.code}\n${r.stderr.slice(-2000)}`);
      log(`  ${h.name}: exit ${r.code}, ${r.maxRssKB === undefined ? '?' : (r.maxRssKB / 1024).toFixed(0)} MB`);
      out.push({ name: h.name, code: r.code, wallMs: r.wallMs, ...(r.cpuMs !== undefined ? { cpuMs: r.cpuMs } : {}), ...(r.maxRssKB !== undefined ? { maxRssKB: r.maxRssKB } : {}) });
    } finally {
      await p.close();
    }
  }
  return out;
}
