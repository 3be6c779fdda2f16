import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { inspectCatalog, sha256File, updateCatalog } from '../../scripts/catalog.ts';
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

describe('catalog.yaml (catalog-cd contract)', () => {
  it('has the contract shape', () => {
    expect(catalog.version).toBe('v1');
    expect(catalog.catalog.repository.description).toMatch(/\S/);
    for (const section of ['tasks', 'pipelines']) {
      for (const e of catalog.catalog.resources[section]) {
        expect(Object.keys(e).sort()).toEqual(['filename', 'name', 'sha256sum', 'version']);
        expect(e.sha256sum).toMatch(/^[0-9a-f]{64}$/);
        expect(typeof e.version).toBe('string');
      }
    }
    for (const p of catalog.catalog.probe.tasks) {
      expect(Object.keys(p)).toEqual(expect.arrayContaining(['name', 'resourceName', 'params', 'assert']));
      for (const r of p.assert.results) {
        const eq = r.indexOf('=');
        expect(eq, r).toBeGreaterThan(0);
        expect(() => new RegExp(r.slice(eq + 1)), r).not.toThrow();
      }
      for (const c of p.assert.status.conditions) expect(c.type).toBe('Succeeded');
    }
  });

  it('lists every Task and Pipeline with its real sha256sum (`npm run catalog -- --check`)', () => {
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'scripts', 'catalog.ts'), '--check'], { cwd: repoRoot, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const listed = [...catalog.catalog.resources.tasks, ...catalog.catalog.resources.pipelines].map((e: Any) => e.filename).sort();
    const onDisk = findResources().filter((x) => x.kind !== 'StepAction').map((x) => x.filename).sort();
    expect(listed).toEqual(onDisk);
    for (const e of catalog.catalog.resources.tasks) expect(e.sha256sum).toBe(sha256File(path.join(repoRoot, e.filename)));
  });

  it('--check fails on a stale sum; a rewrite fixes it and keeps the comments', () => {
    const root = copyRepo();
    const file = path.join(root, 'task/rekor-gate/0.1/rekor-gate.yaml');
    writeFileSync(file, `${readFileSync(file, 'utf8')}# changed\n`);
    const check = spawnSync(process.execPath, [path.join(repoRoot, 'scripts', 'catalog.ts'), '--check', `--root=${root}`], { encoding: 'utf8' });
    expect(check.status).toBe(1);
    expect(check.stderr).toContain('stale sha256sum: catalog.resources.tasks[rekor-gate] (task/rekor-gate/0.1/rekor-gate.yaml)');
    updateCatalog(root);
    expect(inspectCatalog(root)).toMatchObject({ stale: [], unlisted: [], errors: [] });
    const text = readFileSync(path.join(root, 'catalog.yaml'), 'utf8');
    expect(text).toContain('# The catalog-cd contract');
    expect(text).toContain(sha256File(file));
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
