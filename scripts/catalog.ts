/**
 * Keeps catalog.yaml (the catalog-cd contract) true to the files it lists.
 *
 *   node scripts/catalog.ts           rewrites every sha256sum, adds Tasks/Pipelines not yet listed
 *   node scripts/catalog.ts --check   changes nothing; exits 1 when anything is stale or wrong
 *
 * Checked besides the sums: each listed file exists and holds a resource of that name whose
 * app.kubernetes.io/version label is the entry's version, every Task and Pipeline of the repository is
 * listed, and every probe names a listed resource. Comments and layout of catalog.yaml are kept.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMap, isSeq, parseDocument, type Document, type YAMLMap } from 'yaml';
import { findResources, readResource, repoRoot, type ResourceKind } from './tekton-resources.ts';

export const CATALOG_FILE = 'catalog.yaml';
/** catalog.resources keys of the contract, and the kind each lists (StepActions have no key in the contract). */
const SECTIONS: Readonly<Record<string, ResourceKind>> = { tasks: 'Task', pipelines: 'Pipeline' };

export function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

export interface CatalogReport {
  /** Entries whose sha256sum is not the file's. */
  stale: string[];
  /** Tasks/Pipelines on disk that catalog.yaml does not list. */
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

/** Reads catalog.yaml under root and compares it with the files. */
export function inspectCatalog(root: string = repoRoot): CatalogReport {
  const doc = parseDocument(readFileSync(path.join(root, CATALOG_FILE), 'utf8'));
  if (doc.errors.length > 0) throw new Error(`${CATALOG_FILE}: ${doc.errors.map((e) => e.message).join('; ')}`);
  const report: CatalogReport = { stale: [], unlisted: [], errors: [], doc };
  if (doc.get('version') !== 'v1') report.errors.push('version must be v1');
  if (typeof doc.getIn(['catalog', 'repository', 'description']) !== 'string') report.errors.push('catalog.repository.description is missing');

  const listed = new Set<string>();
  for (const [section, kind] of Object.entries(SECTIONS)) {
    for (const e of entries(doc, section)) {
      const name = String(e.get('name'));
      const filename = String(e.get('filename'));
      const where = `catalog.resources.${section}[${name}]`;
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
      if (e.get('sha256sum') !== sha256File(file)) report.stale.push(`${where} (${filename})`);
    }
  }
  for (const r of findResources(root)) {
    if (Object.values(SECTIONS).includes(r.kind) && !listed.has(r.filename)) report.unlisted.push(r.filename);
  }
  const names = new Set(Object.keys(SECTIONS).flatMap((s) => entries(doc, s).map((e) => String(e.get('name')))));
  for (const section of ['tasks', 'pipelines']) {
    const probes = doc.getIn(['catalog', 'probe', section]);
    if (!isSeq(probes)) continue;
    for (const p of probes.items) {
      if (!isMap(p)) continue;
      const rn = String(p.get('resourceName'));
      if (!names.has(rn)) report.errors.push(`catalog.probe.${section}[${String(p.get('name'))}]: resourceName ${rn} is not listed`);
    }
  }
  return report;
}

/** Rewrites the sums and lists unlisted resources; returns the report as it was before. */
export function updateCatalog(root: string = repoRoot): CatalogReport {
  const report = inspectCatalog(root);
  const { doc } = report;
  for (const section of Object.keys(SECTIONS)) {
    for (const e of entries(doc, section)) {
      const file = path.join(root, String(e.get('filename')));
      if (existsSync(file)) e.set('sha256sum', sha256File(file));
    }
  }
  for (const filename of report.unlisted) {
    const r = findResources(root).find((x) => x.filename === filename)!;
    const section = Object.entries(SECTIONS).find(([, k]) => k === r.kind)![0];
    const entry = { name: r.name, version: r.version, filename, sha256sum: sha256File(path.join(root, filename)) };
    if (!isSeq(doc.getIn(['catalog', 'resources', section]))) doc.setIn(['catalog', 'resources', section], doc.createNode([]));
    doc.addIn(['catalog', 'resources', section], doc.createNode(entry));
  }
  const text = doc.toString({ lineWidth: 100 });
  if (text !== readFileSync(path.join(root, CATALOG_FILE), 'utf8')) writeFileSync(path.join(root, CATALOG_FILE), text);
  return report;
}

function main(argv: string[]): number {
  const check = argv.includes('--check');
  const rootArg = argv.find((a) => a.startsWith('--root='));
  const root = rootArg ? path.resolve(rootArg.slice('--root='.length)) : repoRoot;
  const report = check ? inspectCatalog(root) : updateCatalog(root);
  for (const e of report.errors) console.error(`catalog.yaml: ${e}`);
  if (check) {
    for (const s of report.stale) console.error(`catalog.yaml: stale sha256sum: ${s}`);
    for (const u of report.unlisted) console.error(`catalog.yaml: not listed: ${u}`);
    if (report.stale.length + report.unlisted.length > 0) console.error('run `npm run catalog` to rewrite catalog.yaml');
    const bad = report.errors.length + report.stale.length + report.unlisted.length;
    if (bad === 0) console.log('catalog.yaml is up to date');
    return bad === 0 ? 0 : 1;
  }
  for (const s of report.stale) console.log(`updated sha256sum: ${s}`);
  for (const u of report.unlisted) console.log(`listed: ${u}`);
  return report.errors.length === 0 ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2));
}
