import type { ResolvedSource, TaskFact, WrittenRef } from './facts.ts';

/**
 * How Tekton names where a Task came from, and whether the reference as written pins it.
 * - A git resolver's refSource uri is `git+<url>.git` with `{sha1: commit}` and the path as entryPoint
 *   (tektoncd/chains e44b60fe65e6897e3784ae4cc7f5ffe39581529e pkg/chains/formats/slsa/attest/attest.go SPDXGit
 *   writes CHAINS-GIT_URL the same way); a bundle's uri is the image repository, without `oci://` and without a
 *   tag, with `{sha256: manifest digest}`.
 * - As written: the bundles resolver's `bundle` param (or the old `bundle` field) pins with `@sha256:`; the git
 *   resolver's `revision` param pins when it is a commit (40 or 64 hex digits), not a branch or tag.
 */

/** `git+https://github.com/acme/app.git` and `https://github.com/acme/app/` both -> `https://github.com/acme/app`. */
export function normalizeGitUrl(url: string): string {
  return url.replace(/^git\+/, '').replace(/\/+$/, '').replace(/\.git$/, '');
}

/** `oci://registry/repo:tag@sha256:…` -> `registry/repo`. */
export function normalizeBundle(ref: string): string {
  const noScheme = ref.replace(/^oci:\/\//, '');
  const noDigest = noScheme.split('@')[0] ?? '';
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

export type SourceKind = 'git' | 'bundle' | 'other';

export function sourceKind(source: ResolvedSource, written: WrittenRef | 'inline' | undefined): SourceKind {
  const w = written === 'inline' ? undefined : written;
  if (source.uri.startsWith('git+') || w?.resolver === 'git') return 'git';
  if (w?.resolver === 'bundles' || w?.bundle !== undefined) return 'bundle';
  // Written reference unknown (SLSA v1.0 default build type): a registry reference has no scheme and a sha256 digest.
  if (w === undefined && !source.uri.includes('://') && !source.uri.startsWith('/') && source.digest.sha256 !== undefined) return 'bundle';
  return 'other';
}

const COMMIT = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** Whether the reference as written pins the content (undefined: it does not say, e.g. another resolver). */
export function writtenPin(w: WrittenRef): { pinned: boolean; as: string } {
  if (w.resolver === 'bundles' || w.bundle !== undefined) {
    const bundle = w.bundle ?? w.params.bundle ?? '';
    return { pinned: /@sha256:[0-9a-f]{64}$/.test(bundle), as: `bundle ${bundle || '(none)'}` };
  }
  if (w.resolver === 'git') {
    const revision = w.params.revision;
    return { pinned: revision !== undefined && COMMIT.test(revision), as: `git revision ${revision ?? '(none: the default branch)'}` };
  }
  return { pinned: false, as: `resolver ${w.resolver ?? '(none)'}${w.name ? ` name ${w.name}` : ''}` };
}

export function describeSource(s: ResolvedSource): string {
  const digest = Object.entries(s.digest)
    .map(([k, v]) => `${k}:${v}`)
    .join(', ');
  return `${s.uri}${digest ? ` {${digest}}` : ''}${s.entryPoint ? ` path ${s.entryPoint}` : ''}`;
}

/** What a trusted-source entry of the policy names: a bundle repository or a git repository (and path). */
export type SourcePattern =
  | { readonly bundle: string; readonly digests?: readonly string[] }
  | { readonly git: string; readonly commits?: readonly string[]; readonly path?: string };

export type SourceMatch = { readonly ok: true; readonly pinnedByPolicy: boolean } | { readonly ok: false; readonly why: string };

/** Whether a Task's resolved source is the one a pattern names (repository, and the listed digests, commits, path). */
export function matchSource(t: TaskFact, p: SourcePattern): SourceMatch {
  const s = t.source;
  if (!s) return { ok: false, why: 'no resolved source' };
  const kind = sourceKind(s, t.written.known ? t.written.value : undefined);
  if ('bundle' in p) {
    if (kind !== 'bundle' || normalizeBundle(s.uri) !== normalizeBundle(p.bundle)) return { ok: false, why: `not bundle ${p.bundle}` };
    if (p.digests) {
      const d = s.digest.sha256 !== undefined ? `sha256:${s.digest.sha256}` : undefined;
      if (d === undefined || !p.digests.includes(d)) return { ok: false, why: `bundle ${p.bundle} at ${d ?? 'no sha256 digest'}, not one of the allowed digests` };
    }
    return { ok: true, pinnedByPolicy: p.digests !== undefined };
  }
  if (kind !== 'git' || normalizeGitUrl(s.uri) !== normalizeGitUrl(p.git)) return { ok: false, why: `not git repository ${p.git}` };
  if (p.commits && (s.digest.sha1 === undefined || !p.commits.includes(s.digest.sha1))) {
    return { ok: false, why: `git ${p.git} at commit ${s.digest.sha1 ?? '(none)'}, not one of the allowed commits` };
  }
  if (p.path !== undefined) {
    if (s.entryPoint === undefined) return { ok: false, why: `the path in the repository is not recorded (allowed: under ${p.path})` };
    if (!s.entryPoint.startsWith(p.path)) return { ok: false, why: `path ${s.entryPoint} is not under ${p.path}` };
  }
  return { ok: true, pinnedByPolicy: p.commits !== undefined };
}
