import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseImageDigest } from '../../src/digest.ts';
import { OciClient } from '../../src/registry/client.ts';
import { fetchRegistryEvidence, resolveDigest } from '../../src/registry/evidence.ts';
import { parseImageRef } from '../../src/registry/reference.ts';
import { CORPUS_REPOSITORY, layCosignLegacyCorpus, type CorpusImage } from '../fixtures/registry-corpus.ts';
import { needs } from '../fixtures/needs.ts';
import { REGISTRY_NEEDS, startRegistry, type RegistryHandle } from '../fixtures/registry.ts';
import { describeWithTestData } from '../fixtures/test-data.ts';

describeWithTestData(import.meta.url, 'the recorded cosign-legacy attestations (corpus/bundles/cosign-legacy)', 'the recorded cosign-legacy images in a registry', () => {
  // Real Tekton-Chains-style (cosign legacy) attestations, recorded from slsa-verifier's test data and laid
  // into the registry's storage, served back by the real registry and read through the client.
  const withRegistry = needs('test/registry/corpus.test.ts', REGISTRY_NEEDS);

  const EXPECTED: Record<string, { imageDigest: string; attManifest: string; envelope: string; logIndex: number }> = {
    'v1.9.0': {
      imageDigest: 'sha256:5b146084201148bf151871fa779767f013c47706d031106af0d727fb5b88f5ac',
      attManifest: 'sha256:d86a56f046e85503c3e54a6fb12fade50c53eb39bcdddc8fd624cc71ecf3b88c',
      envelope: 'sha256:a5e176610c4305f4068a2d2e2884c5d57b3e28d46ccbb825a85212dc09010814',
      logIndex: 32414261,
    },
    'v2.1.0': {
      imageDigest: 'sha256:234e2c830c2fb31ac5671789d22adfe44d30c3ee831d01beae5e237841a13122',
      attManifest: 'sha256:21454caf3a160dfbe6359f0501aa8401c6c0f2c7a8b71380ea21f8c4b48b64fe',
      envelope: 'sha256:e163b472f2e5d66e5a2a45e26e020c51a0d2da7dc8b567b31fc2ebfd33dbc33a',
      logIndex: 174304112,
    },
  };

  withRegistry.describe('cosign-legacy corpus served by distribution 2.8', () => {
    let reg: RegistryHandle;
    let images: CorpusImage[] = [];
    let client: OciClient;
    beforeAll(async () => {
      reg = await startRegistry({
        prepareStorage: async (dir) => {
          images = await layCosignLegacyCorpus(dir);
        },
      });
      client = new OciClient({ retries: 0 });
    });
    afterAll(async () => {
      await client?.close();
      await reg?.stop();
    });

    it('lays both images', () => {
      expect(images.map((i) => i.version)).toEqual(['v1.9.0', 'v2.1.0']);
      for (const img of images) {
        const want = EXPECTED[img.version];
        expect(img).toMatchObject({ imageDigest: want?.imageDigest, attManifestDigest: want?.attManifest, envelopeDigest: want?.envelope });
      }
    });

    it.each(['v1.9.0', 'v2.1.0'])('%s: tag -> digest, image index bytes, and the .att evidence byte for byte', async (version) => {
      const img = images.find((i) => i.version === version);
      const want = EXPECTED[version];
      if (!img || !want) throw new Error(`no corpus image ${version}`);
      const ref = parseImageRef(`${reg.host}/${CORPUS_REPOSITORY}:${img.tag}`);

      expect(await resolveDigest(ref, { client })).toBe(want.imageDigest);
      const index = await client.getManifest(ref, want.imageDigest);
      expect(index.kind).toBe('index');
      expect(index.bytes.equals(await readFile(img.indexFile))).toBe(true);

      const evidence = await fetchRegistryEvidence(ref, parseImageDigest(want.imageDigest), { client });
      expect(evidence).toHaveLength(1);
      const e = evidence[0];
      if (e?.source !== 'att-tag') throw new Error(`expected att-tag evidence, got ${e?.source}`);
      expect(e.envelopeBytes.equals(await readFile(img.envelopeFile))).toBe(true);
      expect(e.manifestDigest).toBe(want.attManifest);
      expect(e.layerDigest).toBe(want.envelope);
      expect(e.location).toBe(`${reg.host}/${CORPUS_REPOSITORY}@${want.envelope}`);

      // The annotations are the recorded ones, parsed.
      const att = JSON.parse(await readFile(img.attManifestFile, 'utf8')) as { layers: { annotations: Record<string, string> }[] };
      const annotations = att.layers[0]?.annotations ?? {};
      expect(e.annotations).toEqual(annotations);
      expect(e.cosignBundle).toEqual(JSON.parse(annotations['dev.sigstore.cosign/bundle'] ?? 'null'));
      expect(e.cosignBundle?.Payload.logIndex).toBe(want.logIndex);
      expect(e.annotations['dev.sigstore.cosign/certificate']).toMatch(/^-----BEGIN CERTIFICATE-----/);
      expect(e.predicateType).toBe(annotations['predicateType']);
    });
  });
});
