/**
 * Pins the rekor-gate step image in the shipped Task and StepAction to the digest a release pushed.
 *
 *   node scripts/release-pin.ts registry.example.com/team/rekor-gate@sha256:<64 hex>
 *   node scripts/release-pin.ts --check    exits 1 while a file still names the placeholder digest
 *
 * In the repository the step image is `ghcr.io/rekor-gate/rekor-gate@sha256:000…0` (PLACEHOLDER_IMAGE): a
 * param-free, digest-pinned reference that cannot be pulled. The release builds and pushes the image, then
 * runs this script with the pushed reference (`<repo>@sha256:<digest>`, as `docker buildx build --push
 * --metadata-file` or `crane digest` report it), which rewrites every rekor-gate step image under task/ and
 * stepaction/ and refreshes catalog.yaml's sums. Only the `image:` lines change.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { updateCatalog } from './catalog.ts';
import { findResources, repoRoot } from './tekton-resources.ts';

export const PLACEHOLDER_DIGEST = `sha256:${'0'.repeat(64)}`;
export const PLACEHOLDER_IMAGE = `ghcr.io/rekor-gate/rekor-gate@${PLACEHOLDER_DIGEST}`;

/** A registry/repository@sha256 reference (lower-case repository path, optional registry port). */
const PINNED_REF = /^[a-z0-9]+([._-][a-z0-9]+)*(\.[a-z0-9-]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)+@sha256:[0-9a-f]{64}$/;
/** An `image:` line naming a rekor-gate image pinned by digest (the placeholder or an earlier release). */
const IMAGE_LINE = /^(\s*image:\s*)["']?([^\s"'@]+\/rekor-gate@sha256:[0-9a-f]{64})["']?\s*$/gm;

function shippedFiles(root: string): string[] {
  return findResources(root)
    .filter((r) => r.kind === 'Task' || r.kind === 'StepAction')
    .map((r) => r.filename);
}

/** Rewrites the step image of every shipped Task/StepAction to `ref`; returns the files changed. */
export function pinImage(ref: string, root: string = repoRoot): string[] {
  if (!PINNED_REF.test(ref)) throw new Error(`"${ref}" is not a <registry>/<repository>@sha256:<64 hex> reference`);
  if (ref === PLACEHOLDER_IMAGE) throw new Error('that is the placeholder');
  const changed: string[] = [];
  for (const filename of shippedFiles(root)) {
    const file = path.join(root, filename);
    const text = readFileSync(file, 'utf8');
    const next = text.replace(IMAGE_LINE, (_, prefix: string) => `${prefix}${ref}`);
    if (!new RegExp(IMAGE_LINE.source, 'm').test(text)) throw new Error(`${filename}: no rekor-gate image line`);
    if (next !== text) {
      writeFileSync(file, next);
      changed.push(filename);
    }
  }
  updateCatalog(root);
  return changed;
}

/** Files that still name the placeholder image. */
export function unpinned(root: string = repoRoot): string[] {
  return shippedFiles(root).filter((f) => readFileSync(path.join(root, f), 'utf8').includes(PLACEHOLDER_IMAGE));
}

function main(argv: string[]): number {
  if (argv[0] === '--check') {
    const left = unpinned();
    for (const f of left) console.error(`${f}: step image is still the placeholder ${PLACEHOLDER_IMAGE}`);
    return left.length === 0 ? 0 : 1;
  }
  const ref = argv[0];
  if (!ref) {
    console.error('usage: node scripts/release-pin.ts <registry>/<repository>@sha256:<digest> | --check');
    return 2;
  }
  for (const f of pinImage(ref)) console.log(`pinned ${f}`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2));
}
