/**
 * What the summary says about registry evidence that cannot pass: an .att layer with no log proof under
 * --offline, and a registry-found entry that attests another image. Through the bundled CLI, a real registry
 * and the test log.
 */
import { expect, it } from 'vitest';
import { parseImageRef } from '../../src/registry/reference.ts';
import { pushAtt, pushImage } from '../fixtures/oci-content.ts';
import { registryWorldSuite } from '../fixtures/chains-registry.ts';
import { cosignBundleAnnotation, logDsseV001, logIntotoV001, provenance, randomDigest, runCli, worldFlags } from '../fixtures/world.ts';

const { run, rw } = registryWorldSuite();

run('registry messages', () => {
  it('--offline, an .att layer without the dev.sigstore.cosign/bundle annotation: the registry holds an attestation with no log proof', async () => {
    const repo = parseImageRef(`${rw.reg.host}/acme/noproof:latest`);
    const image = await pushImage(rw.client, repo, 'latest', 'acme/noproof');
    const logged = logDsseV001(rw.w, provenance(image.digest));
    await pushAtt(rw.client, repo, image.digest, [Buffer.from(logged.envelopeText)], { predicateType: 'https://slsa.dev/provenance/v0.2' });
    const url = `${rw.reg.host}/acme/noproof:latest`;

    const text = await runCli([...worldFlags(rw.w, image.digest), '--key', rw.w.keyPath, '--image-url', url, '--offline']);
    expect(text.code, text.stderr).toBe(1);
    expect(text.stdout).not.toContain('no entry in the log or the registry names this digest');
    expect(text.stdout).toMatch(/the registry holds an attestation with no log proof/);
    expect(text.stdout).toMatch(/dev\.sigstore\.cosign\/bundle/);
    // an envelope awaiting its entry has none: the summary says so, never a made-up log index
    expect(text.stdout).toContain('no log entry');

    const json = await runCli([...worldFlags(rw.w, image.digest), '--key', rw.w.keyPath, '--image-url', url, '--offline', '--output', 'json']);
    const out = JSON.parse(json.stdout);
    expect(out.candidates).toHaveLength(1);
    expect(out.candidates[0]).toMatchObject({ status: 'failed', check: 'log', code: 'TLOG_ENTRY_NOT_FOUND', sources: ['att-tag'] });
    expect(out.candidates[0].reason).toContain(`${rw.reg.host}/acme/noproof@sha256:`);

    // Online, the search finds the entry that records the envelope: the same layer then verifies.
    const online = await runCli([...worldFlags(rw.w, image.digest), '--key', rw.w.keyPath, '--image-url', url, '--output', 'json']);
    expect(online.code, online.stdout).toBe(0);
    expect(JSON.parse(online.stdout).accepted.uuid).toBe(logged.uuid);
  });

  it('an entry found in the registry whose subject is another digest: the message names the source, not a material digest', async () => {
    const repo = parseImageRef(`${rw.reg.host}/acme/other:latest`);
    const image = await pushImage(rw.client, repo, 'latest', 'acme/other');
    const other = randomDigest();
    const logged = logDsseV001(rw.w, provenance(other.value));
    await pushAtt(rw.client, repo, image.digest, [Buffer.from(logged.envelopeText)], {
      'dev.sigstore.cosign/bundle': cosignBundleAnnotation(rw.w, logged.uuid),
      predicateType: 'https://slsa.dev/provenance/v0.2',
    });
    const r = await runCli([...worldFlags(rw.w, image.digest), '--key', rw.w.keyPath, '--image-url', `${rw.reg.host}/acme/other:latest`, '--output', 'json']);
    expect(r.code).toBe(1);
    const c = JSON.parse(r.stdout).candidates.find((x: { uuid: string }) => x.uuid === logged.uuid);
    expect(c).toMatchObject({ status: 'failed', check: 'statement', code: 'SUBJECT_MISMATCH' });
    expect(c.reason).not.toMatch(/material digest/);
    expect(c.reason).toMatch(/found by the registry's \.att tag \(.*acme\/other@sha256:[0-9a-f]{64}\)/);
    expect(c.reason).toContain(other.value);
  });

  it('an entry the registry names that the log fails to serve (503, not 404): the run is unreachable (exit 3), not "not found"', async () => {
    const repo = parseImageRef(`${rw.reg.host}/acme/logdown:latest`);
    const image = await pushImage(rw.client, repo, 'latest', 'acme/logdown');
    const logged = logDsseV001(rw.w, provenance(image.digest));
    await pushAtt(rw.client, repo, image.digest, [Buffer.from(logged.envelopeText)], {
      'dev.sigstore.cosign/bundle': cosignBundleAnnotation(rw.w, logged.uuid),
      predicateType: 'https://slsa.dev/provenance/v0.2',
    });
    // only the registry names the entry, so the CLI looks it up by its ID, and that lookup fails
    rw.w.log.faults.hiddenFromSearch.add(logged.uuid);
    rw.w.log.faults.failNext(20, 503, { match: logged.uuid.slice(-64) });
    try {
      const r = await runCli([...worldFlags(rw.w, image.digest), '--key', rw.w.keyPath, '--image-url', `${rw.reg.host}/acme/logdown:latest`, '--output', 'json']);
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(3);
      expect(r.stdout).not.toContain('TLOG_ENTRY_NOT_FOUND');
    } finally {
      rw.w.log.faults.reset();
    }
  });

  it('an entry found only by the log search keeps the material-digest hint', async () => {
    const d = randomDigest();
    const logged = logIntotoV001(rw.w, provenance(randomDigest().value, { materials: [d.value] }));
    const r = await runCli([...worldFlags(rw.w, d.value), '--key', rw.w.keyPath, '--output', 'json']);
    expect(r.code).toBe(1);
    const c = JSON.parse(r.stdout).candidates.find((x: { uuid: string }) => x.uuid === logged.uuid);
    expect(c.code).toBe('SUBJECT_MISMATCH');
    expect(c.reason).toMatch(/found by the log's search, .*material/);
  });
});
