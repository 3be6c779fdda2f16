/** A throwaway node:http server on 127.0.0.1:0 for the net and Rekor client tests. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the server saw it; `port` is the client's (so reused connections share it). */
export type Hit = { method: string; url: string; body: string; at: number; port: number };

export type TestServer = {
  readonly url: string;
  readonly hits: Hit[];
  close(): Promise<void>;
};

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, hit: Hit, n: number) => void | Promise<void>;

export async function startServer(handler: Handler): Promise<TestServer> {
  const hits: Hit[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const hit: Hit = {
      method: req.method ?? '', url: req.url ?? '', body: Buffer.concat(chunks).toString('utf8'),
      at: performance.now(),
      port: req.socket.remotePort ?? 0,
    };
    hits.push(hit);
    try {
      await handler(req, res, hit, hits.length);
    } catch (err) {
      res.statusCode = 599;
      res.end(String(err));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(res: http.ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(value));
}
