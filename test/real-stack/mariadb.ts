import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { MARIADB, trillianSchemaPath } from './tools.ts';
import { freePort, listening, startServer, type Served } from './process.ts';

export type MariaDb = Served & { readonly port: number; readonly socket: string; readonly dsn: (db: string) => string };

/**
 * A private MariaDB (Debian's mariadb-server) for one test stack: its own datadir under `dir`, a Unix socket
 * there and TCP on 127.0.0.1 at a free port. The grant tables are skipped (loopback only, thrown away after):
 * any user connects, so the DSNs carry none of the compose file's passwords.
 */
export async function startMariaDb(dir: string, logDir: string): Promise<MariaDb> {
  const datadir = path.join(dir, 'mysql');
  mkdirSync(datadir, { recursive: true });
  const init = spawnSync(MARIADB.installDb, ['--no-defaults', `--datadir=${datadir}`, '--user=root', '--skip-test-db', '--auth-root-authentication-method=normal'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (init.status !== 0) throw new Error(`mariadb-install-db failed (${init.status}): ${init.stderr}${init.stdout}`);
  const port = await freePort();
  const socket = path.join(dir, 'mysql.sock');
  const served = await startServer({
    name: 'mariadb',
    bin: MARIADB.server,
    args: [
      '--no-defaults', `--datadir=${datadir}`, `--socket=${socket}`, `--port=${port}`, '--bind-address=127.0.0.1',
      '--user=root', '--skip-grant-tables', `--pid-file=${path.join(dir, 'mysql.pid')}`, '--innodb-buffer-pool-size=32M',
      '--skip-log-bin', `--tmpdir=${dir}`,
    ],
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
    logDir,
    ready: () => listening(port),
    timeoutMs: 60_000,
  });
  return { ...served, port, socket, dsn: (db) => `root@tcp(127.0.0.1:${port})/${db}?parseTime=true&interpolateParams=true` };
}

/** Runs SQL through the mariadb client on the server's socket. */
export function sql(db: MariaDb, statements: string, database?: string): void {
  const args = ['--no-defaults', `--socket=${db.socket}`, '-uroot', ...(database ? [database] : [])];
  const r = spawnSync(MARIADB.client, args, { input: statements, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`mariadb client failed (${r.status}): ${r.stderr}`);
}

/** Creates database `name` holding Trillian's schema (storage/mysql/schema/storage.sql of its module). */
export function createTrillianDatabase(db: MariaDb, name: string): void {
  sql(db, `CREATE DATABASE ${name};`);
  sql(db, readFileSync(trillianSchemaPath(), 'utf8'), name);
}
