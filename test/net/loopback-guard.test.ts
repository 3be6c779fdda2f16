/**
 * The loopback guard of the test set-up (test/setup/hermetic.ts) fires: a connection or a name lookup beyond
 * loopback, through node:net, node:tls, node:dns, Node's fetch or the project's undici client, is refused before
 * it leaves and recorded, and the record fails the test. Each test here takes the record itself (so that the
 * setup's afterEach finds it empty), after showing that the check the setup runs would throw on it.
 */
import dns from 'node:dns';
import { once } from 'node:events';
import { createServer } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { createHttp } from '../../src/net/http.ts';
import { assertStayedOnLoopback, isLoopbackAddress, takeAttempts } from '../fixtures/loopback-guard.ts';

/** Whatever `fn` does, the guard recorded an attempt naming `target`, and the setup's check throws on it. */
async function expectRefused(target: string, fn: () => Promise<unknown>): Promise<unknown> {
  const err = await fn().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(() => assertStayedOnLoopback()).toThrow(new RegExp(`tried to leave loopback.*${target.replace(/[.]/g, '\\.')}`));
  expect(takeAttempts()).toEqual([]);
  return err;
}

const socketError = (s: net.Socket): Promise<Error> => once(s, 'error').then(([e]) => e as Error);

describe('the loopback guard', () => {
  it('knows loopback', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1', '[::1]']) expect(isLoopbackAddress(a), a).toBe(true);
    for (const a of ['10.0.0.1', '192.0.2.1', '::2', '::ffff:10.0.0.1', 'example.com', '128.0.0.1']) expect(isLoopbackAddress(a), a).toBe(false);
  });

  it('refuses net.connect to a documentation address (TEST-NET-1)', async () => {
    const err = await expectRefused('192.0.2.1:80', () => socketError(net.connect(80, '192.0.2.1')).then((e) => Promise.reject(e)));
    expect(err).toMatchObject({ code: 'EHOSTUNREACH' });
  });

  it('refuses tls.connect to a name, without looking it up', async () => {
    const err = await expectRefused('tuf-repo-cdn.sigstore.dev:443', () =>
      socketError(tls.connect({ host: 'tuf-repo-cdn.sigstore.dev', port: 443, servername: 'tuf-repo-cdn.sigstore.dev' })).then((e) => Promise.reject(e)),
    );
    expect(err).toMatchObject({ code: 'EHOSTUNREACH' });
  });

  it('refuses a name lookup (callback and promise forms)', async () => {
    await expectRefused('example.com', () => new Promise((resolve, reject) => dns.lookup('example.com', (e) => (e ? reject(e) : resolve(undefined)))));
    await expectRefused('example.org', () => dns.promises.lookup('example.org'));
  });

  it("refuses Node's fetch and the project's undici client", async () => {
    await expectRefused('192.0.2.1', () => fetch('http://192.0.2.1:8080/'));
    const http = createHttp({ timeoutMs: 2_000, retries: 0 });
    try {
      await expectRefused('rekor.sigstore.dev', () => http.json('https://rekor.sigstore.dev/api/v1/log'));
    } finally {
      await http.close();
    }
  });

  it('lets loopback through, recording nothing', async () => {
    const server = createServer((_req, res) => res.end('ok'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('ok');
      expect(await (await fetch(`http://localhost:${port}/`)).text()).toBe('ok');
      expect(takeAttempts()).toEqual([]);
    } finally {
      server.close();
    }
  });
});
