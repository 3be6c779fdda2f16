/**
 * Several images in one run: `rekor-gate verify --images` over 10 images held in a real registry (Debian's
 * docker-registry, started on 127.0.0.1; the row is skipped without it), each with one passing entry in the test
 * log, timed as whole processes at the bench's per-request latency. The registry answers without injected latency.
 */
import { OciClient } from '../src/registry/client.ts';
import { parseImageRef } from '../src/registry/reference.ts';
import { pushImage } from '../test/fixtures/oci-content.ts';
import { registryAvailable, startRegistry } from '../test/fixtures/registry.ts';
import { logIntotoV001, provenance, type World } from '../test/fixtures/world.ts';
import { classify } from './log-runs.ts';
import { CLI } from './options.ts';
import { cleanEnv, node, runProcess } from './process.ts';
import type { CliRun } from './types.ts';

export const IMAGES_N = 10;

export type ImagesResult = { n: number; cli: CliRun[] } | { skipped: string };

export async function imagesRun(w: World, runs: number): Promise<ImagesResult> {
  if (!registryAvailable()) return { skipped: 'no docker-registry here (apt-get install -y docker-registry)' };
  const reg = await startRegistry();
  const client = new OciClient({ retries: 0 });
  try {
    const refs: string[] = [];
    for (let i = 0; i < IMAGES_N; i++) {
      const repo = parseImageRef(`${reg.host}/bench/app-${i}:latest`);
      const image = await pushImage(client, repo, 'latest', `bench-${i}`);
      logIntotoV001(w, provenance(image.digest));
      refs.push(`${reg.host}/bench/app-${i}@${image.digest}`);
    }
    const args = ['verify', '--images', refs.join(','), '--rekor-url', w.log.url, '--trusted-root', w.trustedRootPath, '--key', w.keyPath, '--output', 'json', '--timeout', '30'];
    const cli: CliRun[] = [];
    for (let i = 0; i < runs; i++) {
      const before = w.log.requests.length;
      const r = await runProcess([node, CLI, ...args], { env: cleanEnv() });
      const out = r.code === 0 ? (JSON.parse(r.stdout) as { passed?: number }) : undefined;
      if (out?.passed !== IMAGES_N) throw new Error(`--images x${IMAGES_N}: expected exit 0 with all passed, got exit ${r.code}\n${r.stderr}\n${r.stdout.slice(0, 2000)}`);
      cli.push({
        ms: r.wallMs,
        ...(r.cpuMs !== undefined ? { cpuMs: r.cpuMs } : {}),
        ...(r.maxRssKB !== undefined ? { maxRssKB: r.maxRssKB } : {}),
        requests: classify(w.log.requests.slice(before).map((q) => q.path)),
      });
    }
    return { n: IMAGES_N, cli };
  } finally {
    await client.close();
    await reg.stop();
  }
}
