/**
 * `npm run demo`: rekor-gate on its embedded default. Starts a Rekor-compatible test log (and, when Debian's
 * docker-registry is installed, a registry) on 127.0.0.1, logs freshly signed Tekton Chains-style attestations,
 * and runs the bundled CLI on them: a key-signed intoto entry is verified, a forged one rejected, and a
 * Chains v0.29-style dsse entry verified with its envelope from the registry.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { OciClient } from '../src/registry/client.ts';
import { parseImageRef } from '../src/registry/reference.ts';
import { pushAtt, pushImage } from '../test/fixtures/oci-content.ts';
import { registryAvailable, startRegistry } from '../test/fixtures/registry.ts';
import { generateSigner, signDsse } from '../test/fixtures/signers.ts';
import { statementPayload } from '../test/fixtures/statements.ts';
import { intotoV001Entry } from '../test/fixtures/rekor-log/index.ts';
import { cosignBundleAnnotation, keylessSigner, logDsseV001, logIntotoV001, provenance, randomDigest, runCli, startWorld, worldFlags, IDENTITY, ISSUER } from '../test/fixtures/world.ts';

const say = (s: string) => process.stdout.write(`\n\x1b[1m== ${s}\x1b[0m\n`);
const show = (args: string[]) => `$ rekor-gate ${args.map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' ')}`;
let failures = 0;

async function step(title: string, args: string[], expectCode: number): Promise<void> {
  say(title);
  process.stdout.write(`${show(args)}\n`);
  const r = await runCli(args);
  process.stdout.write(r.stdout + r.stderr);
  process.stdout.write(`(exit ${r.code}${r.code === expectCode ? ', as expected' : `, EXPECTED ${expectCode}`})\n`);
  if (r.code !== expectCode) failures++;
}

const w = await startWorld();
try {
  process.stdout.write(`test Rekor log at ${w.log.url} (checkpoint origin "${w.log.checkpointOrigin}"), trusted root ${w.trustedRootPath}\n`);

  // 1. Tekton Chains (<= v0.28) with a cosign key: an intoto 0.0.1 entry, the provenance kept by the log.
  const image = randomDigest();
  logIntotoV001(w, provenance(image.value));
  const results = path.join(w.dir, 'results');
  await step('a Chains attestation signed with the trusted key', [...worldFlags(w, image.value), '--key', w.keyPath, '--results-dir', results], 0);

  // 2. A forgery: provenance for the same digest, signed by someone else's key, logged all the same.
  const forged = randomDigest();
  const attacker = generateSigner();
  w.log.add(intotoV001Entry({ envelope: signDsse(attacker, statementPayload(provenance(forged.value))), publicKey: attacker.publicKeyPem }));
  await step('a forged attestation (signed by another key) is rejected', [...worldFlags(w, forged.value), '--key', w.keyPath], 1);

  // 3. Chains >= v0.29, keyless: a dsse entry; the envelope is only in the registry (.att tag).
  if (registryAvailable()) {
    const reg = await startRegistry();
    const client = new OciClient({ retries: 0 });
    try {
      const repo = parseImageRef(`${reg.host}/acme/app:latest`);
      const pushed = await pushImage(client, repo, 'latest', 'demo');
      const k = await keylessSigner(w);
      const logged = logDsseV001(w, provenance(pushed.digest), { signer: k.signer, certificatePem: k.certificatePem });
      await pushAtt(client, repo, pushed.digest, [Buffer.from(logged.envelopeText)], {
        'dev.sigstore.cosign/bundle': cosignBundleAnnotation(w, logged.uuid),
        'dev.sigstore.cosign/certificate': k.certificatePem,
        'dev.sigstore.cosign/chain': w.ca.chainPem,
      });
      const keyless = ['--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER];
      await step(
        'a Chains dsse entry, verified with its envelope from the registry',
        [...worldFlags(w, pushed.digest), ...keyless, '--image-url', `${reg.host}/acme/app:latest`],
        0,
      );
    } finally {
      await client.close();
      await reg.stop();
    }
  } else {
    say('registry part skipped: install Debian\'s docker-registry (apt-get install docker-registry) to see a dsse entry verified from the registry');
  }
  writeFileSync(path.join(w.dir, '.done'), '');
} finally {
  await w.close();
}
say(failures === 0 ? 'demo finished: every outcome as expected' : `demo finished with ${failures} unexpected outcome(s)`);
process.exitCode = failures === 0 ? 0 : 1;
