import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { extract, list } from 'tar';
import { afterEach, describe, expect, it } from 'vitest';
import { inspectCatalog, sha256File, updateCatalog } from '../../scripts/catalog.ts';
import { writeCatalogRelease } from '../../scripts/catalog-release.ts';
import { PLACEHOLDER_IMAGE, pinImage, unpinned } from '../../scripts/release-pin.ts';
import { findResources, repoRoot } from '../../scripts/tekton-resources.ts';

type Any = Record<string, any>;
const catalog = parse(readFileSync(path.join(repoRoot, 'catalog.yaml'), 'utf8')) as Any;

let tmp: string | undefined;
afterEach(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  tmp = undefined;
});
/** A copy of what the scripts read: catalog.yaml and the resource directories. */
function copyRepo(): string {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'catalog-'));
  for (const p of ['catalog.yaml', 'task', 'stepaction', 'pipelines']) cpSync(path.join(repoRoot, p), path.join(tmp, p), { recursive: true });
  return tmp;
}

describe('catalog.yaml (catalog-cd contract v1)', () => {
  it('has exactly the fields catalog-cd reads (internal/contract: TektonResource, Resources, Catalog)', () => {
    expect(Object.keys(catalog).sort()).toEqual(['catalog', 'version']);
    expect(catalog.version).toBe('v1');
    expect(Object.keys(catalog.catalog).sort()).toEqual(['repository', 'resources']);
    expect(catalog.catalog.repository.description).toMatch(/\S/);
    expect(Object.keys(catalog.catalog.resources).sort()).toEqual(['pipelines', 'stepactions', 'tasks']);
    for (const section of ['tasks', 'pipelines', 'stepactions']) {
      expect(catalog.catalog.resources[section].length, section).toBeGreaterThan(0);
      for (const e of catalog.catalog.resources[section]) {
        expect(Object.keys(e)).toEqual(['name', 'version', 'filename', 'checksum', 'signature']);
        expect(e.checksum).toMatch(/^[0-9a-f]{64}$/);
        expect(e.checksum).toBe(sha256File(path.join(repoRoot, e.filename)));
        expect(typeof e.version).toBe('string');
        expect(e.signature).toBe('');
      }
    }
    expect(catalog.catalog.resources.stepactions.map((e: Any) => e.filename)).toEqual(['stepaction/rekor-gate/0.1/rekor-gate.yaml']);
  });

  it('lists every Task, Pipeline and StepAction with its real checksum (`npm run catalog -- --check`)', () => {
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'scripts', 'catalog.ts'), '--check'], { cwd: repoRoot, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const listed = [...catalog.catalog.resources.tasks, ...catalog.catalog.resources.pipelines, ...catalog.catalog.resources.stepactions].map((e: Any) => e.filename).sort();
    expect(listed).toEqual(findResources().map((x) => x.filename).sort());
  });

  it('--check fails on a stale checksum; a rewrite fixes it and keeps the comments', () => {
    const root = copyRepo();
    const file = path.join(root, 'stepaction/rekor-gate/0.1/rekor-gate.yaml');
    writeFileSync(file, `${readFileSync(file, 'utf8')}# changed\n`);
    const check = spawnSync(process.execPath, [path.join(repoRoot, 'scripts', 'catalog.ts'), '--check', `--root=${root}`], { encoding: 'utf8' });
    expect(check.status).toBe(1);
    expect(check.stderr).toContain('stale checksum: catalog.resources.stepactions[rekor-gate] (stepaction/rekor-gate/0.1/rekor-gate.yaml)');
    updateCatalog(root);
    expect(inspectCatalog(root)).toMatchObject({ stale: [], unlisted: [], errors: [] });
    const text = readFileSync(path.join(root, 'catalog.yaml'), 'utf8');
    expect(text).toContain('# The catalog-cd contract');
    expect(text).toContain(sha256File(file));
  });

  it('rejects fields the contract does not have (the old sha256sum) and a section it does not know', () => {
    const root = copyRepo();
    const c = path.join(root, 'catalog.yaml');
    writeFileSync(c, readFileSync(c, 'utf8').replace('        checksum: ', '        sha256sum: ').replace('  resources:\n', '  resources:\n    steps: []\n'));
    const r = inspectCatalog(root);
    expect(r.errors).toContain('catalog.resources.tasks[rekor-gate]: field sha256sum is not in the contract (name, version, filename, checksum, signature)');
    expect(r.errors).toContain('catalog.resources.steps is not a section of the contract (tasks, pipelines, stepactions)');
    expect(r.stale).toContain('catalog.resources.tasks[rekor-gate] (task/rekor-gate/0.1/rekor-gate.yaml)');
  });

  it('reports an unlisted Pipeline and a wrong version, and lists the Pipeline on rewrite', () => {
    const root = copyRepo();
    cpSync(path.join(root, 'pipelines/build-verify'), path.join(root, 'pipelines/build-verify-copy'), { recursive: true });
    const f = path.join(root, 'pipelines/build-verify-copy/0.1/build-verify.yaml');
    const g = path.join(root, 'pipelines/build-verify-copy/0.1/build-verify-copy.yaml');
    writeFileSync(g, readFileSync(f, 'utf8').replace('name: build-verify\n', 'name: build-verify-copy\n'));
    rmSync(f);
    const c = path.join(root, 'catalog.yaml');
    writeFileSync(c, readFileSync(c, 'utf8').replace('version: "0.1"\n        filename: task/', 'version: "0.2"\n        filename: task/'));
    const r = inspectCatalog(root);
    expect(r.unlisted).toEqual(['pipelines/build-verify-copy/0.1/build-verify-copy.yaml']);
    expect(r.errors).toEqual(["catalog.resources.tasks[rekor-gate]: version 0.2 but the file's label says 0.1"]);
    updateCatalog(root);
    expect(inspectCatalog(root).unlisted).toEqual([]);
    const added = (parse(readFileSync(c, 'utf8')) as Any).catalog.resources.pipelines.at(-1);
    expect(Object.keys(added)).toEqual(['name', 'version', 'filename', 'checksum', 'signature']);
  });
});

describe('the catalog-cd release assets (catalog.yaml + resources.tar.gz)', () => {
  it('lays out every resource as catalog-cd release does, and the tarball holds each with the checksum the contract names', async () => {
    const out = path.join(copyRepo(), 'release');
    const rel = writeCatalogRelease(out, { version: '0.1.0', root: path.dirname(out) });
    const contract = parse(readFileSync(path.join(out, 'catalog.yaml'), 'utf8')) as Any;
    expect(contract.version).toBe('v1');
    expect(Object.keys(contract.catalog.resources).sort()).toEqual(['pipelines', 'stepactions', 'tasks']);
    const entries: Any[] = Object.values(contract.catalog.resources).flat() as Any[];
    expect(entries.map((e) => e.filename).sort()).toEqual([
      'pipelines/build-verify/build-verify.yaml',
      'pipelines/promote-verified/promote-verified.yaml',
      'stepactions/rekor-gate/rekor-gate.yaml',
      'tasks/rekor-gate/rekor-gate.yaml',
    ]);
    for (const e of entries) {
      expect(Object.keys(e)).toEqual(['name', 'version', 'filename', 'checksum', 'signature']);
      expect(e.version).toBe('0.1.0');
    }

    // Unpack as catalog-cd's consumer does, and check every member against the contract.
    const unpacked = mkdtempSync(path.join(tmp!, 'unpacked-'));
    const names: string[] = [];
    await list({ file: rel.tarball, onReadEntry: (e) => names.push(e.path) });
    await extract({ file: rel.tarball, cwd: unpacked });
    expect(names).toEqual([...names].sort());
    expect(names).not.toContain('catalog.yaml');
    for (const n of names) {
      expect(n).not.toMatch(/^\/|(^|\/)\.\.(\/|$)/);
      expect(n).toMatch(/^(tasks|pipelines|stepactions)\/[a-z0-9-]+\/([a-z0-9-]+\.yaml|README\.md)$/);
    }
    for (const e of entries) {
      expect(names, e.filename).toContain(e.filename);
      expect(sha256File(path.join(unpacked, e.filename)), e.filename).toBe(e.checksum);
      expect(names).toContain(path.posix.join(path.posix.dirname(e.filename), 'README.md'));
    }
    // Byte for byte the repository's files.
    expect(readFileSync(path.join(unpacked, 'tasks/rekor-gate/rekor-gate.yaml'))).toEqual(readFileSync(path.join(repoRoot, 'task/rekor-gate/0.1/rekor-gate.yaml')));
    // Reproducible: the same inputs give the same tarball.
    const again = writeCatalogRelease(path.join(tmp!, 'again'), { version: '0.1.0', root: path.dirname(out) });
    expect(readFileSync(again.tarball)).toEqual(readFileSync(rel.tarball));
  });

  it('refuses a stale catalog.yaml and a version that is not X.Y.Z', () => {
    const root = copyRepo();
    expect(() => writeCatalogRelease(path.join(root, 'out'), { version: 'v0.1', root })).toThrow(/semantic version/);
    writeFileSync(path.join(root, 'task/rekor-gate/0.1/rekor-gate.yaml'), '# changed\n', { flag: 'a' });
    expect(() => writeCatalogRelease(path.join(root, 'out'), { version: '0.1.0', root })).toThrow(/not up to date.*stale checksum/);
  });

  it('`npm run catalog -- --release-dir DIR` writes them', () => {
    const root = copyRepo();
    cpSync(path.join(repoRoot, 'package.json'), path.join(root, 'package.json'));
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'scripts', 'catalog.ts'), `--root=${root}`, '--release-dir', path.join(root, 'dist-release')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(path.join(root, 'dist-release')).sort()).toEqual(['catalog.yaml', 'pipelines', 'resources.tar.gz', 'stepactions', 'tasks']);
  });
});

describe('release pinning of the step image', () => {
  it('the repository ships the placeholder (the release replaces it)', () => {
    expect(unpinned()).toEqual(['task/rekor-gate/0.1/rekor-gate.yaml', 'stepaction/rekor-gate/0.1/rekor-gate.yaml']);
  });

  it('pins every step image to the pushed digest and refreshes the catalog sums', () => {
    const root = copyRepo();
    const ref = `registry.example.com:5000/team/rekor-gate@sha256:${'ab'.repeat(32)}`;
    expect(pinImage(ref, root)).toEqual(['task/rekor-gate/0.1/rekor-gate.yaml', 'stepaction/rekor-gate/0.1/rekor-gate.yaml']);
    expect(unpinned(root)).toEqual([]);
    for (const f of ['task/rekor-gate/0.1/rekor-gate.yaml', 'stepaction/rekor-gate/0.1/rekor-gate.yaml']) {
      const text = readFileSync(path.join(root, f), 'utf8');
      expect(text).toContain(`image: ${ref}\n`);
      expect(text).not.toContain(PLACEHOLDER_IMAGE);
      // Nothing but the image line changed.
      expect(text.replace(ref, PLACEHOLDER_IMAGE)).toBe(readFileSync(path.join(repoRoot, f), 'utf8'));
    }
    expect(inspectCatalog(root)).toMatchObject({ stale: [], errors: [] });
    // A later release re-pins the pinned files.
    const next = `ghcr.io/acme/rekor-gate@sha256:${'cd'.repeat(32)}`;
    expect(pinImage(next, root)).toHaveLength(2);
  });

  it('refuses a tag, a param and the placeholder', () => {
    expect(() => pinImage('ghcr.io/acme/rekor-gate:0.1')).toThrow(/not a/);
    expect(() => pinImage('$(params.IMAGE)')).toThrow(/not a/);
    expect(() => pinImage(PLACEHOLDER_IMAGE)).toThrow(/placeholder/);
  });
});
