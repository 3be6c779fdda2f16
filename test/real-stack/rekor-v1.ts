import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { lockMetricsPort } from './metrics-lock.ts';
import { createTrillianDatabase, sql, startMariaDb } from './mariadb.ts';
import { answers200, freePort, startServer } from './process.ts';
import { StackDir } from './stack-dir.ts';
import { toolPath } from './tools.ts';

/**
 * The real Rekor v1 on loopback: MariaDB, Trillian's log server and signer, and rekor-server v1.5.x, started as
 * Rekor's own docker-compose.yml starts them (github.com/sigstore/rekor, docker-compose.yml at v1.5.4,
 * a36bd716fd0d81c314092718f37b53dc26b2af38): the same Trillian flags (--quota_system=noop, --storage_system=mysql,
 * the compose DSN options parseTime and interpolateParams, --force_master for the signer), and rekor-server's
 * --rekor_server.signer=memory, --enable_attestation_storage with a file:// bucket (TMPDIR on the same
 * filesystem, the compose file's workaround for google/go-cloud#3294), --search_index.storage_provider=mysql
 * (no Redis). Differences: every address is 127.0.0.1 at a free port; no --enable_pprof (its port 6060 is fixed);
 * no tree is pinned (rekor-server creates one when --trillian_log_server.tlog_id is 0); --rekor_server.hostname
 * is the URL's host, as in a deployment.
 * rekor-server's metrics listen on :2112, fixed (cmd/rekor-server/app/serve.go; a failure to bind it is ignored
 * there): one stack runs at a time on a machine (metrics-lock.ts).
 */
export type RekorV1 = {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** The log's public key (the memory signer's, new at each start), PEM. */
  readonly publicKeyPem: string;
  /** The same key in a file (for --rekor-public-key, SIGSTORE_REKOR_PUBLIC_KEY). */
  readonly publicKeyPath: string;
  /** The stack's temporary directory (logs: *.log). */
  readonly dir: string;
  /** Stops every process; keeps the directory (its logs) when `keepLogs`. */
  stop(keepLogs?: boolean): Promise<void>;
};

export async function startRekorV1(): Promise<RekorV1> {
  const unlock = await lockMetricsPort();
  const stack = new StackDir('rekor-v1');
  try {
    const tmp = path.join(stack.dir, 'tmp');
    const attestations = path.join(stack.dir, 'attestations');
    mkdirSync(tmp);
    mkdirSync(attestations);
    const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: stack.dir, TMPDIR: tmp };
    const db = stack.add(await startMariaDb(stack.dir, stack.logDir));
    createTrillianDatabase(db, 'trillian');
    const trillianFlags = ['--quota_system=noop', '--storage_system=mysql', `--mysql_uri=${db.dsn('trillian')}`, '--alsologtostderr'];
    const [rpc, http, signerRpc, signerHttp, port] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    stack.add(
      await startServer({
        name: 'trillian-log-server',
        bin: toolPath('trillian-log-server'),
        args: [...trillianFlags, `--rpc_endpoint=127.0.0.1:${rpc}`, `--http_endpoint=127.0.0.1:${http}`],
        env,
        logDir: stack.logDir,
        ready: () => answers200(`http://127.0.0.1:${http}/healthz`),
      }),
    );
    stack.add(
      await startServer({
        name: 'trillian-log-signer',
        bin: toolPath('trillian-log-signer'),
        args: [...trillianFlags, `--rpc_endpoint=127.0.0.1:${signerRpc}`, `--http_endpoint=127.0.0.1:${signerHttp}`, '--force_master'],
        env,
        logDir: stack.logDir,
        ready: () => answers200(`http://127.0.0.1:${signerHttp}/healthz`),
      }),
    );
    const rekorDb = 'rekor';
    sql(db, `CREATE DATABASE ${rekorDb};`);
    const url = `http://127.0.0.1:${port}`;
    stack.add(
      await startServer({
        name: 'rekor-server',
        bin: toolPath('rekor-server'),
        args: [
          'serve',
          '--trillian_log_server.address=127.0.0.1',
          `--trillian_log_server.port=${rpc}`,
          '--rekor_server.address=127.0.0.1',
          `--port=${port}`,
          // the checkpoint's signer name; deployments set their URL's host (rekor.sigstore.dev), and a name not in
          // the trusted root's baseUrl fails @sigstore/verify's checkpoint check (and rekor-gate's, which uses it)
          '--rekor_server.hostname=127.0.0.1',
          '--rekor_server.signer=memory',
          '--enable_attestation_storage',
          `--attestation_storage_bucket=file://${attestations}`,
          '--search_index.storage_provider=mysql',
          `--search_index.mysql.dsn=${db.dsn(rekorDb)}`,
        ],
        env,
        logDir: stack.logDir,
        ready: () => answers200(`${url}/ping`),
        timeoutMs: 90_000,
      }),
    );
    const res = await fetch(`${url}/api/v1/log/publicKey`);
    const publicKeyPem = await res.text();
    if (res.status !== 200 || !publicKeyPem.includes('PUBLIC KEY')) throw new Error(`rekor-server's public key: ${res.status} ${publicKeyPem.slice(0, 200)}`);
    const publicKeyPath = path.join(stack.dir, 'rekor.pub');
    writeFileSync(publicKeyPath, publicKeyPem);
    return {
      url,
      publicKeyPem,
      publicKeyPath,
      dir: stack.dir,
      stop: async (keepLogs = false) => {
        await stack.close(keepLogs);
        unlock();
      },
    };
  } catch (e) {
    await stack.close(true);
    unlock();
    throw e;
  }
}
