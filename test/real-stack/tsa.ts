import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { lockMetricsPort } from './metrics-lock.ts';
import { answers200, freePort, startServer } from './process.ts';
import { StackDir } from './stack-dir.ts';
import { toolPath } from './tools.ts';

/**
 * The real RFC 3161 timestamp authority (sigstore/timestamp-authority's timestamp-server), as its
 * docker-compose.yml starts it (v2.1.3, 811e94a148b97b90c638f58224d70d59da0c8b55: serve --timestamp-signer=memory),
 * on 127.0.0.1 at a free port, NTP monitoring off (no network). Rekor v2 gives no integrated time: a bundle's
 * signing time comes from a timestamp like these. Its metrics port is 2112, fixed: it holds metrics-lock.ts.
 */
export type Tsa = {
  /** The timestamping endpoint (POST), http://127.0.0.1:<port>/api/v1/timestamp */
  readonly url: string;
  /** Its certificate chain, PEM, and in a file. */
  readonly chainPem: string;
  readonly chainPath: string;
  stop(keepLogs?: boolean): Promise<void>;
};

export async function startTsa(): Promise<Tsa> {
  const unlock = await lockMetricsPort();
  const stack = new StackDir('tsa');
  try {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    stack.add(
      await startServer({
        name: 'timestamp-server',
        bin: toolPath('timestamp-server'),
        args: ['serve', '--host=127.0.0.1', `--port=${port}`, '--timestamp-signer=memory', '--disable-ntp-monitoring'],
        env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: stack.dir, TMPDIR: stack.dir },
        logDir: stack.logDir,
        ready: () => answers200(`${base}/ping`),
      }),
    );
    const res = await fetch(`${base}/api/v1/timestamp/certchain`);
    const chainPem = await res.text();
    if (res.status !== 200 || !chainPem.includes('BEGIN CERTIFICATE')) throw new Error(`timestamp-server's chain: ${res.status} ${chainPem.slice(0, 200)}`);
    const chainPath = path.join(stack.dir, 'tsa-chain.pem');
    writeFileSync(chainPath, chainPem);
    return {
      url: `${base}/api/v1/timestamp`,
      chainPem,
      chainPath,
      stop: async (keep = false) => {
        await stack.close(keep);
        unlock();
      },
    };
  } catch (e) {
    await stack.close(true);
    unlock();
    throw e;
  }
}
