/** Paths into the recorded corpus ($GATE_TEST_DATA/corpus, see test/fixtures/test-data.ts) and small loaders shared by the rekor, trust, bundle and corpus tests. Call them inside tests: without the data they throw. */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { LogEntryAnon } from '../../src/rekor/types.ts';
import { trustFromTrustedRoot, type Trust } from '../../src/trust/index.ts';
import { corpusDir } from '../fixtures/test-data.ts';

export const entriesDir = (): string => corpusDir('entries');
export const bundlesDir = (): string => corpusDir('bundles');
export const conformanceDir = (): string => corpusDir('conformance', 'bundle-verify');

export function readJSON(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8'));
}

export const trustedRootPath = (which: 'production' | 'staging'): string =>
  corpusDir('trust', `trusted_root.${which}.json`);

export function trustedRootJSON(which: 'production' | 'staging'): Record<string, unknown> {
  return readJSON(trustedRootPath(which)) as Record<string, unknown>;
}

const trusts = new Map<string, Trust>();
export function corpusTrust(which: 'production' | 'staging'): Trust {
  let t = trusts.get(which);
  if (!t) {
    t = trustFromTrustedRoot(trustedRootJSON(which), `corpus ${which} trusted root`);
    trusts.set(which, t);
  }
  return t;
}

export type CorpusEntry = { file: string; uuid: string; raw: LogEntryAnon };

/** One `{ "<uuid>": LogEntryAnon }` file of corpus/entries (a fresh copy: tests may mutate it). */
export function loadEntry(file: string): CorpusEntry {
  const json = readJSON(path.join(entriesDir(), file)) as Record<string, LogEntryAnon>;
  const [uuid, raw] = Object.entries(json)[0] as [string, LogEntryAnon];
  return { file, uuid, raw };
}

export const entryFiles = (): string[] => readdirSync(entriesDir()).filter((f) => f.endsWith('.json')).sort();
