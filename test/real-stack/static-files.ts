import { createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export type StaticFiles = { readonly url: string; stop(): Promise<void> };

/**
 * A read-only file server over a directory on 127.0.0.1 at a free port: GET and HEAD of a regular file below
 * `root` (no `..`, no directory listing), 404 otherwise. rekor-tiles' POSIX server writes the log's checkpoint
 * and tiles into its storage directory and serves no reads; its posix-compose.yml puts nginx over that
 * directory, this stands in for it.
 */
export async function serveStaticFiles(root: string): Promise<StaticFiles> {
  const base = path.resolve(root);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const file = path.resolve(base, '.' + decodeURIComponent(url.pathname));
    const inside = file.startsWith(base + path.sep);
    let size = -1;
    try {
      if (inside && (req.method === 'GET' || req.method === 'HEAD')) {
        const st = statSync(file);
        if (st.isFile()) size = st.size;
      }
    } catch {
      size = -1;
    }
    if (size < 0) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': path.basename(file) === 'checkpoint' ? 'text/plain; charset=utf-8' : 'application/octet-stream', 'content-length': size });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, stop: () => new Promise<void>((r) => server.close(() => r())) };
}
