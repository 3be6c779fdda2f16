/**
 * The Tekton resources this repository ships, found on disk by the catalog layout that Artifact Hub's
 * directory-based Tekton catalogs and the Tekton catalog use: <kind-dir>/<name>/<version>/<name>.yaml,
 * with a README.md and a samples/ folder beside each.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const repoRoot: string = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export type ResourceKind = 'Task' | 'StepAction' | 'Pipeline';
/** Top-level directory of each kind (one Artifact Hub repository each). */
export const KIND_DIRS: Readonly<Record<ResourceKind, string>> = { Task: 'task', StepAction: 'stepaction', Pipeline: 'pipelines' };

export interface ResourceFile {
  kind: ResourceKind;
  name: string;
  version: string;
  /** Relative to the repository root, with forward slashes. */
  filename: string;
}

/** Every <dir>/<name>/<version>/<name>.yaml under the kind directories. */
export function findResources(root: string = repoRoot): ResourceFile[] {
  const out: ResourceFile[] = [];
  for (const [kind, dir] of Object.entries(KIND_DIRS) as [ResourceKind, string][]) {
    const base = path.join(root, dir);
    if (!existsSync(base)) continue;
    for (const name of readdirSync(base).sort()) {
      if (!statSync(path.join(base, name)).isDirectory()) continue;
      for (const version of readdirSync(path.join(base, name)).sort()) {
        const file = path.join(base, name, version, `${name}.yaml`);
        if (existsSync(file)) out.push({ kind, name, version, filename: path.posix.join(dir, name, version, `${name}.yaml`) });
      }
    }
  }
  return out;
}

/** The single YAML document of a resource file. */
export function readResource(filename: string, root: string = repoRoot): Record<string, unknown> {
  return parse(readFileSync(path.join(root, filename), 'utf8')) as Record<string, unknown>;
}
