import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startRekorV1 } from '../real-stack/rekor-v1.ts';
import { missingTools, skipReason } from '../real-stack/tools.ts';
import { RELEASES } from './producer.ts';
import { chainsReleaseSuite, type LogUnderTest } from './suite.ts';

/**
 * Both Chains releases against the real Rekor v1 (rekor-server, Trillian, MariaDB: test/real-stack/rekor-v1.ts),
 * trusted through its rekor.pub; one format, a TaskRun and a PipelineRun (the whole matrix runs against the test
 * log in v0.28.test.ts and v0.29.test.ts).
 */
async function realRekor(): Promise<LogUnderTest> {
  const r = await startRekorV1();
  const trustDir = path.join(r.dir, 'trust');
  mkdirSync(trustDir, { recursive: true });
  writeFileSync(path.join(trustDir, 'rekor.pub'), r.publicKeyPem);
  return { url: r.url, trustDir, close: () => r.stop() };
}

const missing = (): string | undefined => {
  const m = missingTools(['rekor-server', 'trillian-log-server', 'trillian-log-signer', 'mariadb']);
  return m.length === 0 ? undefined : skipReason(m);
};

for (const release of RELEASES) {
  chainsReleaseSuite(release, 'the real Rekor v1', realRekor, { missing, formats: ['slsa/v2alpha4'], runs: ['buildah-taskrun', 'git-clone-buildah-pipelinerun'] });
}
