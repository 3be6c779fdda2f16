import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, startServer } from './process.ts';
import { StackDir } from './stack-dir.ts';
import { serveStaticFiles } from './static-files.ts';
import { toolPath } from './tools.ts';

/**
 * The real Rekor v2 on loopback: rekor-tiles' POSIX server (cmd/rekor-server/posix), started as its
 * posix-compose.yml does (github.com/sigstore/rekor-tiles, posix-compose.yml at v2.3.0,
 * fa390b1c17f9685f7a164da2c06e82dc295cfdca: serve --storage-dir --signer-filepath (an Ed25519 key)
 * --hostname --checkpoint-interval), on 127.0.0.1 with free HTTP, gRPC and metrics ports, and without the
 * witness (no --witness-policy-path). It writes tiles but serves no reads: the compose file's nginx is our
 * static file server over the storage directory (readUrl).
 */
export type RekorV2 = {
  /** The write API (POST /api/v2/log/entries), http://127.0.0.1:<port> */
  readonly url: string;
  /** The tiles and checkpoint, served from the storage directory. */
  readonly readUrl: string;
  /** The checkpoint origin (--hostname). */
  readonly origin: string;
  /** The log's Ed25519 public key, PEM, and in a file. */
  readonly publicKeyPem: string;
  readonly publicKeyPath: string;
  readonly dir: string;
  stop(keepLogs?: boolean): Promise<void>;
};

export async function startRekorV2(): Promise<RekorV2> {
  const stack = new StackDir('rekor-v2');
  try {
    const storage = path.join(stack.dir, 'posixlog');
    const tmp = path.join(stack.dir, 'tmp');
    mkdirSync(storage);
    mkdirSync(tmp);
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const keyPath = path.join(stack.dir, 'ed25519-priv-key.pem');
    writeFileSync(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const publicKeyPath = path.join(stack.dir, 'rekor-v2.pub');
    writeFileSync(publicKeyPath, publicKeyPem);
    const [http, grpc, metrics] = await Promise.all([freePort(), freePort(), freePort()]);
    // the checkpoint origin: the URL's host name without its port, as a deployment's (log2025-1.rekor.sigstore.dev):
    // sigstore-go checks a Rekor v2 checkpoint's signature under url.Hostname() of the trusted root's baseUrl
    // (sigstore-go v1.2.2, pkg/verify/tlog.go, VerifyTlogEntry: note.NewNoteVerifier(u.Hostname(), …))
    const origin = '127.0.0.1';
    const url = `http://127.0.0.1:${http}`;
    stack.add(
      await startServer({
        name: 'rekor-tiles',
        bin: toolPath('rekor-tiles'),
        args: [
          'serve',
          '--http-address=127.0.0.1', `--http-port=${http}`,
          '--grpc-address=127.0.0.1', `--grpc-port=${grpc}`,
          `--http-metrics-port=${metrics}`,
          `--hostname=${origin}`,
          `--storage-dir=${storage}`,
          `--signer-filepath=${keyPath}`,
          '--checkpoint-interval=1s',
        ],
        env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: stack.dir, TMPDIR: tmp },
        logDir: stack.logDir,
        ready: async () => {
          const r = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
          return (await r.text()).includes('SERVING');
        },
      }),
    );
    const files = stack.add(await serveStaticFiles(storage));
    return { url, readUrl: files.url, origin, publicKeyPem, publicKeyPath, dir: stack.dir, stop: (keep = false) => stack.close(keep) };
  } catch (e) {
    await stack.close(true);
    throw e;
  }
}
