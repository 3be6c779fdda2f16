import { afterEach, describe, expect, it } from 'vitest';
import { createHttp, type Http, type HttpOptions, type RetryInfo } from '../../src/net/http.ts';
import { parseRetryAfter } from '../../src/net/retry.ts';
import { sendJson, startServer, type TestServer } from './server.ts';
import { rejection } from '../fixtures/errors.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function server(handler: Parameters<typeof startServer>[0]): Promise<TestServer> {
  const s = await startServer(handler);
  cleanups.push(() => s.close());
  return s;
}

/** Fast backoff so that retry tests take milliseconds; each test overrides what it measures. */
function client(opts: Partial<HttpOptions> = {}): Http & { retries: RetryInfo[] } {
  const retries: RetryInfo[] = [];
  const h = createHttp({ timeoutMs: 2000, backoffBaseMs: 5, backoffMaxMs: 20, onRetry: (i) => retries.push(i), ...opts });
  cleanups.push(() => h.close());
  return Object.assign(h, { retries });
}

describe('createHttp: retries', () => {
  it('retries 503s with backoff, then returns the success', async () => {
    const s = await server((_req, res, _hit, n) => {
      if (n <= 2) sendJson(res, 503, { code: 503, message: 'trillian unavailable' });
      else sendJson(res, 200, { ok: true });
    });
    const h = client();
    const res = await h.request(`${s.url}/x`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toEqual({ ok: true });
    expect(s.hits).toHaveLength(3);
    expect(h.retries.map((r) => [r.attempt, r.status])).toEqual([
      [1, 503],
      [2, 503],
    ]);
    expect(h.retries[0]?.reason).toContain('trillian unavailable');
  });

  it('gives up after the retry count with NETWORK naming the URL and the last cause', async () => {
    const s = await server((_req, res) => sendJson(res, 502, { code: 502, message: 'bad gateway upstream' }));
    const h = client({ retries: 2 });
    const err = await rejection(h.request(`${s.url}/api/v1/log`));
    expect(err.code).toBe('NETWORK');
    expect(err.message).toContain(`${s.url}/api/v1/log`);
    expect(err.message).toContain('3 attempts');
    expect(err.message).toContain('HTTP 502');
    expect(err.message).toContain('bad gateway upstream');
    expect(s.hits).toHaveLength(3);
  });

  it('honours Retry-After in seconds on 429', async () => {
    const s = await server((_req, res, _hit, n) => {
      if (n === 1) sendJson(res, 429, { code: 429, message: 'slow down' }, { 'retry-after': '1' });
      else sendJson(res, 200, []);
    });
    const h = client();
    await h.request(s.url);
    expect(s.hits).toHaveLength(2);
    const waited = (s.hits[1]?.at ?? 0) - (s.hits[0]?.at ?? 0);
    expect(waited).toBeGreaterThanOrEqual(1000);
    expect(h.retries[0]?.delayMs).toBeGreaterThanOrEqual(1000);
    expect(h.retries[0]?.status).toBe(429);
  });

  it('caps a long Retry-After at maxRetryAfterMs', async () => {
    const s = await server((_req, res, _hit, n) => {
      if (n === 1) sendJson(res, 429, {}, { 'retry-after': '3600' });
      else sendJson(res, 200, []);
    });
    const h = client({ maxRetryAfterMs: 50 });
    const started = performance.now();
    await h.request(s.url);
    // the delay chosen is the behaviour; the wall time only guards against the hour (a 50 ms wait, bounded at 30 s)
    expect(h.retries[0]?.delayMs).toBeLessThanOrEqual(50);
    expect(performance.now() - started).toBeLessThan(30_000);
  });

  it('does not wait past the total budget for a Retry-After', async () => {
    const s = await server((_req, res) => sendJson(res, 429, {}, { 'retry-after': '10' }));
    const h = client({ totalBudgetMs: 500 });
    const started = performance.now();
    const err = await rejection(h.request(s.url));
    expect(err.code).toBe('NETWORK');
    expect(err.message).toContain('the 500 ms time budget does not allow another attempt');
    expect(s.hits).toHaveLength(1);
    expect(h.retries).toHaveLength(0);
    // it gave up at once (a few ms), never sleeping the 10 s Retry-After: bounded well below that
    expect(performance.now() - started).toBeLessThan(9_000);
  });

  it('retries after a connection reset', async () => {
    const s = await server((req, res, _hit, n) => {
      if (n === 1) req.socket.destroy();
      else sendJson(res, 200, { second: true });
    });
    const h = client();
    const res = await h.request(s.url, { method: 'POST', body: '{}' });
    expect(JSON.parse(res.body.toString())).toEqual({ second: true });
    expect(s.hits).toHaveLength(2);
    expect(h.retries).toHaveLength(1);
  });

  it('fails with NETWORK within the time budget when the server never answers', async () => {
    const s = await server(() => new Promise<void>(() => {}));
    const h = client({ timeoutMs: 200, retries: 10, totalBudgetMs: 700 });
    const err = await rejection(h.request(`${s.url}/hang`));
    expect(err.code).toBe('NETWORK');
    expect(err.message).toContain(`${s.url}/hang`);
    expect(err.message).toContain('timed out after');
    // ended by the 700 ms budget, not by the 11 attempts of 200 ms the retries would allow (no wall-time bound:
    // the message and the attempts say which)
    expect(err.message).toContain('the 700 ms time budget does not allow another attempt');
    expect(s.hits.length).toBeGreaterThanOrEqual(2);
    expect(s.hits.length).toBeLessThanOrEqual(4);
  });

  it('fails with NETWORK when nothing listens', async () => {
    const s = await startServer(() => {});
    await s.close();
    const h = client({ retries: 1 });
    const err = await rejection(h.request(`${s.url}/gone`));
    expect(err.code).toBe('NETWORK');
    expect(err.message).toContain(`${s.url}/gone`);
    expect(err.message).toContain('ECONNREFUSED');
    expect(h.retries).toHaveLength(1);
  });
});

describe('createHttp: statuses', () => {
  it('throws HTTP_STATUS for 404 with the server message, without retrying', async () => {
    const s = await server((_req, res) => sendJson(res, 404, { code: 404, message: 'entry not found in log' }));
    const h = client();
    const err = await rejection(h.request(`${s.url}/api/v1/log/entries/abc`));
    expect(err.code).toBe('HTTP_STATUS');
    expect(err.message).toContain(`${s.url}/api/v1/log/entries/abc`);
    expect(err.message).toContain('404');
    expect(err.message).toContain('entry not found in log');
    expect(s.hits).toHaveLength(1);
    expect(h.retries).toHaveLength(0);
  });

  it('surfaces an OCI-style error list and tolerates a non-JSON error body', async () => {
    const s = await server((req, res) => {
      if (req.url === '/oci') sendJson(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] });
      else {
        res.writeHead(400, { 'content-type': 'text/plain' });
        res.end('nope');
      }
    });
    const h = client();
    expect((await rejection(h.request(`${s.url}/oci`))).message).toContain('authentication required');
    const plain = await rejection(h.request(`${s.url}/plain`));
    expect(plain.code).toBe('HTTP_STATUS');
    expect(plain.message).toContain('HTTP 400');
  });

  it('does not retry 501 (a disabled Rekor API)', async () => {
    const s = await server((_req, res) =>
      sendJson(res, 501, { code: 501, message: 'Search Index API not enabled in this Rekor instance' }),
    );
    const err = await rejection(client().request(s.url));
    expect(err.code).toBe('HTTP_STATUS');
    expect(err.message).toContain('Search Index API not enabled');
    expect(s.hits).toHaveLength(1);
  });

  it('hands back statuses listed in acceptStatus', async () => {
    const s = await server((_req, res) => sendJson(res, 404, { message: 'no such tag' }));
    const res = await client().request(s.url, { acceptStatus: [404] });
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body.toString())).toEqual({ message: 'no such tag' });
  });
});

describe('createHttp: size caps', () => {
  it('rejects a body whose Content-Length exceeds the cap, without retrying', async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-length': String(2 * 1024 * 1024) });
      res.end(Buffer.alloc(2 * 1024 * 1024, 0x61));
    });
    const err = await rejection(client({ maxBytes: 1024 * 1024 }).request(`${s.url}/big`));
    expect(err.code).toBe('RESPONSE_TOO_LARGE');
    expect(err.message).toContain(`${s.url}/big`);
    expect(err.message).toContain('1048576');
    expect(s.hits).toHaveLength(1);
  });

  it('rejects a chunked body once it grows past the per-request cap', async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      for (let i = 0; i < 64; i++) res.write(Buffer.alloc(16 * 1024, 0x62));
      res.end();
    });
    const h = client();
    const err = await rejection(h.request(s.url, { maxBytes: 100_000 }));
    expect(err.code).toBe('RESPONSE_TOO_LARGE');
    expect(s.hits).toHaveLength(1);
    // The same client still serves a body under the cap.
    expect((await h.request(s.url, { maxBytes: 2 * 1024 * 1024 })).body.length).toBe(64 * 16 * 1024);
  });
});

describe('createHttp: json and connections', () => {
  it('sends and parses JSON; a non-JSON answer is RESPONSE_MALFORMED', async () => {
    const s = await server((req, res, hit) => {
      if (req.url === '/echo') sendJson(res, 200, { got: JSON.parse(hit.body), type: req.headers['content-type'], ua: req.headers['user-agent'] });
      else {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html>');
      }
    });
    const h = client({ userAgent: 'rekor-gate/test' });
    const echoed = await h.json<{ got: unknown; type: string; ua: string }>(`${s.url}/echo`, { method: 'POST', body: { hash: 'sha256:00' } });
    expect(echoed).toEqual({ got: { hash: 'sha256:00' }, type: 'application/json', ua: 'rekor-gate/test' });
    const err = await rejection(h.json(`${s.url}/html`));
    expect(err.code).toBe('RESPONSE_MALFORMED');
    expect(err.message).toContain(`${s.url}/html`);
  });

  it('reuses kept-alive connections across requests', async () => {
    const s = await server((_req, res) => sendJson(res, 200, {}));
    const h = client();
    for (let i = 0; i < 6; i++) await h.request(`${s.url}/${i}`);
    expect(s.hits).toHaveLength(6);
    expect(new Set(s.hits.map((x) => x.port)).size).toBeLessThan(6);
  });
});

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP-dates', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wednesday, 01-Jan-25 00:00:07 GMT', now)).toBe(7000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:59:00 GMT', now)).toBe(0);
    expect(parseRetryAfter(['3', '9'], now)).toBe(3000);
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-1', now)).toBeUndefined();
  });
});
