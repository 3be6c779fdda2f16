/**
 * Memory, proven where the kernel enforces it: the step image run as the Task's step (test/fixtures/step-runner.ts
 * gives podman `--memory`, `--memory-swap` and `--cpus` from the step's own computeResources.limits, read from
 * the Task YAML, so test and Task cannot drift), over the heaviest inputs a log or registry can send
 * (test/fixtures/hostile-peers.ts), at the Task's limit and at half of it. Each run must end as the CLI means
 * it to (its exit code, its results), never killed by the kernel (137). The peak RSS of each run is printed
 * (test/fixtures/report-rss.mjs, preloaded), never asserted: `npm run bench` and bench/RESULTS.md keep the figures.
 * One image build (reused when its inputs are unchanged) for the whole file; the runs go one at a time.
 * Skipped, saying why, where buildah/podman/runc are missing; `.ci/run` installs them.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, type BuiltImage } from '../../scripts/image.ts';
import { readResource, repoRoot } from '../../scripts/tekton-resources.ts';
import { container, IMAGE_NEEDS, RUN_FLAGS, trustWorkspace } from '../fixtures/container.ts';
import { needs } from '../fixtures/needs.ts';
import { capsForMemory } from '../../src/net/budget.ts';
import { fakeRegistry, HEAVY_INPUTS, peers, type Peers } from '../fixtures/hostile-peers.ts';
import { runTask, type TaskRunOutcome } from '../fixtures/step-runner.ts';
import { startWorld, type World } from '../fixtures/world.ts';
import { RESULT_FILES } from '../tekton/contract.ts';

type Any = Record<string, any>;
const { describe: suite } = needs('test/container/memory.test.ts', IMAGE_NEEDS);

const task = readResource('task/rekor-gate/0.1/rekor-gate.yaml') as Any;
const limits = task.spec.steps[0].computeResources.limits as { memory: string; cpu: string };

const mebibytes = (q: string): number => {
  const m = /^(\d+)Mi$/.exec(q);
  if (!m) throw new Error(`the Task's memory limit ${q} is not in Mi`);
  return Number(m[1]);
};

/** The Task with its step's memory limit set to `mi` MiB (a LimitRange or a cluster could set a tighter one). */
function withMemory(t: Any, mi: number): Any {
  const copy = structuredClone(t);
  copy.spec.steps[0].computeResources.limits.memory = `${mi}Mi`;
  return copy;
}
const full = mebibytes(limits.memory);

/** Preloaded into the step (NODE_OPTIONS): prints the run's peak RSS on stderr. */
const RSS_HOOK = path.join(repoRoot, 'test', 'fixtures', 'report-rss.mjs');
const RSS_FLAGS = ['--volume', `${RSS_HOOK}:/rss/report-rss.mjs:ro`, '--env', 'NODE_OPTIONS=--import=/rss/report-rss.mjs'];

suite("the step image under the Task's memory limit", () => {
  let image: BuiltImage;
  let world: World;
  let trust: string;
  let p: Peers;
  /** A registry with nothing in it, for the inputs that come from the log (IMAGE_URL is required). */
  let emptyRegistry: string;

  beforeAll(async () => {
    image = await buildImage({ log: (l) => console.log(l) });
    world = await startWorld();
    trust = trustWorkspace(world.trustedRootPath);
    p = peers();
    emptyRegistry = (await fakeRegistry(p, () => false)).host;
  }, 900_000);

  afterAll(async () => {
    await p?.close();
    await world?.close();
    if (trust) rmSync(trust, { recursive: true, force: true });
  });

  const log = (o: TaskRunOutcome): string => `${o.reason ?? ''}\n--- stderr\n${o.steps[0]?.stderr.slice(-4000) ?? ''}`;

  describe.each([
    [`the Task's limit (${full}Mi, ${limits.cpu} CPU)`, full],
    [`half the Task's limit (${full / 2}Mi)`, full / 2],
  ])('at %s', (label, mi) => {
    const t = withMemory(task, mi);
    // the caps the step derives from its limit (process.constrainedMemory() in the container)
    const caps = capsForMemory(mi * 1024 * 1024);
    it.each(HEAVY_INPUTS.map((h) => [h.name, h] as const))('%s: ends as meant, never OOM-killed', async (_name, h) => {
      const end = h.end(caps);
      const s = await h.setUp(p, world);
      // by image ID: another checkout may build the same tag meanwhile
      const out = await runTask(t, {
        params: { IMAGE_DIGEST: s.digest, IMAGE_URL: s.imageUrl ?? `${emptyRegistry}/app@${s.digest}`, REKOR_URL: s.rekorUrl, PUBLIC_KEY: world.signer.publicKeyPem, TIMEOUT_SECONDS: String(s.timeoutSeconds) },
        workspaces: { trust },
        container: { ...container(image.id), runFlags: [...RUN_FLAGS, ...RSS_FLAGS] },
        timeoutMs: 300_000,
      });
      const stderr = out.steps[0]?.stderr ?? '';
      const rss = /peak-rss-kib (\d+)/.exec(stderr);
      console.log(`memory ${label} | ${h.name}: exit ${out.steps[0]?.exitCode}, peak RSS ${rss ? (Number(rss[1]) / 1024).toFixed(0) : '?'} MiB`);
      expect(out.steps[0]?.exitCode, log(out)).not.toBe(137);
      expect(out.steps[0]?.exitCode, log(out)).toBe(end.code);
      if (end.message) expect(stderr).toMatch(end.message);
      expect(stderr).not.toMatch(/INTERNAL|heap out of memory/);
      // every result file, as Tekton reads them back; the verdict, or the error that ended the run
      expect(Object.keys(out.results).sort()).toEqual([...RESULT_FILES].sort());
      expect(out.missingResults).toEqual([]);
      expect(out.results.VERIFIED).toBe(end.code === 0 ? 'true' : 'false');
      if (end.code === 0) expect(out.results.REKOR_UUID).toBe(s.good?.uuid);
      else expect(JSON.parse(out.results.REPORT ?? '{}')).toMatchObject({ verified: false, digest: s.digest, error: expect.stringMatching(/^\[RESPONSE_(TOO_LARGE|MALFORMED)\] /) });
    });
  });
});
