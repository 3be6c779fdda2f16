import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseImageDigest } from '../../src/digest.ts';
import { exitCodeFor } from '../../src/errors.ts';
import { loadDockerConfig } from '../../src/registry/auth.ts';
import { MEDIA_TYPES, OciClient } from '../../src/registry/client.ts';
import { pushBlob, pushManifest } from '../../src/registry/push.ts';
import { listReferrers } from '../../src/registry/referrers.ts';
import { fetchRegistryEvidence, resolveDigest } from '../../src/registry/evidence.ts';
import { parseImageRef } from '../../src/registry/reference.ts';
import { needs } from '../fixtures/needs.ts';
import { AUTH_REGISTRY_NEEDS, REGISTRY_NEEDS, startRegistry, useRegistry, type RegistryHandle } from '../fixtures/registry.ts';
import { SAMPLE_BUNDLE, SAMPLE_COSIGN_BUNDLE, SAMPLE_ENVELOPE, json, pushAtt, pushBundleReferrer, pushImage, pushReferrersTag } from '../fixtures/oci-content.ts';
import { rejection } from '../fixtures/errors.ts';
import { closedLoopbackPort } from '../fixtures/loopback-guard.ts';

const anonymous = needs('test/registry/registry.test.ts (anonymous registry)', REGISTRY_NEEDS);
const withAuth = needs('test/registry/registry.test.ts (basic auth)', AUTH_REGISTRY_NEEDS);

anonymous.describe('against distribution 2.8 (anonymous)', () => {
  const oci = useRegistry();

  it('pushes and pulls an image: blobs, manifest by tag and by digest, tag -> digest', async () => {
    const repo = parseImageRef(`${oci.reg.host}/team/app:v1`);
    const img = await pushImage(oci.client, repo, 'v1');
    const byTag = await oci.client.getManifest(repo, 'v1');
    expect(byTag.kind).toBe('manifest');
    expect(byTag.bytes.equals(img.bytes)).toBe(true);
    expect(byTag.digest).toBe(img.digest);
    expect(byTag.mediaType).toBe(MEDIA_TYPES.ociManifest);
    const byDigest = await oci.client.getManifest(repo, img.digest);
    expect(byDigest.bytes.equals(img.bytes)).toBe(true);
    expect((await oci.client.getBlob(repo, img.layer.digest, { expectedSize: img.layer.size })).toString()).toBe('layer hello');
    expect(await resolveDigest(repo, { client: oci.client })).toBe(img.digest);
    // Pushing the same blob again is a no-op (HEAD first).
    expect(await pushBlob(oci.client, repo, Buffer.from('layer hello'))).toMatchObject({ digest: img.layer.digest });
    // An @digest reference resolves without asking.
    expect(await resolveDigest(parseImageRef(`${oci.reg.host}/nowhere@${img.digest}`), { client: oci.client })).toBe(img.digest);
    // A Docker schema 2 manifest and a Docker manifest list round-trip too.
    const docker = json({ schemaVersion: 2, mediaType: MEDIA_TYPES.dockerManifest, config: { ...img.config, mediaType: 'application/vnd.docker.container.image.v1+json' }, layers: [{ ...img.layer, mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip' }] });
    const dockerDigest = await pushManifest(oci.client, repo, docker, MEDIA_TYPES.dockerManifest, 'docker');
    const list = json({ schemaVersion: 2, mediaType: MEDIA_TYPES.dockerManifestList, manifests: [{ mediaType: MEDIA_TYPES.dockerManifest, digest: dockerDigest, size: docker.length, platform: { architecture: 'amd64', os: 'linux' } }] });
    const listDigest = await pushManifest(oci.client, repo, list, MEDIA_TYPES.dockerManifestList, 'list');
    const fetchedList = await oci.client.getManifest(repo, 'list');
    expect(fetchedList).toMatchObject({ kind: 'index', digest: listDigest, mediaType: MEDIA_TYPES.dockerManifestList });
    expect(await resolveDigest(parseImageRef(`${oci.reg.host}/team/app:docker`), { client: oci.client })).toBe(dockerDigest);
  });

  it('resolves the default tag latest, and says REGISTRY_NOT_FOUND for a missing tag', async () => {
    const repo = parseImageRef(`${oci.reg.host}/latest-app`);
    const img = await pushImage(oci.client, repo, 'latest', 'latest');
    expect(await resolveDigest(repo, { client: oci.client })).toBe(img.digest);
    const err = await rejection(resolveDigest(parseImageRef(`${oci.reg.host}/latest-app:nope`), { client: oci.client }));
    expect(err.code).toBe('REGISTRY_NOT_FOUND');
    expect(err.message).toContain(`${oci.reg.host}/latest-app:nope`);
  });

  it('caps manifest and blob sizes', async () => {
    const repo = parseImageRef(`${oci.reg.host}/caps`);
    const img = await pushImage(oci.client, repo, 'v1', 'x'.repeat(2000));
    const small = new OciClient({ retries: 0, maxManifestBytes: 100, maxBlobBytes: 100 });
    try {
      expect((await rejection(small.getManifest(repo, 'v1'))).code).toBe('RESPONSE_TOO_LARGE');
      // Without a size hint the body is cut off at the cap.
      expect((await rejection(small.getBlob(repo, img.config.digest))).code).toBe('RESPONSE_TOO_LARGE');
      // With one, before any request.
      const err = await rejection(small.getBlob(repo, img.config.digest, { expectedSize: img.config.size }));
      expect(err.code).toBe('RESPONSE_TOO_LARGE');
      expect(exitCodeFor(err)).toBe(3);
      // Per-call caps.
      expect((await oci.client.getBlob(repo, img.config.digest, { maxBytes: img.config.size })).length).toBe(img.config.size);
      expect((await rejection(oci.client.getBlob(repo, img.config.digest, { maxBytes: img.config.size - 1 }))).code).toBe('RESPONSE_TOO_LARGE');
    } finally {
      await small.close();
    }
  });

  it('finds bundle referrers through the referrers tag schema (distribution 2.8 has no referrers API) and the .att layout', async () => {
    const ref = parseImageRef(`${oci.reg.host}/chains/app:v1`);
    const img = await pushImage(oci.client, ref, 'v1', 'chains');
    const digest = parseImageDigest(img.digest);
    const subject = { mediaType: MEDIA_TYPES.ociManifest, digest: img.digest, size: img.bytes.length };

    expect(await fetchRegistryEvidence(ref, digest, { client: oci.client })).toEqual([]);

    const secondEnvelope = json({ payloadType: 'application/vnd.in-toto+json', payload: 'e30=', signatures: [] });
    const att = await pushAtt(oci.client, ref, img.digest, [SAMPLE_ENVELOPE, secondEnvelope]);
    const b1 = await pushBundleReferrer(oci.client, ref, subject);
    const b2 = await pushBundleReferrer(oci.client, ref, subject, { ...SAMPLE_BUNDLE, note: 'second' });
    // Not a bundle: ignored. A bundle whose subject is another image: ignored.
    const other = await pushImage(oci.client, ref, 'other', 'other');
    const foreign = await pushBundleReferrer(oci.client, ref, { mediaType: MEDIA_TYPES.ociManifest, digest: other.digest, size: other.bytes.length }, { foreign: true });
    const sbomBytes = json({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, artifactType: 'application/spdx+json', config: await pushBlob(oci.client, ref, Buffer.from('{}'), MEDIA_TYPES.ociEmpty), layers: [await pushBlob(oci.client, ref, Buffer.from('{"spdx":1}'), 'application/spdx+json')], subject });
    const sbomDigest = await pushManifest(oci.client, ref, sbomBytes, MEDIA_TYPES.ociManifest);
    await pushReferrersTag(oci.client, ref, img.digest, [
      b1.descriptor,
      { mediaType: MEDIA_TYPES.ociManifest, digest: sbomDigest, size: sbomBytes.length, artifactType: 'application/spdx+json' },
      foreign.descriptor,
      b2.descriptor,
    ]);

    const listed = await listReferrers(oci.client, ref, img.digest);
    expect(listed.via).toBe('tag-schema');
    expect(listed.descriptors).toHaveLength(4);
    expect((await listReferrers(oci.client, ref, img.digest, MEDIA_TYPES.sigstoreBundleV03)).descriptors).toHaveLength(3);

    const evidence = await fetchRegistryEvidence(ref, digest, { client: oci.client });
    expect(evidence.map((e) => e.source)).toEqual(['att-tag', 'att-tag', 'referrer-bundle', 'referrer-bundle']);
    const [e1, e2, r1, r2] = evidence;
    if (e1?.source !== 'att-tag' || e2?.source !== 'att-tag' || r1?.source !== 'referrer-bundle' || r2?.source !== 'referrer-bundle') throw new Error('shape');
    expect(e1.envelopeBytes.equals(SAMPLE_ENVELOPE)).toBe(true);
    expect(e2.envelopeBytes.equals(secondEnvelope)).toBe(true);
    expect(e1.location).toBe(`${oci.reg.host}/chains/app@${att.layers[0]?.digest}`);
    expect(e1.manifestDigest).toBe(att.digest);
    expect(e1.tag).toBe(`${oci.reg.host}/chains/app:sha256-${digest.hex}.att`);
    expect(e1.cosignBundle).toEqual(SAMPLE_COSIGN_BUNDLE);
    expect(e1.annotations['dev.sigstore.cosign/certificate']).toContain('MIIB');
    expect(e1.annotations['dev.sigstore.cosign/chain']).toContain('MIIC');
    expect(e1.predicateType).toBe('https://slsa.dev/provenance/v0.2');
    expect(r1.bundle).toEqual(SAMPLE_BUNDLE);
    expect(r1.bundleBytes.equals(b1.bundleBytes)).toBe(true);
    expect(r1.via).toBe('tag-schema');
    expect(r1.location).toBe(`${oci.reg.host}/chains/app@${b1.descriptor.digest}`);
    expect(r1.artifactType).toBe(MEDIA_TYPES.sigstoreBundleV03);
    expect(r2.bundle).toEqual({ ...SAMPLE_BUNDLE, note: 'second' });
  });

  it('reports an .att annotation of the wrong shape on its own layer, not for the whole fetch', async () => {
    const ref = parseImageRef(`${oci.reg.host}/badatt`);
    const img = await pushImage(oci.client, ref, 'v1', 'badatt');
    await pushAtt(oci.client, ref, img.digest, [SAMPLE_ENVELOPE], { 'dev.sigstore.cosign/bundle': '{"SignedEntryTimestamp":"x"}' });
    const [item] = await fetchRegistryEvidence(ref, parseImageDigest(img.digest), { client: oci.client });
    if (item?.source !== 'att-tag') throw new Error('expected the .att layer');
    expect(item.cosignBundle).toBeUndefined();
    expect(item.annotationError?.code).toBe('REGISTRY_MALFORMED');
    expect(item.annotationError?.message).toContain('dev.sigstore.cosign/bundle');
  });

  it('says REGISTRY_UNREACHABLE when the registry is down', async () => {
    const down = await startRegistry();
    const ref = parseImageRef(`${down.host}/app:v1`);
    await down.stop();
    const err = await rejection(fetchRegistryEvidence(ref, parseImageDigest(`sha256:${'0'.repeat(64)}`), { retries: 1 }));
    expect(err.code).toBe('REGISTRY_UNREACHABLE');
    expect(err.message).toContain(down.host);
    expect(exitCodeFor(err)).toBe(3);
  });
});

describe('unreachable without a registry', () => {
  it('a closed port is REGISTRY_UNREACHABLE', async () => {
    const port = await closedLoopbackPort();
    const err = await rejection(resolveDigest(parseImageRef(`127.0.0.1:${port}/app:v1`), { retries: 0 }));
    expect(err.code).toBe('REGISTRY_UNREACHABLE');
  });
});

withAuth.describe('against distribution 2.8 with htpasswd (basic auth)', () => {
  const username = 'tekton';
  const password = 's3cr3t-Pa55';
  let reg: RegistryHandle;
  let dir: string;
  beforeAll(async () => {
    reg = await startRegistry({ htpasswd: { username, password } });
    dir = await mkdtemp(path.join(tmpdir(), 'rekor-gate-dockercfg-'));
  });
  afterAll(async () => {
    await reg?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function configDir(name: string, auths: Record<string, unknown>): Promise<string> {
    const d = path.join(dir, name);
    await mkdir(d, { recursive: true });
    await writeFile(path.join(d, 'config.json'), JSON.stringify({ auths }));
    return d;
  }

  it('denies anonymous access with REGISTRY_DENIED', async () => {
    const ref = parseImageRef(`${reg.host}/private/app:v1`);
    const err = await rejection(resolveDigest(ref, { retries: 0 }));
    expect(err.code).toBe('REGISTRY_DENIED');
    expect(err.message).toContain(`registry denied access to ${reg.host}/private/app`);
    expect(exitCodeFor(err)).toBe(3);
  });

  it('authenticates from DOCKER_CONFIG keyed by host with "auth", and by URL with username/password', async () => {
    const ref = parseImageRef(`${reg.host}/private/app:v1`);
    const byHost = await loadDockerConfig(await configDir('by-host', { [reg.host]: { auth: Buffer.from(`${username}:${password}`).toString('base64') } }));
    const pusher = new OciClient({ dockerConfig: byHost, retries: 0 });
    let img;
    try {
      img = await pushImage(pusher, ref, 'v1', 'private');
      await pushAtt(pusher, ref, img.digest);
      expect(await resolveDigest(ref, { client: pusher })).toBe(img.digest);
    } finally {
      await pusher.close();
    }
    const byUrl = await loadDockerConfig(await configDir('by-url', { [`http://${reg.host}/v2/`]: { username, password } }));
    expect(await resolveDigest(ref, { dockerConfig: byUrl })).toBe(img.digest);
    const evidence = await fetchRegistryEvidence(ref, parseImageDigest(img.digest), { dockerConfig: byUrl });
    expect(evidence.map((e) => e.source)).toEqual(['att-tag']);
  });

  it('denies wrong credentials without printing them', async () => {
    const ref = parseImageRef(`${reg.host}/private/app:v1`);
    const wrong = await loadDockerConfig(await configDir('wrong', { [reg.host]: { username, password: 'not-the-password' } }));
    const err = await rejection(resolveDigest(ref, { dockerConfig: wrong, retries: 0 }));
    expect(err.code).toBe('REGISTRY_DENIED');
    expect(err.message).not.toContain('not-the-password');
    expect(err.message).not.toContain(Buffer.from(`${username}:not-the-password`).toString('base64'));
    // Credentials for another port are not used.
    const other = await loadDockerConfig(await configDir('other', { '127.0.0.1:1': { username, password } }));
    expect((await rejection(resolveDigest(ref, { dockerConfig: other, retries: 0 }))).message).toContain('no credentials');
  });
});
