/**
 * `npm run release -- --registry HOST[:PORT]`: the release, as far as it goes without the internet.
 *
 *   1. the step image: built by scripts/image.ts (reused when unchanged), pushed with buildah
 *      (plain HTTP only to a loopback registry) as REGISTRY/NAMESPACE/rekor-gate:VERSION;
 *   2. its digest pinned into the Task and the StepAction (scripts/release-pin.ts; catalog.yaml's sums follow);
 *   3. the Tekton bundle of those pinned files pushed as REGISTRY/NAMESPACE/rekor-gate-bundle:VERSION;
 *   4. the catalog-cd release assets of those pinned files written to OUT (scripts/catalog-release.ts);
 *   5. OUT/release.json: the pinned image and bundle references.
 *
 * The working tree changes only with --write (then steps 2 and 3 use the repository's own files); otherwise
 * the files are pinned in a copy. Credentials for the registry: DOCKER_CONFIG / ~/.docker/config.json
 * (buildah reads them too, with REGISTRY_AUTH_FILE).
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { loadDockerConfigFromEnv } from '../src/registry/auth.ts';
import { OciClient } from '../src/registry/client.ts';
import { isLoopbackHostname } from '../src/net/loopback.ts';
import { parseImageRef } from '../src/registry/reference.ts';
import { writeCatalogRelease } from './catalog-release.ts';
import { buildah, buildImage, DEV_IMAGE } from './image.ts';
import { pinImage } from './release-pin.ts';
import { buildBundle, pushBundle, readResource } from './release/tekton-bundle.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** What the bundle holds, as in scripts/release-bundle.ts. */
export const BUNDLED = ['task/rekor-gate/0.1/rekor-gate.yaml', 'stepaction/rekor-gate/0.1/rekor-gate.yaml'];
/** What pinning reads and rewrites (the resources and catalog.yaml's sums), copied when not --write. */
const PINNED_TREE = ['task', 'stepaction', 'pipelines', 'catalog.yaml'];

export interface ReleaseOptions {
  registry: string;
  namespace: string;
  version: string;
  out: string;
  write: boolean;
  log?: (line: string) => void;
}
export interface ReleaseResult {
  version: string;
  /** REGISTRY/NAMESPACE/rekor-gate@sha256:... */
  image: string;
  /** REGISTRY/NAMESPACE/rekor-gate-bundle@sha256:... */
  bundle: string;
  tags: { image: string; bundle: string };
  /** Files whose image: line was pinned (relative to the tree used). */
  pinned: string[];
  out: string;
}

function hostOf(registry: string): string {
  return registry.startsWith('[') ? registry.slice(1, registry.indexOf(']')) : registry.split(':')[0]!;
}

/** Pushes the local image and returns its manifest digest. */
function pushImage(local: string, target: string, registry: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rekor-gate-push-'));
  try {
    const digestFile = path.join(dir, 'digest');
    const tls = isLoopbackHostname(hostOf(registry)) ? ['--tls-verify=false'] : [];
    buildah(['push', ...tls, '--digestfile', digestFile, local, `docker://${target}`], { inherit: true });
    const digest = readFileSync(digestFile, 'utf8').trim();
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new Error(`buildah push wrote no digest (${digest})`);
    return digest;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The catalog-cd release assets (catalog.yaml, resources.tar.gz and the files) of the pinned tree, into `out`. */
function catalogAssets(root: string, out: string, version: string, log: (l: string) => void): void {
  const r = writeCatalogRelease(out, { version, root });
  log(`catalog assets: ${path.relative(process.cwd(), r.catalogFile)}, ${path.relative(process.cwd(), r.tarball)} (${r.members.length} files)`);
}

export async function release(o: ReleaseOptions): Promise<ReleaseResult> {
  const log = o.log ?? (() => {});
  const ns = o.namespace.replace(/^\/+|\/+$/g, '');
  const imageRepo = `${o.registry}/${ns}/rekor-gate`;
  const bundleRepo = `${o.registry}/${ns}/rekor-gate-bundle`;
  mkdirSync(o.out, { recursive: true });

  // 1. The image.
  const img = await buildImage({ tag: DEV_IMAGE, log });
  const imageTag = `${imageRepo}:${o.version}`;
  const imageDigest = pushImage(img.ref, imageTag, o.registry);
  const image = `${imageRepo}@${imageDigest}`;
  log(`pushed ${imageTag} = ${image}`);

  // 2. Pin it, in the working tree only with --write.
  const stage = o.write ? undefined : mkdtempSync(path.join(os.tmpdir(), 'rekor-gate-release-'));
  try {
    const root = stage ?? repoRoot;
    if (stage) for (const p of PINNED_TREE) if (existsSync(path.join(repoRoot, p))) cpSync(path.join(repoRoot, p), path.join(stage, p), { recursive: true });
    const pinned = pinImage(image, root);
    log(`pinned ${image} in ${pinned.join(', ') || 'nothing (already pinned)'}${stage ? ' (a copy; --write pins the working tree)' : ''}`);

    // 3. The Tekton bundle of the pinned files.
    const bundleTag = `${bundleRepo}:${o.version}`;
    const client = new OciClient({ dockerConfig: await loadDockerConfigFromEnv(process.env) });
    let bundleDigest: string;
    try {
      const files = BUNDLED.map((f) => readResource(readFileSync(path.join(root, f), 'utf8'), f));
      bundleDigest = await pushBundle(client, parseImageRef(bundleTag), buildBundle(files));
    } finally {
      await client.close();
    }
    const bundle = `${bundleRepo}@${bundleDigest}`;
    log(`pushed ${bundleTag} = ${bundle}`);

    // 4. The catalog release assets.
    catalogAssets(root, o.out, o.version, log);

    const result: ReleaseResult = { version: o.version, image, bundle, tags: { image: imageTag, bundle: bundleTag }, pinned, out: o.out };
    writeFileSync(path.join(o.out, 'release.json'), `${JSON.stringify({ ...result, out: undefined, rootfs: img.rootfs }, null, 2)}\n`);
    return result;
  } finally {
    if (stage) rmSync(stage, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  const argv = yargs(hideBin(process.argv))
    .usage('$0 --registry HOST[:PORT] [--namespace NS] [--tag VERSION] [--out DIR] [--write]')
    .option('registry', { type: 'string', demandOption: true, describe: 'where to push the image and the bundle (plain HTTP only for loopback)' })
    .option('namespace', { type: 'string', default: 'rekor-gate', describe: 'repository path under the registry' })
    .option('tag', { type: 'string', default: pkg.version, describe: 'tag of the image and the bundle (default: package.json version)' })
    .option('out', { type: 'string', default: path.join(repoRoot, '.tmp', 'release'), describe: 'where the release assets and release.json go' })
    .option('write', { type: 'boolean', default: false, describe: 'pin the image in the working tree (task/, stepaction/, catalog.yaml)' })
    .strict()
    .parseSync();
  const r = await release({ registry: argv.registry, namespace: argv.namespace, version: argv.tag, out: path.resolve(argv.out), write: argv.write, log: (l) => process.stderr.write(`${l}\n`) });
  process.stdout.write(`${JSON.stringify({ image: r.image, bundle: r.bundle, out: r.out })}\n`);
}
