/**
 * `npm run release:bundle -- REGISTRY/REPO:TAG`: packs the Task and the StepAction into a Tekton bundle and
 * pushes it with rekor-gate's own OCI client (credentials from DOCKER_CONFIG or ~/.docker/config.json).
 * Prints the pinned reference for the bundles resolver.
 */
import { readFileSync } from 'node:fs';
import { OciClient } from '../src/registry/client.ts';
import { loadDockerConfigFromEnv } from '../src/registry/auth.ts';
import { parseImageRef } from '../src/registry/reference.ts';
import { buildBundle, pushBundle, readResource } from './release/tekton-bundle.ts';

const FILES = ['task/rekor-gate/0.1/rekor-gate.yaml', 'stepaction/rekor-gate/0.1/rekor-gate.yaml'];

const target = process.argv[2];
if (!target) {
  process.stderr.write('usage: npm run release:bundle -- REGISTRY/REPOSITORY:TAG\n');
  process.exit(2);
}
const ref = parseImageRef(target);
const bundle = buildBundle(FILES.map((f) => readResource(readFileSync(f, 'utf8'), f)));
const client = new OciClient({ dockerConfig: await loadDockerConfigFromEnv(process.env) });
try {
  const digest = await pushBundle(client, ref, bundle);
  process.stdout.write(`${ref.registry}/${ref.repository}@${digest}\n`);
} finally {
  await client.close();
}
