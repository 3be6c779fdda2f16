import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type RewriteProxy = { readonly url: string; stop(): Promise<void> };

/**
 * A loopback HTTP proxy in front of a real server that passes requests on unchanged and lets `rewrite` alter
 * each JSON answer (the log lying, or a machine in the middle): a tampered twin of what the real server keeps.
 */
export async function startRewriteProxy(target: string, rewrite: (path: string, body: unknown) => unknown): Promise<RewriteProxy> {
  const to = new URL(target);
  const server = http.createServer((req, res) => {
    const up = http.request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (c: Buffer) => chunks.push(c));
      answer.on('end', () => {
        let bytes = Buffer.concat(chunks);
        if ((answer.headers['content-type'] ?? '').startsWith('application/json') && bytes.length > 0) {
          bytes = Buffer.from(JSON.stringify(rewrite(req.url ?? '/', JSON.parse(bytes.toString('utf8')))));
        }
        const headers = { ...answer.headers, 'content-length': String(bytes.length) };
        delete headers['transfer-encoding'];
        res.writeHead(answer.statusCode ?? 502, headers).end(bytes);
      });
    });
    up.on('error', (e) => res.writeHead(502).end(`rewrite proxy: ${e.message}\n`));
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
