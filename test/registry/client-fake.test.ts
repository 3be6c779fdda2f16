import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MockAgent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseImageDigest } from '../../src/digest.ts';
import { exitCodeFor } from '../../src/errors.ts';
import { parseDockerConfig } from '../../src/registry/auth.ts';
import { MEDIA_TYPES, OciClient } from '../../src/registry/client.ts';
import { fetchRegistryEvidence, resolveDigest } from '../../src/registry/evidence.ts';
import { parseImageRef } from '../../src/registry/reference.ts';
import { listReferrers } from '../../src/registry/referrers.ts';
import { send, sendJson, startFake, type FakeServer, type Recorded } from './fake-server.ts';
import { SAMPLE_BUNDLE, json } from '../fixtures/oci-content.ts';
import { rejection } from '../fixtures/errors.ts';
import { needs, OPENSSL_BINARY } from '../fixtures/needs.ts';

// Behaviours a well-behaved registry does not show: a bearer-token flow, lying content, oversized
// bodies, the referrers API with pagination, plain-HTTP downgrades, TLS verification, 5xx answers.

const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

const MANIFEST = json({
  schemaVersion: 2,
  mediaType: MEDIA_TYPES.ociManifest,
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha('{}'), size: 2 },
  layers: [],
});
const MANIFEST_DIGEST = sha(MANIFEST);

describe('bearer-token flow (fake registry + token server)', () => {
  const user = 'robot$ci';
  const pass = 'p@ss:word';
  let reg: FakeServer;
  let tokens: FakeServer;
  const tokenRequests: Recorded[] = [];
  beforeAll(async () => {
    tokens = await startFake((req, res) => {
      tokenRequests.push(req);
      const url = new URL(req.url, 'http://x');
      if (req.method === 'POST') {
        const form = new URLSearchParams(req.body.toString());
        if (form.get('grant_type') === 'refresh_token' && form.get('refresh_token') === 'refresh-me') {
          return sendJson(res, 200, { access_token: 'good-token', expires_in: 300 });
        }
        return sendJson(res, 401, { error: 'invalid_grant' });
      }
      const expected = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
      if (req.headers.authorization === expected && url.searchParams.get('service') === 'fake-registry') {
        return sendJson(res, 200, { token: 'good-token', expires_in: 300 });
      }
      if (req.headers.authorization === undefined) return sendJson(res, 200, { token: 'anonymous-token' });
      return sendJson(res, 401, { details: 'bad credentials' });
    });
    reg = await startFake((req, res) => {
      const auth = req.headers.authorization;
      if (auth !== 'Bearer good-token' && auth !== 'Bearer static-registry-token') {
        return sendJson(res, 401, { errors: [{ code: 'UNAUTHORIZED' }] }, {
          'www-authenticate': `Bearer realm="${tokens.url}/token",service="fake-registry",scope="repository:team/app:pull"`,
        });
      }
      if (req.url === '/v2/team/app/manifests/v1' || req.url === `/v2/team/app/manifests/${MANIFEST_DIGEST}`) {
        return send(res, 200, MANIFEST, { 'content-type': MEDIA_TYPES.ociManifest, 'docker-content-digest': MANIFEST_DIGEST });
      }
      return sendJson(res, 404, { errors: [{ code: 'MANIFEST_UNKNOWN' }] });
    });
  });
  afterAll(async () => {
    await reg?.close();
    await tokens?.close();
  });

  it('gets a token with the Docker config credentials, then reuses it', async () => {
    tokenRequests.length = 0;
    const dockerConfig = parseDockerConfig(JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from(`${user}:${pass}`).toString('base64') } } }), 'config.json');
    const client = new OciClient({ dockerConfig, retries: 0 });
    try {
      expect(await resolveDigest(parseImageRef(`${reg.host}/team/app:v1`), { client })).toBe(MANIFEST_DIGEST);
      expect((await client.getManifest({ registry: reg.host, repository: 'team/app' }, MANIFEST_DIGEST)).bytes.equals(MANIFEST)).toBe(true);
    } finally {
      await client.close();
    }
    expect(tokenRequests).toHaveLength(1);
    const url = new URL(tokenRequests[0]?.url ?? '', 'http://x');
    expect(url.searchParams.get('service')).toBe('fake-registry');
    expect(url.searchParams.getAll('scope')).toEqual(['repository:team/app:pull']);
    expect(url.searchParams.get('account')).toBe(user);
  });

  it('uses an identitytoken as an OAuth2 refresh token', async () => {
    tokenRequests.length = 0;
    const dockerConfig = parseDockerConfig(JSON.stringify({ auths: { [reg.host]: { identitytoken: 'refresh-me' } } }), 'config.json');
    expect(await resolveDigest(parseImageRef(`${reg.host}/team/app:v1`), { dockerConfig, retries: 0 })).toBe(MANIFEST_DIGEST);
    expect(tokenRequests.map((r) => r.method)).toEqual(['POST']);
    expect(new URLSearchParams(tokenRequests[0]?.body.toString()).get('scope')).toBe('repository:team/app:pull');
  });

  it('sends a registrytoken as is', async () => {
    tokenRequests.length = 0;
    const dockerConfig = parseDockerConfig(JSON.stringify({ auths: { [`https://${reg.host}`]: { registrytoken: 'static-registry-token' } } }), 'config.json');
    expect(await resolveDigest(parseImageRef(`${reg.host}/team/app:v1`), { dockerConfig, retries: 0 })).toBe(MANIFEST_DIGEST);
    expect(tokenRequests).toHaveLength(0);
  });

  it('is REGISTRY_DENIED anonymously (token not accepted) and with wrong credentials (token refused)', async () => {
    const anon = await rejection(resolveDigest(parseImageRef(`${reg.host}/team/app:v1`), { retries: 0 }));
    expect(anon.code).toBe('REGISTRY_DENIED');
    expect(anon.message).toContain(`registry denied access to ${reg.host}/team/app`);
    expect(anon.message).toContain('no credentials');
    const dockerConfig = parseDockerConfig(JSON.stringify({ auths: { [reg.host]: { username: user, password: 'wrong-password' } } }), 'config.json');
    const wrong = await rejection(resolveDigest(parseImageRef(`${reg.host}/team/app:v1`), { dockerConfig, retries: 0 }));
    expect(wrong.code).toBe('REGISTRY_DENIED');
    expect(wrong.message).not.toContain('wrong-password');
    expect(exitCodeFor(wrong)).toBe(3);
  });
});

describe('content checks (fake registry)', () => {
  const goodBlob = Buffer.from('the real blob');
  const goodDigest = sha(goodBlob);
  const big = Buffer.alloc(3000, 1);
  let reg: FakeServer;
  beforeAll(async () => {
    reg = await startFake((req, res) => {
      switch (req.url) {
        case `/v2/app/manifests/${MANIFEST_DIGEST}`: // by digest, other bytes
          return send(res, 200, json({ ...JSON.parse(MANIFEST.toString()), annotations: { evil: 'yes' } }), { 'content-type': MEDIA_TYPES.ociManifest });
        case '/v2/app/manifests/lying-header': // by tag, header names other bytes
          return send(res, 200, MANIFEST, { 'content-type': MEDIA_TYPES.ociManifest, 'docker-content-digest': sha('something else') });
        case '/v2/app/manifests/not-json':
          return send(res, 200, 'not json', { 'content-type': MEDIA_TYPES.ociManifest });
        case '/v2/app/manifests/wrong-shape':
          return send(res, 200, json({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, layers: 'x' }), { 'content-type': MEDIA_TYPES.ociManifest });
        case '/v2/app/manifests/schema1':
          return send(res, 200, json({ schemaVersion: 1 }), { 'content-type': 'application/vnd.docker.distribution.manifest.v1+prettyjws' });
        case '/v2/app/manifests/huge-streamed': {
          // No Content-Length: chunked, larger than the cap.
          res.writeHead(200, { 'content-type': MEDIA_TYPES.ociManifest });
          res.write(Buffer.alloc(2000, 0x20));
          res.end(Buffer.alloc(2000, 0x20));
          return;
        }
        case `/v2/app/blobs/${goodDigest}`:
          return send(res, 200, Buffer.from('a forged blob'));
        case `/v2/app/blobs/${sha(big)}`:
          return send(res, 200, big);
        case '/v2/app/blobs/sha256:redirect':
          return send(res, 307, '', { location: 'http://registry.example.com/blob' });
        case '/v2/busy/manifests/v1':
          return send(res, 503, 'busy');
        case '/v2/forbidden/manifests/v1':
          return sendJson(res, 403, { errors: [{ code: 'DENIED' }] });
        case '/v2/teapot/manifests/v1':
          return sendJson(res, 418, { errors: [{ code: 'TEAPOT' }] });
        default:
          return sendJson(res, 404, { errors: [{ code: 'NAME_UNKNOWN' }] });
      }
    });
  });
  afterAll(async () => {
    await reg?.close();
  });
  const repo = (): { registry: string; repository: string } => ({ registry: reg.host, repository: 'app' });

  it('detects a manifest whose bytes do not match the digest asked for', async () => {
    const client = new OciClient({ retries: 0 });
    try {
      const err = await rejection(client.getManifest(repo(), MANIFEST_DIGEST));
      expect(err.code).toBe('REGISTRY_DIGEST_MISMATCH');
      expect(err.message).toContain(MANIFEST_DIGEST);
      expect((await rejection(client.getManifest(repo(), 'lying-header'))).code).toBe('REGISTRY_DIGEST_MISMATCH');
    } finally {
      await client.close();
    }
  });

  it('detects a blob whose bytes do not match its digest or its size', async () => {
    const client = new OciClient({ retries: 0 });
    try {
      expect((await rejection(client.getBlob(repo(), goodDigest))).code).toBe('REGISTRY_DIGEST_MISMATCH');
      expect((await rejection(client.getBlob(repo(), sha(big), { expectedSize: 10 }))).code).toBe('REGISTRY_DIGEST_MISMATCH');
      expect((await rejection(client.getBlob(repo(), sha(big), { expectedSize: 3000, maxBytes: 2999 }))).code).toBe('RESPONSE_TOO_LARGE');
      expect((await rejection(client.getBlob(repo(), sha(big), { expectedSize: 3001 }))).code).toBe('REGISTRY_DIGEST_MISMATCH');
      expect((await client.getBlob(repo(), sha(big), { expectedSize: 3000 })).equals(big)).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('caps a streamed body without Content-Length', async () => {
    const client = new OciClient({ retries: 0, maxManifestBytes: 3000 });
    try {
      expect((await rejection(client.getManifest(repo(), 'huge-streamed'))).code).toBe('RESPONSE_TOO_LARGE');
    } finally {
      await client.close();
    }
  });

  it('rejects malformed manifests', async () => {
    const client = new OciClient({ retries: 0 });
    try {
      expect((await rejection(client.getManifest(repo(), 'not-json'))).code).toBe('REGISTRY_MALFORMED');
      expect((await rejection(client.getManifest(repo(), 'wrong-shape'))).code).toBe('REGISTRY_MALFORMED');
      expect((await rejection(client.getManifest(repo(), 'schema1'))).code).toBe('REGISTRY_MALFORMED');
    } finally {
      await client.close();
    }
  });

  it('maps statuses: 5xx after retries -> REGISTRY_UNREACHABLE, 403 -> REGISTRY_DENIED, others -> HTTP_STATUS', async () => {
    const before = reg.requests.filter((r) => r.url === '/v2/busy/manifests/v1').length;
    const busy = await rejection(resolveDigest(parseImageRef(`${reg.host}/busy:v1`), { retries: 2 }));
    expect(busy.code).toBe('REGISTRY_UNREACHABLE');
    expect(reg.requests.filter((r) => r.url === '/v2/busy/manifests/v1').length - before).toBe(3);
    const denied = await rejection(resolveDigest(parseImageRef(`${reg.host}/forbidden:v1`), { retries: 0 }));
    expect(denied.code).toBe('REGISTRY_DENIED');
    expect(denied.message).toBe(`registry denied access to ${reg.host}/forbidden (HTTP 403)`);
    const teapot = await rejection(resolveDigest(parseImageRef(`${reg.host}/teapot:v1`), { retries: 0 }));
    expect(teapot.code).toBe('HTTP_STATUS');
    expect(teapot.message).toContain('418');
    expect(teapot.message).toContain('TEAPOT');
  });

  it('refuses a redirect to plain HTTP on a non-loopback host', async () => {
    const client = new OciClient({ retries: 0 });
    try {
      const err = await rejection(client.getBlob(repo(), 'sha256:redirect'));
      expect(err.code).toBe('REGISTRY_INSECURE');
      expect(err.message).toContain('registry.example.com');
    } finally {
      await client.close();
    }
  });
});

describe('referrers API (fake registry)', () => {
  const subject = MANIFEST_DIGEST;
  const bundleBytes = json(SAMPLE_BUNDLE);
  const referrer = json({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    artifactType: MEDIA_TYPES.sigstoreBundleV03,
    config: { mediaType: MEDIA_TYPES.ociEmpty, digest: sha('{}'), size: 2 },
    layers: [{ mediaType: MEDIA_TYPES.sigstoreBundleV03, digest: sha(bundleBytes), size: bundleBytes.length }],
    subject: { mediaType: MEDIA_TYPES.ociManifest, digest: subject, size: MANIFEST.length },
  });
  const referrerDigest = sha(referrer);
  let reg: FakeServer;
  beforeAll(async () => {
    reg = await startFake((req, res) => {
      const url = new URL(req.url, 'http://x');
      if (url.pathname === `/v2/app/referrers/${subject}`) {
        const page2 = url.searchParams.get('page') === '2';
        const manifests = page2
          ? [{ mediaType: MEDIA_TYPES.ociManifest, digest: referrerDigest, size: referrer.length, artifactType: MEDIA_TYPES.sigstoreBundleV03 }]
          : [{ mediaType: MEDIA_TYPES.ociManifest, digest: sha('sbom'), size: 4, artifactType: 'application/spdx+json' }];
        return send(res, 200, json({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests }), {
          'content-type': MEDIA_TYPES.ociIndex,
          ...(page2 ? {} : { link: `</v2/app/referrers/${subject}?page=2>; rel="next"` }),
        });
      }
      if (url.pathname === `/v2/app/manifests/${referrerDigest}`) return send(res, 200, referrer, { 'content-type': MEDIA_TYPES.ociManifest });
      if (url.pathname === `/v2/app/blobs/${sha(bundleBytes)}`) return send(res, 200, bundleBytes);
      return sendJson(res, 404, { errors: [{ code: 'MANIFEST_UNKNOWN' }] });
    });
  });
  afterAll(async () => {
    await reg?.close();
  });

  it('lists referrers through the API across pages and fetches the bundle', async () => {
    const ref = parseImageRef(`${reg.host}/app:v1`);
    const client = new OciClient({ retries: 0 });
    try {
      const listed = await listReferrers(client, ref, subject);
      expect(listed.via).toBe('api');
      expect(listed.descriptors.map((d) => d.artifactType)).toEqual(['application/spdx+json', MEDIA_TYPES.sigstoreBundleV03]);
      const evidence = await fetchRegistryEvidence(ref, parseImageDigest(subject), { client });
      expect(evidence).toEqual([
        {
          source: 'referrer-bundle',
          location: `${reg.host}/app@${referrerDigest}`,
          bundle: SAMPLE_BUNDLE,
          bundleBytes,
          artifactType: MEDIA_TYPES.sigstoreBundleV03,
          via: 'api',
          manifestDigest: referrerDigest,
          layerDigest: sha(bundleBytes),
        },
      ]);
    } finally {
      await client.close();
    }
    // The .att tag was asked for (and absent), and no referrers tag was needed.
    expect(reg.requests.some((r) => r.url === `/v2/app/manifests/${subject.replace(':', '-')}.att`)).toBe(true);
    expect(reg.requests.some((r) => r.url === `/v2/app/manifests/${subject.replace(':', '-')}`)).toBe(false);
  });
});

describe('transport security', () => {
  it('uses HTTPS for non-loopback registries', async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    agent.get('https://registry.example.com').intercept({ path: '/v2/app/manifests/v1', method: 'GET' }).reply(200, MANIFEST, {
      headers: { 'content-type': MEDIA_TYPES.ociManifest },
    });
    try {
      expect(await resolveDigest(parseImageRef('registry.example.com/app:v1'), { dispatcher: agent, retries: 0 })).toBe(MANIFEST_DIGEST);
      agent.assertNoPendingInterceptors();
    } finally {
      await agent.close();
    }
  });

  it('refuses plain HTTP for a non-loopback host, before any request', async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    try {
      const err = await rejection(resolveDigest(parseImageRef('registry.example.com/app:v1'), { dispatcher: agent, plainHttp: true, retries: 0 }));
      expect(err.code).toBe('REGISTRY_INSECURE');
      expect(err.message).toContain('registry.example.com');
      expect(exitCodeFor(err)).toBe(3);
    } finally {
      await agent.close();
    }
  });

  it('refuses a token realm on plain HTTP to a non-loopback host', async () => {
    const reg = await startFake((_req, res) =>
      sendJson(res, 401, { errors: [{ code: 'UNAUTHORIZED' }] }, { 'www-authenticate': 'Bearer realm="http://auth.example.com/token",service="x"' }),
    );
    try {
      const dockerConfig = parseDockerConfig(JSON.stringify({ auths: { [reg.host]: { username: 'u', password: 'p' } } }), 'config.json');
      const err = await rejection(resolveDigest(parseImageRef(`${reg.host}/app:v1`), { dockerConfig, retries: 0 }));
      expect(err.code).toBe('REGISTRY_INSECURE');
      expect(err.message).toContain('auth.example.com');
      expect(reg.requests).toHaveLength(1);
    } finally {
      await reg.close();
    }
  });

  const withOpenssl = needs('test/registry/client-fake.test.ts (HTTPS certificate verification)', { tools: ['openssl'] });
  withOpenssl.describe('HTTPS certificate verification (openssl-made certificate)', () => {
    let dir: string;
    let tls: FakeServer;
    let cert: string;
    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'rekor-gate-tls-'));
      const r = spawnSync(OPENSSL_BINARY, [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
        '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
        '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
      ], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`openssl: ${r.stderr}`);
      cert = await readFile(path.join(dir, 'cert.pem'), 'utf8');
      const key = await readFile(path.join(dir, 'key.pem'), 'utf8');
      tls = await startFake((req, res) => {
        if (req.url === '/v2/app/manifests/v1') return send(res, 200, MANIFEST, { 'content-type': MEDIA_TYPES.ociManifest });
        return sendJson(res, 404, {});
      }, { key, cert });
    });
    afterAll(async () => {
      await tls?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('fails on an untrusted certificate, succeeds with it as an extra CA', async () => {
      const ref = parseImageRef(`${tls.host}/app:v1`);
      const err = await rejection(resolveDigest(ref, { plainHttp: false, retries: 0 }));
      expect(err.code).toBe('REGISTRY_UNREACHABLE');
      expect(err.message).toMatch(/certificate/i);
      expect(await resolveDigest(ref, { plainHttp: false, ca: cert, retries: 0 })).toBe(MANIFEST_DIGEST);
    });
  });
});
