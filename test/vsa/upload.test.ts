import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttp } from '../../src/net/http.ts';
import { createRekorClient } from '../../src/rekor/client.ts';
import { trustFromTrustedRoot } from '../../src/trust/index.ts';
import { signVsa, uploadVsa } from '../../src/vsa/index.ts';
import { startWorld, type World } from '../fixtures/world.ts';

let w: World;
beforeAll(async () => {
  w = await startWorld();
});
afterAll(async () => {
  await w.close();
});

describe('uploadVsa', () => {
  it('logs the envelope, and finds it by its envelope hash when the log says it is already there (409)', async () => {
    const http = createHttp({ timeoutMs: 5000 });
    try {
      const rekor = createRekorClient(w.log.url, http);
      const trust = trustFromTrustedRoot(JSON.parse(readFileSync(w.trustedRootPath, 'utf8')), 'test');
      const keyPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const envelope = signVsa({ _type: 'https://in-toto.io/Statement/v1', subject: [], predicateType: 'x', predicate: {} }, keyPem);
      const first = await uploadVsa(rekor, trust, envelope, keyPem);
      const again = await uploadVsa(rekor, trust, envelope, keyPem);
      expect(again).toEqual(first);
      expect(w.log.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/log/entries')).toHaveLength(2);
    } finally {
      await http.close();
    }
  });
});
