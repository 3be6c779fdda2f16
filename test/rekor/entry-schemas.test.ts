import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, dataDir } from '../corpus/corpus.ts';

const ours = path.join(repoRoot, 'schemas', 'rekor');
const theirs = path.join(dataDir, 'spec', 'rekor');
const shipped = readdirSync(theirs).filter((f) => f.endsWith('.json') || f === 'LICENSE');

describe('schemas/rekor ships the Rekor entry schemas verbatim', () => {
  it("holds exactly the JSON schemas and LICENSE of test/data/spec/rekor (Rekor's published copy)", () => {
    expect(readdirSync(ours).sort()).toEqual(shipped.sort());
  });

  it.each(shipped)('%s is byte-identical', (file) => {
    expect(readFileSync(path.join(ours, file)).equals(readFileSync(path.join(theirs, file)))).toBe(true);
  });
});
