/**
 * Cold start: whole processes that send no request (`--version`, `verify --help`, `verify` stopped by a bad
 * digest), beside Node alone, the same program as one file without code splitting, a warm V8 code cache, and
 * the step image's entrypoint where an image exists.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildDist } from '../scripts/build.ts';
import { PODMAN, RUN_FLAGS } from '../test/fixtures/container.ts';
import { CLI, COLD_RUNS } from './options.ts';
import { cleanEnv, node, runProcess, scratchDir } from './process.ts';
import type { ColdResult } from './types.ts';

type Command = { label: string; command: string; argv: string[]; env?: NodeJS.ProcessEnv; exit?: number };

/** Runs each command once (priming caches, checking its exit), then `runs` times interleaved. */
async function timeInterleaved(commands: readonly Command[], runs: number): Promise<ColdResult[]> {
  for (const c of commands) {
    const r = await runProcess(c.argv, c.env ? { env: c.env } : {});
    if (r.code !== (c.exit ?? 0)) throw new Error(`${c.command}: exit ${r.code}, expected ${c.exit ?? 0}: ${r.stderr}`);
  }
  const results: ColdResult[] = commands.map((c) => ({ label: c.label, command: c.command, wall: [], cpu: [], rssKB: [] }));
  // Interleaved, so that a burst of load elsewhere on the machine hits every command alike.
  for (let i = 0; i < runs; i++) {
    for (const [j, c] of commands.entries()) {
      const r = await runProcess(c.argv, c.env ? { env: c.env } : {});
      const res = results[j] as ColdResult;
      res.wall.push(r.wallMs);
      if (r.cpuMs !== undefined) res.cpu.push(r.cpuMs);
      if (r.maxRssKB !== undefined) res.rssKB.push(r.maxRssKB);
    }
  }
  return results;
}

export const COLD = {
  node: 'node -e 0',
  esm: 'empty ES module',
  version: 'rekor-gate --version',
  help: 'rekor-gate verify --help',
  load: 'rekor-gate verify --offline, stopped for want of a signer (loads every verify chunk, no request)',
  cachedVersion: 'rekor-gate --version, NODE_COMPILE_CACHE warm',
  cachedLoad: 'rekor-gate verify --offline stopped for want of a signer, NODE_COMPILE_CACHE warm',
  singleVersion: 'one file, no code splitting: --version',
  singleHelp: 'one file, no code splitting: verify --help',
  singleLoad: 'one file, no code splitting: verify --offline stopped for want of a signer',
  image: 'step image entrypoint: podman run IMAGE --version',
  imageNode: 'step image, Node alone: podman run --entrypoint node IMAGE -e 0',
} as const;

export async function coldStart(): Promise<ColdResult[]> {
  const scratch = scratchDir();
  const empty = path.join(scratch, 'empty.mjs');
  writeFileSync(empty, '');
  const singleDir = path.join(scratch, 'single-file');
  mkdirSync(singleDir, { recursive: true });
  await buildDist(singleDir, { splitting: false });
  const single = path.join(singleDir, 'rekor-gate.js');
  const cached = cleanEnv({ NODE_COMPILE_CACHE: path.join(scratch, 'compile-cache') });
  const badDigest = ['verify', '--image-digest', `sha256:${'0'.repeat(64)}`, '--offline'];
  return timeInterleaved(
    [
      { label: COLD.node, command: 'node -e 0', argv: [node, '-e', '0'] },
      { label: COLD.esm, command: 'node empty.mjs', argv: [node, empty] },
      { label: COLD.version, command: 'node dist/rekor-gate.js --version', argv: [node, CLI, '--version'] },
      { label: COLD.help, command: 'node dist/rekor-gate.js verify --help', argv: [node, CLI, 'verify', '--help'] },
      { label: COLD.load, command: 'node dist/rekor-gate.js verify --image-digest sha256:0...0 --offline', argv: [node, CLI, ...badDigest], exit: 2 },
      { label: COLD.cachedVersion, command: 'NODE_COMPILE_CACHE=dir node dist/rekor-gate.js --version', argv: [node, CLI, '--version'], env: cached },
      { label: COLD.cachedLoad, command: 'NODE_COMPILE_CACHE=dir node dist/rekor-gate.js verify --image-digest sha256:0...0 --offline', argv: [node, CLI, ...badDigest], env: cached, exit: 2 },
      { label: COLD.singleVersion, command: 'node single-file/rekor-gate.js --version', argv: [node, single, '--version'] },
      { label: COLD.singleHelp, command: 'node single-file/rekor-gate.js verify --help', argv: [node, single, 'verify', '--help'] },
      { label: COLD.singleLoad, command: 'node single-file/rekor-gate.js verify --image-digest sha256:0...0 --offline', argv: [node, single, ...badDigest], exit: 2 },
    ],
    COLD_RUNS,
  );
}

/**
 * The step image's entrypoint, `podman run --rm IMAGE --version`, beside Node alone in the same image
 * (the image `npm run image` builds from dist/ as it was then).
 * Skipped (with the reason) when podman is missing or the image was not built (`podman build -t IMAGE .`).
 */
export async function imageEntrypoint(image: string, runs = COLD_RUNS): Promise<ColdResult[] | { skipped: string }> {
  const exists = await runProcess([...PODMAN, 'image', 'exists', image], { timed: false }).catch((err: unknown) => ({ code: -1, stderr: String(err) }));
  if (exists.code !== 0) return { skipped: exists.code === 1 ? `no image ${image} (build it: \`npm run image\`)` : `podman unavailable: ${exists.stderr.trim().slice(0, 200)}` };
  // The flags the tests run the image with on this kind of machine (test/fixtures/container.ts).
  const podman = [...PODMAN, 'run', '--rm', '--pull=never', ...RUN_FLAGS];
  return timeInterleaved(
    [
      { label: COLD.imageNode, command: `podman run --rm --entrypoint /nodejs/bin/node ${image} -e 0`, argv: [...podman, '--entrypoint', '/nodejs/bin/node', image, '-e', '0'] },
      { label: COLD.image, command: `podman run --rm ${image} --version`, argv: [...podman, image, '--version'] },
    ],
    runs,
  );
}
