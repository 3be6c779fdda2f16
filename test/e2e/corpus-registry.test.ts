import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { X509Certificate } from '@sigstore/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogEntryAnon } from '../../src/rekor/types.ts';
import { corpusEntries } from '../fixtures/rekor-log/corpus.ts';
import { startTestLog, type TestLog } from '../fixtures/rekor-log/index.ts';
import { corpusDir, describeWithTestData } from '../fixtures/test-data.ts';
import { CORPUS_REPOSITORY, layCosignLegacyCorpus, type CorpusImage } from '../fixtures/registry-corpus.ts';
import { needs } from '../fixtures/needs.ts';
import { REGISTRY_NEEDS, startRegistry, type RegistryHandle } from '../fixtures/registry.ts';
import { jsonVerdict, runCli, type JsonOutcome, type JsonVerdict } from '../fixtures/world.ts';

describeWithTestData(import.meta.url, 'the recorded cosign-legacy attestations and entries (corpus/bundles/cosign-legacy, corpus/entries)', 'the CLI on the recorded cosign-legacy images', () => {
  /**
   * The two real cosign-legacy images of slsa-verifier's test data (gha_generic_container v1.9.0: intoto 0.0.1,
   * v2.1.0: dsse 0.0.1), laid byte for byte into Debian's docker-registry, with their real production entries served
   * by the test log WITHOUT any attestation (as for a dsse entry Rekor never keeps one): the envelope must come from
   * the .att layer beside the image. Verified by the bundled CLI against the real production trusted root.
   */
  const withRegistry = needs('test/e2e/corpus-registry.test.ts', REGISTRY_NEEDS);

  const PRODUCTION_ROOT = corpusDir('trust', 'trusted_root.production.json');
  const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';

  type Case = { version: 'v1.9.0' | 'v2.1.0'; entryFile: string; kind: string; logIndex: number };
  const CASES: Case[] = [
    { version: 'v1.9.0', entryFile: 'intoto-0.0.1__slsa-verifier-container-v1.9.0__521e543bfd8d.json', kind: 'intoto 0.0.1', logIndex: 32414261 },
    { version: 'v2.1.0', entryFile: 'dsse-0.0.1__slsa-verifier-container-v2.1.0__ad7809140f5b.json', kind: 'dsse 0.0.1', logIndex: 174304112 },
  ];

  type Body = { kind: string; apiVersion: string; spec: { publicKey?: string; signatures?: { verifier?: string }[] } };

  function realEntry(file: string): { uuid: string; entry: LogEntryAnon; body: Body } {
    const c = corpusEntries().find((e) => e.file === file);
    if (!c) throw new Error(`no corpus entry ${file}`);
    if (c.entry.attestation) throw new Error(`${file} carries an attestation; this test needs the entry without one`);
    return { uuid: c.uuid, entry: c.entry, body: JSON.parse(Buffer.from(c.entry.body, 'base64').toString('utf8')) as Body };
  }

  /** The SAN of the Fulcio certificate the body logged (intoto 0.0.1: spec.publicKey; dsse 0.0.1: the verifier). */
  function certificateSan(body: Body): string {
    const b64 = body.kind === 'dsse' ? body.spec.signatures?.[0]?.verifier : body.spec.publicKey;
    const san = X509Certificate.parse(Buffer.from(String(b64), 'base64').toString('utf8')).subjectAltName;
    if (!san) throw new Error('the certificate has no SAN');
    return san;
  }

  const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  const hexOf = (d: string): string => d.slice('sha256:'.length);

  async function writeAt(file: string, data: Buffer | string): Promise<void> {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, data);
  }

  /**
   * Over the laid corpus: for each image, an envelope layer that differs from the real one in one byte (a payload
   * base64 character), and an .att manifest that is the recorded one with only the layer digest replaced (same size,
   * same annotations: the real bundle annotation with the real SET), now the one the `.att` tag names.
   * distribution's filesystem layout as described in test/fixtures/registry-corpus.ts.
   */
  async function layTamperedEnvelopes(storageDir: string, images: CorpusImage[], repo: string): Promise<void> {
    const v2 = path.join(storageDir, 'docker', 'registry', 'v2');
    const repoDir = path.join(v2, 'repositories', repo);
    const blob = async (bytes: Buffer): Promise<string> => {
      const d = sha256(bytes);
      await writeAt(path.join(v2, 'blobs', 'sha256', hexOf(d).slice(0, 2), hexOf(d), 'data'), bytes);
      return d;
    };
    for (const img of images) {
      const envelope = await readFile(img.envelopeFile);
      const at = envelope.indexOf('"payload":"') + '"payload":"'.length + 40;
      const tampered = Buffer.from(envelope);
      tampered[at] = tampered[at] === 0x41 ? 0x42 : 0x41; // 'A' <-> another base64 character
      const envDigest = await blob(tampered);
      await writeAt(path.join(repoDir, '_layers', 'sha256', hexOf(envDigest), 'link'), envDigest);

      const att = (await readFile(img.attManifestFile, 'utf8')).split(img.envelopeDigest).join(envDigest);
      const attDigest = await blob(Buffer.from(att));
      const manifests = path.join(repoDir, '_manifests');
      const tag = `sha256-${hexOf(img.imageDigest)}.att`;
      await writeAt(path.join(manifests, 'revisions', 'sha256', hexOf(attDigest), 'link'), attDigest);
      await writeAt(path.join(manifests, 'tags', tag, 'current', 'link'), attDigest);
      await writeAt(path.join(manifests, 'tags', tag, 'index', 'sha256', hexOf(attDigest), 'link'), attDigest);
    }
  }

  type Outcome = JsonOutcome;
  const json = jsonVerdict;

  function only(v: JsonVerdict): Outcome {
    expect(v.candidates, JSON.stringify(v)).toHaveLength(1);
    return v.candidates[0] as Outcome;
  }

  withRegistry.describe('real cosign-legacy images in a registry, real entries in the test log (no attestation in the log)', () => {
    let reg: RegistryHandle;
    let tamperedReg: RegistryHandle;
    let log: TestLog;
    let images: CorpusImage[] = [];

    beforeAll(async () => {
      reg = await startRegistry({ prepareStorage: async (dir) => void (images = await layCosignLegacyCorpus(dir)) });
      tamperedReg = await startRegistry({
        prepareStorage: async (dir) => {
          const laid = await layCosignLegacyCorpus(dir);
          await layTamperedEnvelopes(dir, laid, CORPUS_REPOSITORY);
        },
      });
      log = await startTestLog();
      for (const c of CASES) {
        const img = images.find((i) => i.version === c.version);
        if (!img) throw new Error(`corpus image ${c.version} not laid`);
        const e = realEntry(c.entryFile);
        log.serveRaw(e.uuid, e.entry, [img.imageDigest]);
      }
    });
    afterAll(async () => {
      await log?.close();
      await tamperedReg?.stop();
      await reg?.stop();
    });

    const image = (version: string): CorpusImage => {
      const img = images.find((i) => i.version === version);
      if (!img) throw new Error(`corpus image ${version} not laid`);
      return img;
    };
    const base = (digest: string): string[] => ['verify', '--image-digest', digest, '--rekor-url', log.url, '--trusted-root', PRODUCTION_ROOT, '--timeout', '5', '--output', 'json'];
    const keyless = (identity: string): string[] => ['--certificate-identity', identity, '--certificate-oidc-issuer', GITHUB_ISSUER];

    describe.each(CASES)('$version ($kind, log index $logIndex)', (c) => {
      const e = realEntry(c.entryFile);
      const identity = certificateSan(e.body);
      const url = (r: RegistryHandle): string => `${r.host}/${CORPUS_REPOSITORY}:${c.version}`;

      it('the corpus entry is the one the .att annotation names', () => {
        expect(`${e.body.kind} ${e.body.apiVersion}`).toBe(c.kind);
        expect(e.entry.logIndex).toBe(c.logIndex);
        expect(identity).toBe(`https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/${c.version}`);
      });

      it('passes with --image-url: found by the .att tag and the log search, attestation from the registry', async () => {
        const img = image(c.version);
        const r = await runCli([...base(img.imageDigest), ...keyless(identity), '--image-url', url(reg)]);
        expect(r.code, r.stdout + r.stderr).toBe(0);
        const v = json(r);
        expect(v.verified).toBe(true);
        expect(v.accepted).toMatchObject({ uuid: e.uuid, logIndex: c.logIndex, kind: c.kind, status: 'passed', attestationFrom: 'registry', signer: identity });
        expect([...(v.accepted?.sources ?? [])].sort()).toEqual(['att-tag', 'rekor-search']);
        expect(v.accepted?.predicateType).toBe('https://slsa.dev/provenance/v0.2');
        expect(v.accepted?.builderId).toBe(identity);
        console.log(
          `corpus registry ${c.version} (${c.kind}, log index ${c.logIndex}): passed via ${v.accepted?.sources.join('+')}, attestation from the ${v.accepted?.attestationFrom}` +
            ` (${img.envelopeDigest}), signer ${identity}`,
        );
      });

      it('fails with another identity (CERTIFICATE_IDENTITY)', async () => {
        const img = image(c.version);
        const r = await runCli([...base(img.imageDigest), ...keyless(identity.replace(/@refs\/tags\/.*$/, '@refs/heads/main')), '--image-url', url(reg)]);
        expect(r.code, r.stdout + r.stderr).toBe(1);
        expect(only(json(r))).toMatchObject({ uuid: e.uuid, status: 'failed', check: 'signer', code: 'CERTIFICATE_IDENTITY' });
      });

      it('fails when the envelope layer differs by one byte (ATTESTATION_HASH)', async () => {
        const img = image(c.version);
        const r = await runCli([...base(img.imageDigest), ...keyless(identity), '--image-url', url(tamperedReg)]);
        expect(r.code, r.stdout + r.stderr).toBe(1);
        const o = only(json(r));
        expect(o).toMatchObject({ uuid: e.uuid, status: 'failed', check: 'attestation', code: 'ATTESTATION_HASH' });
        expect(o.reason).toContain('envelope hash');
        expect([...o.sources].sort()).toEqual(['att-tag', 'rekor-search']);
      });

      it('passes --offline from the SET in the .att annotation, and the log receives no request', async () => {
        const img = image(c.version);
        const before = log.requests.length;
        const r = await runCli([...base(img.imageDigest), ...keyless(identity), '--image-url', url(reg), '--offline']);
        expect(r.code, r.stdout + r.stderr).toBe(0);
        const v = json(r);
        expect(v.accepted).toMatchObject({ uuid: e.uuid.slice(-64), logIndex: c.logIndex, kind: c.kind, status: 'passed', sources: ['att-tag'], attestationFrom: 'registry', signer: identity });
        expect(log.requests.length).toBe(before);
        console.log(`corpus registry ${c.version} --offline: passed via ${v.accepted?.sources.join('+')} (SET from the .att annotation), attestation from the ${v.accepted?.attestationFrom}, 0 log requests`);
      });

      it('fails without --image-url: the log holds no attestation (ATTESTATION_MISSING)', async () => {
        const img = image(c.version);
        const r = await runCli([...base(img.imageDigest), ...keyless(identity)]);
        expect(r.code, r.stdout + r.stderr).toBe(1);
        const o = only(json(r));
        expect(o).toMatchObject({ uuid: e.uuid, kind: c.kind, status: 'failed', check: 'attestation', code: 'ATTESTATION_MISSING', sources: ['rekor-search'] });
        expect(o.reason).toContain('--image-url');
      });
    });
  });
});
