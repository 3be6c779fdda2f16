import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttp } from '../../src/net/http.ts';
import { createRekorClient, type RekorClient } from '../../src/rekor/client.ts';
import { GateError } from '../../src/errors.ts';
import { trustFromTrustedRoot } from '../../src/trust/index.ts';
import { signVsa, uploadVsa } from '../../src/vsa/index.ts';
import { logIntotoV001, provenance, randomDigest, startWorld, type World } from '../fixtures/world.ts';

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

  describe('what the log answers must record this envelope', () => {
    const keyPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const envelope = signVsa({ _type: 'https://in-toto.io/Statement/v1', subject: [], predicateType: 'x', predicate: {} }, keyPem);
    /** The test log's client, with its upload answering as `upload` does. */
    async function withUpload<T>(upload: RekorClient['createDsseEntry'], fn: (rekor: RekorClient) => Promise<T>): Promise<T> {
      const http = createHttp({ timeoutMs: 5000, retries: 0 });
      try {
        return await fn({ ...createRekorClient(w.log.url, http), createDsseEntry: upload });
      } finally {
        await http.close();
      }
    }
    const trust = () => trustFromTrustedRoot(JSON.parse(readFileSync(w.trustedRootPath, 'utf8')), 'test');

    it('an upload answered with another entry: TLOG_INCONSISTENT', async () => {
      const other = logIntotoV001(w, provenance(randomDigest().value));
      const err = await withUpload(
        async () => ({ uuid: other.uuid, requestedUuid: other.uuid, entry: w.log.logEntry(other.uuid)![other.uuid]! }),
        (rekor) => uploadVsa(rekor, trust(), envelope, keyPem).then(() => undefined, (e: unknown) => e),
      );
      expect(err).toMatchObject({ code: 'TLOG_INCONSISTENT', message: expect.stringContaining(`answered the VSA upload with entry ${other.uuid}`) });
    });

    it('a 409 (already logged) when no entry under the envelope hash records it: TLOG_INCONSISTENT', async () => {
      const err = await withUpload(
        async () => {
          throw new GateError('HTTP_STATUS', 'POST: 409 Conflict', { status: 409 });
        },
        (rekor) => uploadVsa(rekor, trust(), envelope, keyPem).then(() => undefined, (e: unknown) => e),
      );
      expect(err).toMatchObject({ code: 'TLOG_INCONSISTENT', message: expect.stringContaining('already logged (409)') });
    });

    it('a signing key with no public key to derive: BAD_KEY, before anything is sent', async () => {
      const err = await withUpload(
        async () => {
          throw new Error('nothing may be sent');
        },
        (rekor) => uploadVsa(rekor, trust(), envelope, 'not a key').then(() => undefined, (e: unknown) => e),
      );
      expect(err).toMatchObject({ code: 'BAD_KEY', message: expect.stringContaining('no public key can be derived') });
    });
  });
});
