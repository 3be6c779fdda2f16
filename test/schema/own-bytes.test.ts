/**
 * The repository holds only what this project wrote (docs/design.md, "Recorded material"): no tracked file is a
 * copy of a file of the recorded third-party material, and the schemas rekor-gate ships are its own (their
 * `$id`s are rekor-gate's, and no upstream license text travels with them).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../fixtures/paths.ts';
import { describeWithTestData, testDataRoot } from '../fixtures/test-data.ts';

const OWN_ID = /^https:\/\/rekor-gate\.dev\/schemas\//;
/** `$id`s and `$ref`s of the projects the formats come from. */
const UPSTREAM_ID = /sigstore|rekor\.dev|in-toto\.io|slsa\.dev|tekton/i;
const LICENSE_FILE = /^(LICEN[CS]E|COPYING|NOTICE)/i;

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)],
  );
}

/** Every `$id` and absolute `$ref` in a schema. */
function identifiers(v: unknown, out: string[] = []): string[] {
  if (Array.isArray(v)) v.forEach((c) => identifiers(c, out));
  else if (v !== null && typeof v === 'object') {
    for (const [k, c] of Object.entries(v)) {
      if ((k === '$id' || (k === '$ref' && !String(c).startsWith('#'))) && typeof c === 'string') out.push(c);
      else identifiers(c, out);
    }
  }
  return out;
}

describe('the schemas rekor-gate ships are its own', () => {
  const files = walk(path.join(repoRoot, 'schemas'));

  it('schemas/ holds JSON Schemas only: no license or notice file of another project', () => {
    expect(files.length).toBeGreaterThan(5);
    expect(files.filter((f) => LICENSE_FILE.test(path.basename(f)) || !f.endsWith('.schema.json')).map((f) => path.relative(repoRoot, f))).toEqual([]);
    for (const f of files) expect(readFileSync(f, 'utf8'), f).not.toMatch(/Apache License|Licensed under/);
  });

  it.each(files.map((f) => [path.relative(repoRoot, f), f]))("%s: its $id is rekor-gate's, and no $id or $ref names an upstream schema", (_, f) => {
    const schema = JSON.parse(readFileSync(f, 'utf8')) as { $id?: string };
    expect(schema.$id).toMatch(OWN_ID);
    for (const id of identifiers(schema)) {
      expect(id, f).toMatch(OWN_ID);
      expect(id, f).not.toMatch(UPSTREAM_ID);
    }
  });
});

describeWithTestData(import.meta.url, 'the recorded material (corpus/, spec/) to compare against', 'no tracked file is a copy of the recorded material', () => {
  const digest = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

  it('no file git tracks is byte-identical to a file under GATE_TEST_DATA', () => {
    const recorded = new Map<string, string>();
    for (const f of walk(testDataRoot!)) if (statSync(f).size > 0) recorded.set(digest(f), f);
    expect(recorded.size).toBeGreaterThan(100);
    const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: repoRoot, encoding: 'utf8' }).split('\0').filter(Boolean);
    expect(tracked.length).toBeGreaterThan(100);
    const copies = tracked.flatMap((t) => {
      const file = path.join(repoRoot, t);
      // A file deleted in the work tree but not yet from the index has nothing to compare.
      let size: number;
      try {
        size = statSync(file).size;
      } catch {
        return [];
      }
      const copy = size > 0 ? recorded.get(digest(file)) : undefined;
      return copy ? [`${t} = ${path.relative(testDataRoot!, copy)}`] : [];
    });
    expect(copies).toEqual([]);
  });
});
