import { createHash, generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseImageDigest } from '../../src/digest.ts';
import { parseTrustedKeys } from '../../src/trust/public-keys.ts';
import { MEDIA_TYPES, OciClient } from '../../src/registry/client.ts';
import { parseImageRef } from '../../src/registry/reference.ts';
import { acceptVsaEnvelope, findAcceptedVsa } from '../../src/vsa/accept.ts';
import { signVsa } from '../../src/vsa/index.ts';
import { pushVsaReferrer } from '../../src/vsa/referrer.ts';
import { send, sendJson, startFake, type FakeServer } from '../registry/fake-server.ts';

/** A registry with the referrers API (docker-registry 2.8 has none): the summary is indexed by the registry, no tag written. */
const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const IMAGE = sha(Buffer.from('image'));
const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const privatePem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const trusted = parseTrustedKeys(keys.publicKey.export({ type: 'spki', format: 'pem' }).toString(), 'vsa.pub');

function envelope(o: { timeVerified?: string } = {}): Buffer {
  const hex = IMAGE.slice(7);
  const st = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'r.test/app', digest: { sha256: hex } }],
    predicateType: 'https://slsa.dev/verification_summary/v1',
    predicate: { verifier: { id: 'https://v.test' }, timeVerified: o.timeVerified ?? new Date().toISOString(), resourceUri: `pkg:oci/app@sha256%3A${hex}`, policy: { uri: 'https://p.test' }, verificationResult: 'PASSED', verifiedLevels: [] },
  };
  return Buffer.from(JSON.stringify(signVsa(st, privatePem)));
}

let reg: FakeServer;
const store = new Map<string, Buffer>();
const subjects = new Map<string, unknown[]>();
beforeAll(async () => {
  reg = await startFake((req, res) => {
    const u = new URL(req.url, 'http://x');
    if (req.method === 'HEAD' && u.pathname.includes('/blobs/')) return send(res, 404);
    if (req.method === 'POST') return send(res, 202, '', { location: '/v2/app/blobs/uploads/1' });
    if (req.method === 'PUT' && u.pathname.includes('/blobs/uploads/')) {
      store.set(u.searchParams.get('digest') as string, req.body);
      return send(res, 201);
    }
    if (req.method === 'PUT' && u.pathname.includes('/manifests/')) {
      const m = JSON.parse(req.body.toString());
      const d = sha(req.body);
      store.set(d, req.body);
      if (m.subject) subjects.set(m.subject.digest, [...(subjects.get(m.subject.digest) ?? []), { mediaType: m.mediaType, digest: d, size: req.body.length, artifactType: m.artifactType, annotations: m.annotations }]);
      return send(res, 201, '', { 'docker-content-digest': d });
    }
    if (req.method === 'GET' && u.pathname.includes('/referrers/')) {
      return sendJson(res, 200, { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: subjects.get(u.pathname.split('/').pop() as string) ?? [] }, { 'content-type': MEDIA_TYPES.ociIndex });
    }
    if (req.method === 'GET') {
      const body = store.get(u.pathname.split('/').pop() as string);
      if (!body) return send(res, 404);
      return send(res, 200, body, u.pathname.includes('/manifests/') ? { 'content-type': MEDIA_TYPES.ociManifest, 'docker-content-digest': sha(body) } : {});
    }
    return send(res, 405);
  });
});
afterAll(async () => {
  await reg?.close();
});

describe('summaries as referrers, with the referrers API', () => {
  it('pushed with its subject (no referrers tag written), then found and accepted', async () => {
    const client = new OciClient({ retries: 0 });
    const repo = parseImageRef(`${reg.host}/app:latest`);
    const pushed = await pushVsaReferrer(client, repo, { mediaType: MEDIA_TYPES.ociManifest, digest: IMAGE, size: 5 }, envelope(), new Date());
    expect(pushed.via).toBe('api');
    expect(reg.requests.some((r) => r.method === 'PUT' && r.url.includes(`manifests/${IMAGE.replace(':', '-')}`))).toBe(false);
    const found = await findAcceptedVsa(client, repo, parseImageDigest(IMAGE), { keys: trusted, policyUri: 'https://p.test', now: Math.floor(Date.now() / 1000) });
    expect(found.accepted?.location).toContain(pushed.digest);
    await client.close();
  });

  it('a summary verified in the future, a payload that is not in-toto, a tampered payload: refused', () => {
    const d = parseImageDigest(IMAGE);
    const o = { keys: trusted, policyUri: 'https://p.test', now: Math.floor(Date.now() / 1000) };
    expect(() => acceptVsaEnvelope(envelope({ timeVerified: new Date(Date.now() + 3600_000).toISOString() }), d, o, 's')).toThrow(/in the future/);
    const env = JSON.parse(envelope().toString());
    expect(() => acceptVsaEnvelope(Buffer.from(JSON.stringify({ ...env, payloadType: 'text/plain' })), d, o, 's')).toThrow(/payload type/);
    const tampered = { ...env, payload: Buffer.from(Buffer.from(env.payload, 'base64').toString().replace('PASSED', 'PASSED ')).toString('base64') };
    expect(() => acceptVsaEnvelope(Buffer.from(JSON.stringify(tampered)), d, o, 's')).toThrow(/no signature verifies/);
  });
});
