import { execFile } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GateError } from '../../src/errors.ts';
import { createHttp } from '../../src/net/http.ts';
import { repoRoot } from '../fixtures/paths.ts';
import { makeTestPki, type TestPki } from './tls-certs.ts';

type TlsServer = { url: string; hits: () => number; close: () => Promise<void> };

async function startTlsServer(pki: TestPki): Promise<TlsServer> {
  let hits = 0;
  const server = https.createServer({ cert: pki.certPem, key: pki.keyPem }, (_req, res) => {
    hits++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"tls":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: () => hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let pkiA: TestPki;
let pkiB: TestPki;
let serverA: TlsServer;
let serverB: TlsServer;
let tmp: string;

beforeAll(async () => {
  [pkiA, pkiB] = await Promise.all([makeTestPki('test CA A'), makeTestPki('test CA B')]);
  [serverA, serverB] = await Promise.all([startTlsServer(pkiA), startTlsServer(pkiB)]);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rekor-gate-tls-'));
});
afterAll(async () => {
  await Promise.all([serverA?.close(), serverB?.close()]);
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('createHttp: TLS', () => {
  it('refuses a server certificate from an unknown CA, without retrying', async () => {
    const retries: unknown[] = [];
    const h = createHttp({ timeoutMs: 2000, onRetry: (i) => retries.push(i) });
    try {
      const err = await h.request(serverA.url).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(GateError);
      expect((err as GateError).code).toBe('NETWORK');
      expect((err as GateError).message).toContain(serverA.url);
      expect((err as GateError).message).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|certificate/i);
      expect(retries).toHaveLength(0);
      expect(serverA.hits()).toBe(0);
    } finally {
      await h.close();
    }
  });

  it('trusts a private CA given as caCertPem', async () => {
    const h = createHttp({ timeoutMs: 2000, caCertPem: pkiA.caPem });
    try {
      expect(await h.json(serverA.url)).toEqual({ tls: true });
      // and only that CA besides the default store
      await expect(h.request(serverB.url)).rejects.toMatchObject({ code: 'NETWORK' });
    } finally {
      await h.close();
    }
  });

  it('rejects a caCertPem that holds no certificate', () => {
    expect(() => createHttp({ timeoutMs: 1000, caCertPem: 'not a pem' })).toThrow(expect.objectContaining({ code: 'USAGE' }));
    expect(() =>
      createHttp({ timeoutMs: 1000, caCertPem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' }),
    ).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });

  it('keeps NODE_EXTRA_CA_CERTS trusted, with and without caCertPem', async () => {
    const caFile = path.join(tmp, 'extra-ca.pem');
    fs.writeFileSync(caFile, pkiA.caPem);
    const script = `
      import { createHttp } from ${JSON.stringify(path.join(repoRoot, 'src/net/http.ts'))};
      const [a, b, caB] = process.argv.slice(-3);
      const plain = createHttp({ timeoutMs: 2000, retries: 0 });
      const withB = createHttp({ timeoutMs: 2000, retries: 0, caCertPem: caB });
      const out = {
        plainA: await plain.json(a),
        withBA: await withB.json(a),
        withBB: await withB.json(b),
      };
      await plain.close();
      await withB.close();
      console.log(JSON.stringify(out));
    `;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', script, serverA.url, serverB.url, pkiB.caPem],
      { env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile }, cwd: repoRoot },
    );
    expect(JSON.parse(stdout)).toEqual({ plainA: { tls: true }, withBA: { tls: true }, withBB: { tls: true } });
  });
});
