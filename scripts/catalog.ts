/**
 * Keeps catalog.yaml (catalog-cd's contract, version v1) true to the files it lists, and writes the release
 * assets a catalog-cd user consumes.
 *
 *   node scripts/catalog.ts                     rewrites every checksum, adds resources not yet listed
 *   node scripts/catalog.ts --check             changes nothing; exits 1 when anything is stale or wrong
 *   node scripts/catalog.ts --release-dir DIR [--release-version X.Y.Z]
 *                                               writes DIR/catalog.yaml and DIR/resources.tar.gz (see
 *                                               scripts/catalog-release.ts); the version defaults to package.json's
 *
 * The contract (openshift-pipelines/catalog-cd, internal/contract): `catalog.resources.{tasks,pipelines,stepactions}[]`,
 * each entry exactly `name`, `version`, `filename`, `checksum` (the file's SHA-256, hex) and `signature` (empty:
 * a consumer looks for `<filename>.sig`). Checked besides the sums: each listed file exists and holds a resource of
 * that kind and name whose app.kubernetes.io/version label is the entry's version, every Task, Pipeline and
 * StepAction of the repository is listed, and no entry carries a field the contract does not have. Comments and
 * layout of catalog.yaml are kept.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMap, isSeq, parseDocument, type Document, type YAMLMap } from 'yaml';
import { findResources, readResource, repoRoot, type ResourceKind } from './tekton-resources.ts';

export const CATALOG_FILE = 'catalog.yaml';
/** catalog.resources keys of the contract, and the kind each lists. */
export const SECTIONS: Readonly<Record<'tasks' | 'pipelines' | 'stepactions', ResourceKind>> = { tasks: 'Task', pipelines: 'Pipeline', stepactions: 'StepAction' };
export type Section = keyof typeof SECTIONS;
/** The fields of a contract entry (catalog-cd's TektonResource), in its order. */
export const ENTRY_FIELDS = ['name', 'version', 'filename', 'checksum', 'signature'] as const;

export interface CatalogEntry {
  name: string;
  version: string;
  filename: string;
  checksum: string;
  signature: string;
}

export function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

export interface CatalogReport {
  /** Entries whose checksum is not the file's. */
  stale: string[];
  /** Resources on disk that catalog.yaml does not list. */
  unlisted: string[];
  /** Anything else that is wrong (not fixable by rewriting sums). */
  errors: string[];
  doc: Document;
}

function entries(doc: Document, section: string): YAMLMap[] {
  const seq = doc.getIn(['catalog', 'resources', section]);
  if (seq === undefined || seq === null) return [];
  if (!isSeq(seq)) throw new Error(`catalog.resources.${section} is not a list`);
  return seq.items.filter((i): i is YAMLMap => isMap(i));
}

/** The contract entries of catalog.yaml under root, by section. */
export function catalogEntries(root: string = repoRoot): Record<Section, CatalogEntry[]> {
  const doc = parseDocument(readFileSync(path.join(root, CATALOG_FILE), 'utf8'));
  const out = {} as Record<Section, CatalogEntry[]>;
  for (const section of Object.keys(SECTIONS) as Section[]) {
    out[section] = entries(doc, section).map((e) => {
      const o = e.toJSON() as Record<string, unknown>;
      return { name: String(o.name), version: String(o.version), filename: String(o.filename), checksum: String(o.checksum), signature: String(o.signature ?? '') };
    });
  }
  return out;
}

/** Reads catalog.yaml under root and compares it with the files. */
export function inspectCatalog(root: string = repoRoot): CatalogReport {
  const doc = parseDocument(readFileSync(path.join(root, CATALOG_FILE), 'utf8'));
  if (doc.errors.length > 0) throw new Error(`${CATALOG_FILE}: ${doc.errors.map((e) => e.message).join('; ')}`);
  const report: CatalogReport = { stale: [], unlisted: [], errors: [], doc };
  if (doc.get('version') !== 'v1') report.errors.push('version must be v1');
  if (typeof doc.getIn(['catalog', 'repository', 'description']) !== 'string') report.errors.push('catalog.repository.description is missing');
  const resources = doc.getIn(['catalog', 'resources']);
  if (isMap(resources)) {
    for (const k of resources.items.map((i) => String((i.key as { value?: unknown })?.value ?? i.key))) {
      if (!(k in SECTIONS)) report.errors.push(`catalog.resources.${k} is not a section of the contract (${Object.keys(SECTIONS).join(', ')})`);
    }
  }

  const listed = new Set<string>();
  for (const [section, kind] of Object.entries(SECTIONS)) {
    for (const e of entries(doc, section)) {
      const name = String(e.get('name'));
      const filename = String(e.get('filename'));
      const where = `catalog.resources.${section}[${name}]`;
      const keys = e.items.map((i) => String((i.key as { value?: unknown })?.value ?? i.key));
      for (const k of keys) if (!(ENTRY_FIELDS as readonly string[]).includes(k)) report.errors.push(`${where}: field ${k} is not in the contract (${ENTRY_FIELDS.join(', ')})`);
      for (const k of ENTRY_FIELDS) if (!keys.includes(k) && k !== 'checksum') report.errors.push(`${where}: field ${k} is missing`);
      if (typeof e.get('signature') !== 'string' && keys.includes('signature')) report.errors.push(`${where}: signature must be a string ("" for none)`);
      listed.add(filename);
      const file = path.join(root, filename);
      if (!existsSync(file)) {
        report.errors.push(`${where}: ${filename} does not exist`);
        continue;
      }
      const res = readResource(filename, root) as { kind?: string; metadata?: { name?: string; labels?: Record<string, string> } };
      if (res.kind !== kind) report.errors.push(`${where}: ${filename} holds a ${String(res.kind)}, not a ${kind}`);
      if (res.metadata?.name !== name) report.errors.push(`${where}: ${filename} is named ${String(res.metadata?.name)}`);
      const version = res.metadata?.labels?.['app.kubernetes.io/version'];
      if (String(e.get('version')) !== version) report.errors.push(`${where}: version ${String(e.get('version'))} but the file's label says ${String(version)}`);
      if (e.get('checksum') !== sha256File(file)) report.stale.push(`${where} (${filename})`);
    }
  }
  for (const r of findResources(root)) if (!listed.has(r.filename)) report.unlisted.push(r.filename);
  return report;
}

/** Rewrites the checksums and lists unlisted resources; returns the report as it was before. */
export function updateCatalog(root: string = repoRoot): CatalogReport {
  const report = inspectCatalog(root);
  const { doc } = report;
  for (const section of Object.keys(SECTIONS)) {
    for (const e of entries(doc, section)) {
      const file = path.join(root, String(e.get('filename')));
      if (existsSync(file)) e.set('checksum', sha256File(file));
      if (!e.has('signature')) e.set('signature', '');
    }
  }
  for (const filename of report.unlisted) {
    const r = findResources(root).find((x) => x.filename === filename)!;
    const section = Object.entries(SECTIONS).find(([, k]) => k === r.kind)![0];
    const entry: CatalogEntry = { name: r.name, version: r.version, filename, checksum: sha256File(path.join(root, filename)), signature: '' };
    if (!isSeq(doc.getIn(['catalog', 'resources', section]))) doc.setIn(['catalog', 'resources', section], doc.createNode([]));
    doc.addIn(['catalog', 'resources', section], doc.createNode(entry));
  }
  const text = doc.toString({ lineWidth: 100 });
  if (text !== readFileSync(path.join(root, CATALOG_FILE), 'utf8')) writeFileSync(path.join(root, CATALOG_FILE), text);
  return report;
}

function option(argv: string[], name: string): string | undefined {
  const i = argv.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i < 0) return undefined;
  const a = argv[i]!;
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[i + 1];
}

async function main(argv: string[]): Promise<number> {
  const check = argv.includes('--check');
  const rootArg = option(argv, '--root');
  const root = rootArg ? path.resolve(rootArg) : repoRoot;
  const releaseDir = option(argv, '--release-dir');
  if (releaseDir !== undefined) {
    const { writeCatalogRelease } = await import('./catalog-release.ts');
    const version = option(argv, '--release-version') ?? (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
    const out = writeCatalogRelease(path.resolve(releaseDir), { version, root });
    console.log(`wrote ${out.catalogFile} and ${out.tarball} (${out.entries.length} resources, version ${version})`);
    return 0;
  }
  const report = check ? inspectCatalog(root) : updateCatalog(root);
  for (const e of report.errors) console.error(`catalog.yaml: ${e}`);
  if (check) {
    for (const s of report.stale) console.error(`catalog.yaml: stale checksum: ${s}`);
    for (const u of report.unlisted) console.error(`catalog.yaml: not listed: ${u}`);
    if (report.stale.length + report.unlisted.length > 0) console.error('run `npm run catalog` to rewrite catalog.yaml');
    const bad = report.errors.length + report.stale.length + report.unlisted.length;
    if (bad === 0) console.log('catalog.yaml is up to date');
    return bad === 0 ? 0 : 1;
  }
  for (const s of report.stale) console.log(`updated checksum: ${s}`);
  for (const u of report.unlisted) console.log(`listed: ${u}`);
  return report.errors.length === 0 ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(`catalog: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    },
  );
}
