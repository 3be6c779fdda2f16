import type { ImageDigest } from '../digest.ts';
import { GateError } from '../errors.ts';
import { capped } from '../text.ts';
import type { OciClient } from './client.ts';
import type { RepositoryRef } from './reference.ts';
import type { Descriptor, ImageIndex } from './schemas.ts';

/**
 * A manifest of an OCI image index or Docker manifest list that a runtime could pull: `platform` labels it (its
 * own os/arch[/variant] lower-cased, or its place in the index when it names none or an unreadable one), `match`
 * is its platform normalized as containerd normalizes it (undefined when it names none).
 */
export type PlatformManifest = {
  readonly platform: string;
  readonly digest: string;
  readonly mediaType: string;
  readonly match?: string;
  /** It names no platform: what containerd falls back to when no manifest's platform matches. */
  readonly noPlatform?: true;
};

export const ATTESTATION_MANIFEST_ANNOTATION = 'vnd.docker.reference.type';
/** An index lists at most this many manifests that are read (a hostile index could list any number). */
export const MAX_PLATFORMS = 64;

const PART = /^[a-z0-9._-]{1,64}$/;

type Parts = { readonly os: string; readonly architecture: string; readonly variant: string };

/** The descriptor's os, architecture and variant, lower-cased; undefined when it has no platform or odd values. */
function partsOf(d: Descriptor): Parts | undefined {
  const p = d.platform;
  if (!p) return undefined;
  const [os, architecture, variant] = [p['os'], p['architecture'], p['variant'] ?? ''].map((v) => (typeof v === 'string' ? v.toLowerCase() : undefined));
  if (os === undefined || architecture === undefined || variant === undefined) return undefined;
  if (!PART.test(os) || !PART.test(architecture) || (variant !== '' && !PART.test(variant))) return undefined;
  return { os, architecture, variant };
}

const joined = (p: Parts): string => [p.os, p.architecture, p.variant].filter((v) => v !== '').join('/');

/**
 * A platform as containerd's platforms.Normalize makes it before matching (github.com/containerd/platforms,
 * database.go normalizeOS/normalizeArch and platforms.go matcher.Match, commit 09756f59cb1d6b3fb368f371043d36e634789537):
 * os, architecture and variant lower-cased, macos -> darwin, the architecture's aliases and default variants
 * folded (x86_64 -> amd64, aarch64 -> arm64 with v8 dropped, arm -> arm/v7, ...). Then equal means matching.
 */
function normalizePlatform(p: Parts): string {
  const os = p.os === 'macos' ? 'darwin' : p.os;
  let { architecture: arch, variant } = p;
  switch (arch) {
    case 'i386':
      arch = '386';
      variant = '';
      break;
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      arch = 'amd64';
      if (variant === 'v1') variant = '';
      break;
    case 'aarch64':
    case 'arm64':
      arch = 'arm64';
      if (variant === '8' || variant === 'v8' || variant === 'v8.0') variant = '';
      else if (variant === '9' || variant === '9.0' || variant === 'v9.0') variant = 'v9';
      break;
    case 'armhf':
      arch = 'arm';
      variant = 'v7';
      break;
    case 'armel':
      arch = 'arm';
      variant = 'v6';
      break;
    case 'arm':
      if (variant === '' || variant === '7') variant = 'v7';
      else if (variant === '5' || variant === '6' || variant === '8') variant = `v${variant}`;
      break;
  }
  return joined({ os, architecture: arch, variant });
}

/**
 * A BuildKit attestation manifest: annotated `vnd.docker.reference.type: attestation-manifest` AND of platform
 * unknown/unknown, which no runtime pulls (containerd's images.Platforms skips unknown os or architecture:
 * containerd/containerd core/images/image.go, commit 320e644426510fe20559d31d2f7c78a380b1b62a). Either alone is not
 * enough: a manifest merely annotated so can be pulled for its platform.
 */
export function isAttestationManifest(d: Descriptor): boolean {
  const p = partsOf(d);
  return d.annotations?.[ATTESTATION_MANIFEST_ANNOTATION] === 'attestation-manifest' && p?.os === 'unknown' && p.architecture === 'unknown';
}

/**
 * Every manifest of the index a runtime could pull, in the index's order: BuildKit attestation manifests only are
 * left out. A manifest with no platform, or an unreadable one, is listed by its place; a repeated platform (the
 * first wins when a runtime matches by platform) is listed again, with its place, since it can still be pulled.
 */
export function platformsOf(index: ImageIndex): PlatformManifest[] {
  const out: PlatformManifest[] = [];
  const seen = new Set<string>();
  index.manifests.forEach((d, i) => {
    if (isAttestationManifest(d)) return;
    const parts = partsOf(d);
    const own = parts ? joined(parts) : undefined;
    let label: string;
    if (own === undefined) label = `manifests[${i}] (${d.platform ? 'platform not readable' : 'no platform'})`;
    else label = seen.has(own) ? `${own} (manifests[${i}])` : own;
    if (own !== undefined) seen.add(own);
    out.push({ platform: label, digest: d.digest, mediaType: d.mediaType, ...(parts ? { match: normalizePlatform(parts) } : {}), ...(d.platform ? {} : { noPlatform: true as const }) });
  });
  if (out.length > MAX_PLATFORMS) throw new GateError('RESPONSE_TOO_LARGE', `the index lists ${out.length} manifests, more than ${MAX_PLATFORMS}`);
  return out;
}

/** The platforms asked for: all of them, or `os/arch[/variant]` names. */
export type PlatformChoice = { readonly all: true } | { readonly all: false; readonly names: readonly string[] };

/**
 * The manifests asked for, and the names no manifest answers. `all`: every manifest a runtime could pull. A name:
 * the manifest a runtime would pull for it, as containerd picks (core/images/image.go Manifest, commit above): the
 * first whose normalized platform equals the name's, else the first with no platform.
 */
export function selectPlatforms(listed: readonly PlatformManifest[], choice: PlatformChoice): { selected: PlatformManifest[]; missing: string[] } {
  if (choice.all) return { selected: [...listed], missing: [] };
  const selected: PlatformManifest[] = [];
  const missing: string[] = [];
  for (const name of choice.names) {
    const [os = '', architecture = '', variant = ''] = name.toLowerCase().split('/');
    const wanted = normalizePlatform({ os, architecture, variant });
    // containerd then matches the fallback's config platform; it is verified here whatever that says (more, not less).
    const found = listed.find((p) => p.match === wanted) ?? listed.find((p) => p.noPlatform);
    if (!found) missing.push(name);
    else if (!selected.includes(found)) selected.push(found);
  }
  return { selected, missing };
}

/** Reads what `digest` names in `repo`: an image manifest (no platforms), or an index and its platforms. */
export async function readPlatforms(client: OciClient, repo: RepositoryRef, digest: ImageDigest): Promise<{ kind: 'manifest' } | { kind: 'index'; platforms: PlatformManifest[] }> {
  const m = await client.getManifest(repo, digest.value);
  if (m.kind === 'manifest') return { kind: 'manifest' };
  try {
    return { kind: 'index', platforms: platformsOf(m.index) };
  } catch (err) {
    throw err instanceof GateError ? new GateError(err.code, `index ${capped(repo.repository)}@${digest.value}: ${err.message}`) : err;
  }
}
