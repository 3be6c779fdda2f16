import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OciClient } from '../../src/registry/client.ts';
import { parseImageRef } from '../../src/registry/reference.ts';
import { buildBundle, readResource, tarOneFile } from '../../scripts/release/tekton-bundle.ts';
import { repoRoot } from '../fixtures/paths.ts';
import { needs } from '../fixtures/needs.ts';
import { REGISTRY_NEEDS, startRegistry, type RegistryHandle } from '../fixtures/registry.ts';

const FILES = ['task/rekor-gate/0.1/rekor-gate.yaml', 'stepaction/rekor-gate/0.1/rekor-gate.yaml'].map((f) => path.join(repoRoot, f));

describe('Tekton bundle layers', () => {
  it('are tar archives that GNU tar reads back byte for byte', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rg-tar-'));
    const content = Buffer.from('apiVersion: tekton.dev/v1\nkind: Task\n'.repeat(50));
    writeFileSync(path.join(dir, 'a.tar'), tarOneFile('rekor-gate', content));
    const r = spawnSync('tar', ['-xf', 'a.tar'], { cwd: dir });
    expect(r.status, r.stderr?.toString()).toBe(0);
    expect(readFileSync(path.join(dir, 'rekor-gate')).equals(content)).toBe(true);
  });

  it('hold one resource each, annotated as the contract says', () => {
    const b = buildBundle(FILES.map((f) => readResource(readFileSync(f, 'utf8'), f)));
    expect(b.layers.map((l) => l.annotations['dev.tekton.image.kind']).sort()).toEqual(['stepaction', 'task']);
    for (const l of b.layers) expect(l.annotations['dev.tekton.image.name']).toBe('rekor-gate');
    expect(gunzipSync(b.layers[0]!.bytes).subarray(512).toString()).toContain('kind: Task');
  });

  it('refuses files that are not Tekton resources, and duplicates', () => {
    expect(() => readResource('kind: Deployment\napiVersion: apps/v1\nmetadata: {name: x}\n', 'x.yaml')).toThrow(/not a Tekton resource/);
    const r = readResource(readFileSync(FILES[0]!, 'utf8'), 'task');
    expect(() => buildBundle([r, r])).toThrow(/duplicate/);
  });
});

const { describe: run } = needs('test/release/tekton-bundle.test.ts', REGISTRY_NEEDS);

run('npm run release:bundle against a real registry', () => {
  let reg: RegistryHandle;
  beforeAll(async () => {
    reg = await startRegistry();
  });
  afterAll(async () => {
    await reg?.stop();
  });

  it('pushes a bundle whose manifest and layers a bundles resolver can read', async () => {
    const r = spawnSync(process.execPath, ['scripts/release-bundle.ts', `${reg.host}/tekton/rekor-gate:0.1`], { cwd: repoRoot, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const pinned = r.stdout.trim();
    expect(pinned).toMatch(new RegExp(`^${reg.host}/tekton/rekor-gate@sha256:[0-9a-f]{64}$`));
    const client = new OciClient({ retries: 0 });
    try {
      const ref = parseImageRef(`${reg.host}/tekton/rekor-gate:0.1`);
      const m = await client.getManifest(ref, '0.1');
      expect(`${reg.host}/tekton/rekor-gate@${m.digest}`).toBe(pinned);
      const manifest = JSON.parse(m.bytes.toString()) as { layers: { digest: string; annotations: Record<string, string> }[] };
      expect(manifest.layers).toHaveLength(2);
      const task = manifest.layers.find((l) => l.annotations['dev.tekton.image.kind'] === 'task');
      const blob = await client.getBlob(ref, task!.digest);
      const yamlText = gunzipSync(blob).subarray(512).toString('utf8').replace(/\0+$/, '');
      expect(yamlText).toBe(readFileSync(FILES[0]!, 'utf8'));
    } finally {
      await client.close();
    }
  });
});
