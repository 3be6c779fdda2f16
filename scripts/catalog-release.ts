/**
 * The release assets a catalog-cd user consumes, laid out as `catalog-cd release --version V --output DIR` lays
 * them out (openshift-pipelines/catalog-cd, internal/cmd/release.go; read by internal/catalog/catalog.go):
 *
 *   DIR/<kind>s/<name>/<name>.yaml     each resource, byte for byte (kind lower-cased: tasks, pipelines, stepactions)
 *   DIR/<kind>s/<name>/README.md       its README
 *   DIR/catalog.yaml                   the contract: every resource with name, version V, that filename, checksum
 *                                      (SHA-256 of the file) and signature ("")
 *   DIR/resources.tar.gz               every file above except catalog.yaml and itself, at those relative paths
 *
 * catalog-cd's consumer (`catalog-cd generate`) downloads `resources.tar.gz` from the GitHub release, keeps the
 * members the contract names (and READMEs), checks each one's SHA-256 against `checksum`, and files it under
 * `<kind>s/<name>/<V>/`. Run this after the step image is pinned (scripts/release-pin.ts): the released
 * files are the repository's files as they are at that point.
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { create } from 'tar';
import { stringify } from 'yaml';
import { catalogEntries, inspectCatalog, SECTIONS, sha256File, type CatalogEntry, type Section } from './catalog.ts';
import { readResource, repoRoot } from './tekton-resources.ts';

export const RELEASE_CATALOG = 'catalog.yaml';
export const RELEASE_TARBALL = 'resources.tar.gz';

export interface CatalogRelease {
  catalogFile: string;
  tarball: string;
  /** The entries of the released catalog.yaml, by section. */
  contract: Record<Section, CatalogEntry[]>;
  /** Every member of resources.tar.gz, in archive order. */
  members: string[];
  entries: CatalogEntry[];
}

/** A released resource's path: `<kind lower-cased>s/<name>/<name>.yaml`, as catalog-cd's release names it. */
export function releasedPath(section: Section, name: string): string {
  return path.posix.join(section, name, `${name}.yaml`);
}

/**
 * Writes the catalog-cd release assets of the repository at `root` into `outDir` (created; files of an earlier run
 * are overwritten). `version` is the release's version (catalog-cd's `--version`), given to every resource.
 * Refuses when catalog.yaml is not up to date with the files (`npm run catalog`).
 */
export function writeCatalogRelease(outDir: string, opts: { version: string; root?: string; mtime?: Date }): CatalogRelease {
  const root = opts.root ?? repoRoot;
  if (!/^\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]+)?$/.test(opts.version)) throw new Error(`release version "${opts.version}" is not a semantic version X.Y.Z`);
  const report = inspectCatalog(root);
  const problems = [...report.errors, ...report.stale.map((s) => `stale checksum: ${s}`), ...report.unlisted.map((u) => `not listed: ${u}`)];
  if (problems.length > 0) throw new Error(`catalog.yaml is not up to date (run \`npm run catalog\`): ${problems.join('; ')}`);

  const listed = catalogEntries(root);
  const contract = { tasks: [], pipelines: [], stepactions: [] } as Record<Section, CatalogEntry[]>;
  const members: string[] = [];
  mkdirSync(outDir, { recursive: true });
  for (const section of Object.keys(SECTIONS) as Section[]) {
    for (const e of listed[section]) {
      const name = String((readResource(e.filename, root) as { metadata?: { name?: string } }).metadata?.name);
      const rel = releasedPath(section, name);
      const dest = path.join(outDir, rel);
      mkdirSync(path.dirname(dest), { recursive: true });
      copyFileSync(path.join(root, e.filename), dest);
      members.push(rel);
      const readme = path.join(root, path.dirname(e.filename), 'README.md');
      if (existsSync(readme)) {
        const relReadme = path.posix.join(path.posix.dirname(rel), 'README.md');
        copyFileSync(readme, path.join(outDir, relReadme));
        members.push(relReadme);
      }
      contract[section].push({ name, version: opts.version, filename: rel, checksum: sha256File(dest), signature: '' });
    }
  }
  const description = String(report.doc.getIn(['catalog', 'repository', 'description']) ?? '');
  const catalogFile = path.join(outDir, RELEASE_CATALOG);
  writeFileSync(catalogFile, stringify({ version: 'v1', catalog: { repository: { description }, resources: contract } }, { lineWidth: 0 }));

  // Members in the order catalog-cd's filepath.Walk writes them (lexical), files only, reproducible metadata.
  members.sort();
  const tarball = path.join(outDir, RELEASE_TARBALL);
  create({ gzip: true, file: tarball, cwd: outDir, sync: true, portable: true, noDirRecurse: true, mtime: opts.mtime ?? new Date(0) }, members);
  return { catalogFile, tarball, contract, members, entries: Object.values(contract).flat() };
}
