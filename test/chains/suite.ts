/**
 * One Chains release, every provenance format it has, every run these tests wrote: Chains (the chains-producer
 * binary, Chains' own ObjectSigner.Sign) signs the run against a real registry and a Rekor log, and rekor-gate
 * verifies each image Chains attested: by search, by the entry URL Chains wrote in chains.tekton.dev/transparency,
 * and offline from the registry alone; a twin image carrying a tampered copy of the attestation fails, naming the
 * check; and the Task's step (task/rekor-gate, run by the step emulator with the first probe's params) passes.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEDIA_TYPES, OciClient } from '../../src/registry/client.ts';
import { pushBlob, pushManifest } from '../../src/registry/push.ts';
import { parseImageRef, type RepositoryRef } from '../../src/registry/reference.ts';
import { readResource, repoRoot } from '../../scripts/tekton-resources.ts';
import { json, pushImage } from '../fixtures/oci-content.ts';
import { callingTestFile, needs } from '../fixtures/needs.ts';
import { REGISTRY_NEEDS, startRegistry, type RegistryHandle } from '../fixtures/registry.ts';
import { runTask } from '../fixtures/step-runner.ts';
import { jsonVerdict, runCli, startWorld, type CliResult } from '../fixtures/world.ts';
import { imageEmulation } from '../tekton/dockerfile.ts';
import { chainsConfig, fillRun, FORMATS, generateSigningSecrets, keepCorpus, produce, producerMissing, type ChainsRelease, type ProducerOutput } from './producer.ts';

/**
 * The runs written for these tests (test/chains/runs), the images each one builds, and whether Chains signs
 * those images (a `.sig` and a hashedrekord entry): only for images named by IMAGE_URL/IMAGE_DIGEST or IMAGES;
 * one named only by a *_ARTIFACT_OUTPUTS result gets provenance but no signature.
 */
export const RUNS = [
  { name: 'buildah-taskrun', images: 1, imageSigned: true },
  { name: 'git-clone-buildah-pipelinerun', images: 1, imageSigned: true },
  { name: 'multi-image-taskrun', images: 2, imageSigned: true },
  { name: 'stepaction-taskrun', images: 1, imageSigned: false },
] as const;

/**
 * The Rekor log Chains uploads to and the gate reads: its URL, and a directory trusting its key as the Task's
 * `trust` workspace holds it (trusted_root.json and/or rekor.pub; the CLI's --trust-dir).
 */
export type LogUnderTest = { url: string; trustDir: string; close(): Promise<void> };

type Image = { repo: RepositoryRef; repoName: string; url: string; digest: string };
type Case = { dir: string; images: Image[]; values: Record<string, string>; out: ProducerOutput; evidence: Map<string, Evidence> };

const SIMPLE_SIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';

const ANNOTATION = 'chains.tekton.dev/transparency';

/**
 * Where Chains puts an image's attestations: cosign's `.att` tag (`storage.oci.encoding-format: dsse`, the
 * default), or Sigstore bundle v0.3 referrers (`sigstore-bundle`, v0.29+), which the registry here (no
 * referrers API) holds under the referrers tag schema (`sha256-<hex>`).
 */
type Layout = 'att' | 'bundle';

type Evidence = {
  /** The manifests Chains pushed for the image (the .att manifest, or each bundle referrer), as stored. */
  manifests: Buffer[];
  /** The in-toto statements they hold. */
  statements: Record<string, unknown>[];
  /** For bundles: the media type of each bundle's DSSE payload (Chains' signature bundles hold simplesigning). */
  payloadTypes: string[];
};

type Layer = { mediaType: string; digest: string; size: number; annotations?: Record<string, string> };
type Manifest = { layers: Layer[]; subject?: unknown; artifactType?: string; annotations?: Record<string, string> };

const IN_TOTO = 'application/vnd.in-toto+json';
const decode = (b64: string): string => Buffer.from(b64, 'base64').toString('utf8');

async function readEvidence(client: OciClient, img: Image, layout: Layout): Promise<Evidence> {
  const tag = img.digest.replace(':', '-');
  const ev: Evidence = { manifests: [], statements: [], payloadTypes: [] };
  if (layout === 'att') {
    const m = await client.getManifest(img.repo, `${tag}.att`);
    ev.manifests.push(m.bytes);
    for (const l of (JSON.parse(m.bytes.toString('utf8')) as Manifest).layers) {
      if (l.mediaType !== MEDIA_TYPES.dsseEnvelope) continue;
      const env = JSON.parse((await client.getBlob(img.repo, l.digest)).toString('utf8')) as { payloadType: string; payload: string };
      ev.payloadTypes.push(env.payloadType);
      ev.statements.push(JSON.parse(decode(env.payload)) as Record<string, unknown>);
    }
    return ev;
  }
  const index = await client.getManifest(img.repo, tag);
  for (const d of (JSON.parse(index.bytes.toString('utf8')) as { manifests: { digest: string }[] }).manifests) {
    const m = await client.getManifest(img.repo, d.digest);
    ev.manifests.push(m.bytes);
    for (const l of (JSON.parse(m.bytes.toString('utf8')) as Manifest).layers) {
      const bundle = JSON.parse((await client.getBlob(img.repo, l.digest)).toString('utf8')) as { dsseEnvelope?: { payloadType: string; payload: string } };
      if (!bundle.dsseEnvelope) continue;
      ev.payloadTypes.push(bundle.dsseEnvelope.payloadType);
      if (bundle.dsseEnvelope.payloadType === IN_TOTO) ev.statements.push(JSON.parse(decode(bundle.dsseEnvelope.payload)) as Record<string, unknown>);
    }
  }
  return ev;
}

/** `bytes` with every DSSE payload's mention of digest `from` rewritten to `to` (envelope or bundle JSON). */
function rewritePayload(bytes: Buffer, from: string, to: string): Buffer {
  const doc = JSON.parse(bytes.toString('utf8')) as { payload?: string; dsseEnvelope?: { payload: string } };
  const env = doc.dsseEnvelope ?? doc;
  if (typeof env.payload !== 'string') return bytes;
  env.payload = Buffer.from(decode(env.payload).replaceAll(from, to)).toString('base64');
  return json(doc);
}

/**
 * A twin of `img` (another image in the same repository) carrying the original's attestations with every
 * statement's subject digest rewritten to the twin's; the signatures and log entries are the original's.
 */
async function pushTamperedTwin(client: OciClient, img: Image, ev: Evidence, layout: Layout): Promise<Image> {
  const twin = await pushImage(client, img.repo, 'twin', `${img.repoName}-twin`);
  const from = img.digest.slice('sha256:'.length);
  const to = twin.digest.slice('sha256:'.length);
  const referrers = [];
  for (const bytes of ev.manifests) {
    const doc = JSON.parse(bytes.toString('utf8')) as Manifest;
    const layers = [];
    for (const l of doc.layers) {
      const blob = await client.getBlob(img.repo, l.digest);
      const d = await pushBlob(client, img.repo, l.mediaType === 'text/plain' ? blob : rewritePayload(blob, from, to), l.mediaType);
      layers.push({ ...d, ...(l.annotations ? { annotations: l.annotations } : {}) });
    }
    const subject = { mediaType: MEDIA_TYPES.ociManifest, digest: twin.digest, size: twin.bytes.length };
    const out = json({ ...doc, layers, ...(layout === 'bundle' ? { subject } : {}) });
    const digest = await pushManifest(client, img.repo, out, MEDIA_TYPES.ociManifest, layout === 'att' ? `${twin.digest.replace(':', '-')}.att` : undefined);
    referrers.push({ mediaType: MEDIA_TYPES.ociManifest, digest, size: out.length, ...(doc.artifactType ? { artifactType: doc.artifactType } : {}), ...(doc.annotations ? { annotations: doc.annotations } : {}) });
  }
  if (layout === 'bundle') {
    await pushManifest(client, img.repo, json({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: referrers }), MEDIA_TYPES.ociIndex, twin.digest.replace(':', '-'));
  }
  return { ...img, url: `${img.repo.registry}/${img.repoName}:twin`, digest: twin.digest };
}

/** The probe the step runs with: the first of probes.yaml (key-signed Chains provenance), its params filled. */
function probeParams(values: Record<string, string>): { params: Record<string, string>; results: string[] } {
  const probes = (parse(readFileSync(path.join(repoRoot, 'probes.yaml'), 'utf8')) as { tasks: { params: { name: string; value: string }[]; assert: { results: string[] } }[] }).tasks;
  const probe = probes[0];
  if (!probe) throw new Error('probes.yaml has no probe');
  const fill = (s: string): string => s.replace(/\$\{([A-Z_]+)\}/g, (_, k: string) => values[k] ?? `\${${k}}`);
  return { params: Object.fromEntries(probe.params.map((p) => [p.name, fill(p.value)])), results: probe.assert.results };
}

/**
 * Declares the suite of one release against the log `startLog` gives (the project's test log, or the real
 * Rekor), skipped loudly when the producer or the registry is missing.
 */
export function chainsReleaseSuite(
  release: ChainsRelease,
  logName: string,
  startLog: () => Promise<LogUnderTest>,
  o: { missing?: () => string | undefined; formats?: readonly string[]; runs?: readonly string[] } = {},
): void {
  const what = `Tekton Chains ${release.version} against ${logName} (${callingTestFile()})`;
  // The producer is built by scripts/chains-producer/install.sh, not installed as a tool: a missing one skips, in CI
  // too (v0.29.1 needs CHAINS_GIT_DIR there), saying so as needs() does; the registry is needs()' own.
  const why = producerMissing(release.version) ?? o.missing?.();
  if (why) process.stderr.write(`\n*** SKIPPED ${what}: ${why}\n`);
  const registry = needs(what, REGISTRY_NEEDS);
  const suite = why ? describe.skip : registry.describe;

  suite(`Tekton Chains ${release.version} as the producer, ${logName}`, () => {
    let log: LogUnderTest;
    let reg: RegistryHandle;
    let client: OciClient;
    let work: string;
    let secrets: { dir: string; publicKeyPath: string };

    beforeAll(async () => {
      log = await startLog();
      reg = await startRegistry();
      client = new OciClient({ retries: 0 });
      work = mkdtempSync(path.join(os.tmpdir(), `rekor-gate-chains-${release.version}-`));
      secrets = await generateSigningSecrets(release.version, path.join(work, 'signing-secrets'));
    }, 900_000); // the real Rekor may wait for another suite's stack to release the metrics port
    afterAll(async () => {
      await client?.close();
      await reg?.stop();
      await log?.close();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    const gate = (args: string[]): Promise<CliResult> =>
      runCli(['verify', ...args, '--trust-dir', log.trustDir, '--key', secrets.publicKeyPath, '--timeout', '10', '--output', 'json']);

    for (const { format, predicateType } of FORMATS.filter((f) => !o.formats || o.formats.includes(f.format))) for (const layout of release.layouts) {
      // The layout is Chains' storage.oci.encoding-format (v0.29+): dsse (.att/.sig tags) or sigstore-bundle.
      const layoutConfig: Record<string, string> = layout === 'bundle' ? { 'storage.oci.encoding-format': 'sigstore-bundle' } : {};
      const registrySource = layout === 'bundle' ? 'referrer-bundle' : 'att-tag';
      for (const r of RUNS.filter((x) => !o.runs || o.runs.includes(x.name))) {
        describe(`${format}${layout === 'bundle' ? ' (sigstore-bundle)' : ''}, ${r.name}`, () => {
          const c = {} as Case;

          beforeAll(async () => {
            const slug = `${release.version}-${format}-${layout}-${r.name}`.replace(/[^a-z0-9]+/g, '-');
            c.dir = path.join(work, slug);
            c.images = [];
            const values: Record<string, string> = {};
            for (let i = 1; i <= r.images; i++) {
              const repoName = `chains/${slug}/app${i}`;
              const repo = parseImageRef(`${reg.host}/${repoName}:v1`);
              const pushed = await pushImage(client, repo, 'v1', `${slug}-${i}`);
              const img = { repo, repoName, url: `${reg.host}/${repoName}:v1`, digest: pushed.digest };
              c.images.push(img);
              const n = r.images === 1 ? '' : `_${i}`;
              values[`IMAGE_URL${n}`] = img.url;
              values[`IMAGE_REPO${n}`] = `${reg.host}/${repoName}`;
              values[`IMAGE_DIGEST${n}`] = img.digest;
            }
            c.values = values;
            c.out = await produce(release.version, c.dir, fillRun(r.name, values), chainsConfig(format, log.url, layoutConfig), secrets.dir);
            c.evidence = new Map();
            for (const img of c.images) c.evidence.set(img.digest, await readEvidence(client, img, layout));
            keepCorpus(release.version, layout === 'bundle' ? `${format}-sigstore-bundle` : format, r.name, {
              chainsVersion: c.out.chainsVersion,
              format,
              layout,
              run: r.name,
              annotations: c.out.runs,
              attestations: c.images.map((img) => ({ image: img.digest, statements: c.evidence.get(img.digest)!.statements })),
            });
          }, 180_000);

          it('Chains marked every run signed and wrote the entry URL of its log', () => {
            for (const run of c.out.runs) {
              expect(run.annotations['chains.tekton.dev/signed'], run.name).toBe('true');
              expect(run.annotations[ANNOTATION], run.name).toMatch(new RegExp(`^${log.url.replace(/[.]/g, '\\.')}/api/v1/log/entries\\?logIndex=\\d+$`));
            }
            expect(c.out.chainsVersion).toBe(release.version);
          });

          it(r.imageSigned ? 'Chains signed each image' : 'Chains signed no image: it is only in the provenance', async () => {
            for (const img of c.images) {
              const sig = await client.tryGetManifest(img.repo, `${img.digest.replace(':', '-')}.sig`);
              // dsse layout: a .sig tag; sigstore-bundle: a bundle referrer whose DSSE payload is the simplesigning one
              expect(sig !== undefined, img.url).toBe(layout === 'att' && r.imageSigned);
              expect(c.evidence.get(img.digest)!.payloadTypes.includes(SIMPLE_SIGNING), img.url).toBe(layout === 'bundle' && r.imageSigned);
            }
          });

          it('verifies each image Chains attested, found by search', async () => {
            for (const img of c.images) {
              const res = await gate(['--image-digest', img.digest, '--image-url', img.url, '--rekor-url', log.url]);
              expect(res.code, res.stdout + res.stderr).toBe(0);
              const v = jsonVerdict(res);
              expect(v.accepted?.kind).toBe(release.provenanceKind);
              expect(v.accepted?.predicateType).toBe(predicateType);
              expect(v.accepted?.builderId).toBe('https://tekton.dev/chains/v2');
            }
          });

          it('the entry URL Chains wrote names its last upload: a signed image\'s signature (refused) after a TaskRun\'s provenance', async () => {
            const run = c.out.runs.at(-1)!;
            const res = await gate(['--image-digest', c.images.at(-1)!.digest, '--image-url', c.images.at(-1)!.url, '--rekor-url', log.url, '--entry-url', run.annotations[ANNOTATION]!]);
            if (run.kind === 'PipelineRun' || !r.imageSigned) {
              expect(res.code, res.stdout + res.stderr).toBe(0);
              expect(jsonVerdict(res).accepted?.sources).toContain('entry-url');
            } else {
              // Chains signs the TaskRun's provenance, then each image (simplesigning, a hashedrekord entry), and
              // keeps the last upload's index in chains.tekton.dev/transparency (pkg/chains/signing.go).
              expect(res.code, res.stdout + res.stderr).toBe(1);
              expect(jsonVerdict(res).candidates.map((x) => [x.kind, x.code])).toEqual([['hashedrekord 0.0.1', 'ENTRY_UNSUPPORTED_KIND']]);
            }
          });

          it('verifies through the entry URL Chains wrote when it signs no image (artifacts.oci.storage empty)', async () => {
            const noImageSigning = { ...layoutConfig, 'artifacts.oci.storage': '' };
            const out = await produce(release.version, `${c.dir}-no-image-signing`, fillRun(r.name, c.values), chainsConfig(format, log.url, noImageSigning), secrets.dir);
            const run = out.runs.at(-1)!;
            const res = await gate(['--image-digest', c.images[0]!.digest, '--image-url', c.images[0]!.url, '--rekor-url', log.url, '--entry-url', run.annotations[ANNOTATION]!]);
            expect(res.code, res.stdout + res.stderr).toBe(0);
            const v = jsonVerdict(res);
            expect(v.accepted?.sources).toContain('entry-url');
            expect(v.accepted?.kind).toBe(release.provenanceKind);
          });

          it('verifies offline from what Chains put in the registry', async () => {
            for (const img of c.images) {
              const res = await gate(['--image-digest', img.digest, '--image-url', img.url, '--rekor-url', log.url, '--offline']);
              expect(res.code, res.stdout + res.stderr).toBe(0);
              expect(jsonVerdict(res).accepted?.sources).toEqual([registrySource]);
            }
          });

          it('rejects a twin image carrying the attestation with its subject rewritten, naming the check', async () => {
            const img = c.images[0]!;
            const twin = await pushTamperedTwin(client, img, c.evidence.get(img.digest)!, layout);
            const ev = c.evidence.get(img.digest)!;
            for (const offline of [false, true]) {
              const res = await gate(['--image-digest', twin.digest, '--image-url', twin.url, '--rekor-url', log.url, ...(offline ? ['--offline'] : [])]);
              expect(res.code, res.stdout + res.stderr).toBe(1);
              const v = jsonVerdict(res);
              expect(v.verified).toBe(false);
              // Each provenance copy fails: online, an intoto 0.0.1 entry's own copy of the statement (found through the
              // .att annotation's entry) names the original image; otherwise the registry's envelope no longer hashes to
              // the logged one. A sigstore-bundle image signature (a DSSE envelope of the simplesigning payload, logged
              // as hashedrekord: pkg/chains/storage/oci/simple.go) is checked as the image's signature: its rewritten
              // payload no longer hashes to the entry's data hash.
              const provenance = release.provenanceKind === 'intoto 0.0.1' && !offline ? 'statement:SUBJECT_MISMATCH' : 'attestation:ATTESTATION_HASH';
              const expected = [
                ...ev.statements.map(() => provenance),
                ...ev.payloadTypes.filter((t) => t === SIMPLE_SIGNING).map(() => 'signature:ATTESTATION_HASH'),
              ].sort();
              expect(v.candidates.map((x) => `${x.check}:${x.code}`).sort(), res.stdout).toEqual(expected);
            }
          });

          it("the Task's step passes with the probe's params", async () => {
            const img = c.images[0]!;
            const probe = probeParams({
              KEY_SIGNED_DIGEST: img.digest,
              KEY_SIGNED_IMAGE: img.url,
              REKOR_URL: log.url,
              PUBLIC_KEY: readFileSync(secrets.publicKeyPath, 'utf8'),
            });
            const out = await runTask(readResource('task/rekor-gate/0.1/rekor-gate.yaml'), {
              params: probe.params,
              workspaces: { trust: log.trustDir },
              image: imageEmulation(),
              timeoutMs: 90_000,
            });
            const logText = out.steps.map((s) => s.stdout + s.stderr).join('\n');
            expect(out.succeeded, logText).toBe('True');
            for (const rule of probe.results) {
              const eq = rule.indexOf('=');
              const key = rule.slice(0, eq);
              if (key === 'PREDICATE_TYPE') expect(out.results[key]).toBe(predicateType);
              else expect(out.results[key], `${rule}\n${logText}`).toMatch(new RegExp(rule.slice(eq + 1)));
            }
          });
        });
      }
    }
  });
}

/** The project's test Rekor log (test/fixtures/rekor-log) with its trusted root, as a LogUnderTest. */
export async function testLog(): Promise<LogUnderTest> {
  const w = await startWorld();
  const trustDir = path.join(w.dir, 'trust');
  mkdirSync(trustDir);
  writeFileSync(path.join(trustDir, 'trusted_root.json'), readFileSync(w.trustedRootPath));
  return { url: w.log.url, trustDir, close: () => w.close() };
}
