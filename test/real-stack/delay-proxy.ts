import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type DelayProxy = { readonly url: string; readonly host: string; delayMs: number; requests: number; stop(): Promise<void> };

/**
 * A loopback HTTP proxy that holds every request `delayMs` before passing it on to `target` unchanged (method,
 * path, headers with Host, body: a registry builds its Location URLs for the proxy) and streams the answer back: the same injected latency in front of a real server for
 * every client a benchmark compares.
 */
export async function startDelayProxy(target: string, delayMs: number): Promise<DelayProxy> {
  const to = new URL(target);
  const state = { delayMs, requests: 0 };
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    state.requests += 1;
    setTimeout(() => {
      const up = http.request(
        { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers, agent },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      up.on('error', (e) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`delay proxy: ${e.message}\n`);
      });
      req.pipe(up);
    }, state.delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(v: number) {
      state.delayMs = v;
    },
    get requests() {
      return state.requests;
    },
    stop: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}
