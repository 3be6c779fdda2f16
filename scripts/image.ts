/**
 * `npm run image`: builds the step image `localhost/rekor-gate:dev` with buildah, from the Dockerfile, without
 * pulling any base image.
 *
 * scripts/image-rootfs.ts (the script the Dockerfile's build stage runs) assembles the root filesystem here,
 * from Debian 12's packages and this checkout's dist/ and node_modules; `buildah bud --build-context
 * build=<dir>` then builds the Dockerfile with that directory standing in for the build stage, so the final
 * stage (files, USER, ENV, ENTRYPOINT) is the one `docker build .` builds.
 *
 * The image is labelled with a digest of its inputs (the tree and the Dockerfile); when an image of that tag
 * already carries the same digest it is reused (`--rebuild` forces a build). Storage: STORAGE_DRIVER, else vfs.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { assembleRootfs, type RootfsManifest } from './image-rootfs.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const DEV_IMAGE = 'localhost/rekor-gate:dev';
/** The label holding the digest of what the image was built from. */
export const INPUTS_LABEL = 'dev.rekor-gate.image.inputs';

/** buildah with the storage driver of this machine (vfs works everywhere, also inside containers). */
export function buildahArgs(...args: string[]): string[] {
  return ['--storage-driver', process.env['STORAGE_DRIVER'] || 'vfs', ...args];
}

export function buildah(args: string[], o: { inherit?: boolean } = {}): string {
  return execFileSync('buildah', buildahArgs(...args), {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', o.inherit ? 'inherit' : 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
}

export function buildahAvailable(): boolean {
  return spawnSync('buildah', ['--version'], { stdio: 'ignore' }).status === 0;
}

export interface BuiltImage {
  /** The local tag. */
  ref: string;
  /** The image ID (sha256 of its config). */
  id: string;
  /** True when an image already built from the same inputs was kept. */
  reused: boolean;
  inputs: string;
  rootfs: RootfsManifest;
}

/** One build at a time per checkout (the tests of two files may ask together): a lock directory holding the owner's pid. */
async function withLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const lock = path.join(dir, 'build.lock');
  mkdirSync(dir, { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let owner = NaN;
      try {
        owner = Number(readFileSync(path.join(lock, 'pid'), 'utf8'));
      } catch {
        // being created right now
      }
      let alive = true;
      if (Number.isInteger(owner)) {
        try {
          process.kill(owner, 0);
        } catch {
          alive = false;
        }
      }
      if (!alive) rmSync(lock, { recursive: true, force: true });
      else await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function labelOf(ref: string): string | undefined {
  const r = spawnSync('buildah', buildahArgs('inspect', '--type', 'image', '--format', `{{index .OCIv1.Config.Labels "${INPUTS_LABEL}"}}`, ref), { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

export function imageId(ref: string): string {
  return buildah(['inspect', '--type', 'image', '--format', '{{.FromImageID}}', ref]).trim();
}

/** Assembles the root filesystem and builds (or reuses) the image `tag` from the Dockerfile. */
export async function buildImage(o: { tag?: string; rebuild?: boolean; log?: (line: string) => void } = {}): Promise<BuiltImage> {
  const tag = o.tag ?? DEV_IMAGE;
  const log = o.log ?? (() => {});
  const work = path.join(repoRoot, '.tmp', 'image');
  return withLock(work, async () => {
    const stage = path.join(work, 'stage');
    const rootfs = assembleRootfs({ out: path.join(stage, 'rootfs'), debs: path.join(work, 'debs') });
    log(`rootfs: ${rootfs.files} files, ${(rootfs.bytes / 1e6).toFixed(1)} MB, Node ${rootfs.node}, ${rootfs.digest}`);
    const dockerfile = readFileSync(path.join(repoRoot, 'Dockerfile'));
    const inputs = `sha256:${createHash('sha256').update(`${rootfs.digest}\n`).update(dockerfile).digest('hex')}`;
    if (!o.rebuild && labelOf(tag) === inputs) {
      log(`${tag}: reused (same inputs ${inputs})`);
      return { ref: tag, id: imageId(tag), reused: true, inputs, rootfs };
    }
    // Only the rootfs directory is read from the stand-in stage; its sibling manifest stays out of the image.
    if (!existsSync(path.join(stage, 'rootfs'))) throw new Error(`${stage}/rootfs is missing`);
    buildah(['bud', '--layers=false', '--build-context', `build=${stage}`, '--label', `${INPUTS_LABEL}=${inputs}`, '-f', 'Dockerfile', '-t', tag, '.'], { inherit: true });
    log(`${tag}: built from ${inputs}`);
    return { ref: tag, id: imageId(tag), reused: false, inputs, rootfs };
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const argv = yargs(hideBin(process.argv))
    .usage('$0 [--tag REF] [--rebuild]: build the step image with buildah (run `npm run build` first; `npm run image` does)')
    .option('tag', { type: 'string', default: DEV_IMAGE })
    .option('rebuild', { type: 'boolean', default: false, describe: 'build even when an image of the same inputs exists' })
    .strict()
    .parseSync();
  const img = await buildImage({ tag: argv.tag, rebuild: argv.rebuild, log: (l) => process.stderr.write(`${l}\n`) });
  process.stdout.write(`${img.ref} ${img.id}\n`);
}
