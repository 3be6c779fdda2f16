import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../fixtures/paths.ts';

/**
 * Where the real Sigstore stack lives: scripts/real-stack/install.sh `go install`s each tool of
 * scripts/real-stack/tools.txt into `<tools>/<name>@<version>/bin/` (tools = $GATE_TOOLS, default
 * ~/.cache/rekor-gate/tools; not REKOR_GATE_*, which the CLI reads as flags), its module cache beside them
 * (`<tools>/mod`), and Debian's mariadb-server into /usr.
 */
export const TOOLS_DIR = process.env['GATE_TOOLS'] ?? path.join(os.homedir(), '.cache', 'rekor-gate', 'tools');

type Tool = { readonly name: string; readonly pkg: string; readonly version: string; readonly bin: string };

const TOOLS: ReadonlyMap<string, Tool> = new Map(
  readFileSync(path.join(repoRoot, 'scripts', 'real-stack', 'tools.txt'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const [name = '', pkg = '', version = '', bin = ''] = l.split(/\s+/);
      return [name, { name, pkg, version, bin }] as const;
    }),
);

export type ToolName =
  | 'rekor-server' | 'rekor-cli' | 'trillian-log-server' | 'trillian-log-signer'
  | 'cosign2' | 'cosign3' | 'rekor-tiles' | 'fulcio' | 'timestamp-server';

/** The pinned version of a tool, as tools.txt names it. */
export function toolVersion(name: ToolName): string {
  const t = TOOLS.get(name);
  if (!t) throw new Error(`scripts/real-stack/tools.txt names no ${name}`);
  return t.version;
}

/** The installed binary of a tool (it may not exist: see missingTools). */
export function toolPath(name: ToolName): string {
  const t = TOOLS.get(name);
  if (!t) throw new Error(`scripts/real-stack/tools.txt names no ${name}`);
  return path.join(TOOLS_DIR, `${t.name}@${t.version}`, 'bin', t.bin);
}

export const MARIADB = { server: '/usr/sbin/mariadbd', installDb: '/usr/bin/mariadb-install-db', client: '/usr/bin/mariadb' };

/** Trillian's MySQL schema, read from the trillian module the install put in its module cache. */
export function trillianSchemaPath(): string {
  return path.join(TOOLS_DIR, 'mod', 'github.com', 'google', `trillian@${toolVersion('trillian-log-server')}`, 'storage', 'mysql', 'schema', 'storage.sql');
}

/** What of the named tools (and MariaDB, with Trillian's schema, when `mariadb` is asked) is not installed. */
export function missingTools(names: readonly (ToolName | 'mariadb')[]): string[] {
  const missing: string[] = [];
  for (const n of names) {
    if (n === 'mariadb') {
      for (const p of Object.values(MARIADB)) if (!existsSync(p)) missing.push(p);
      if (!existsSync(trillianSchemaPath())) missing.push(trillianSchemaPath());
    } else if (!existsSync(toolPath(n))) missing.push(toolPath(n));
  }
  return missing;
}

/** The loud reason a real-stack test is skipped, naming what is missing and how to install it. */
export function skipReason(missing: readonly string[]): string {
  return `real Sigstore stack not installed (missing: ${missing.join(', ')}): run scripts/real-stack/install.sh (.ci/run does) to run these tests`;
}
