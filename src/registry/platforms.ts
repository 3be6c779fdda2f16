import type { ImageDigest } from '../digest.ts';
import { GateError } from '../errors.ts';
import { capped } from '../text.ts';
import type { OciClient } from './client.ts';
import type { RepositoryRef } from './reference.ts';
import type { Descriptor, ImageIndex } from './schemas.ts';

/**
 * The platform manifests of an OCI image index or Docker manifest list. BuildKit's attestation manifests
 * (`vnd.docker.reference.type: attestation-manifest`, platform `unknown/unknown`) are not platforms.
 */
export type PlatformManifest = { readonly platform: string; readonly digest: string; readonly mediaType: string };

export const ATTESTATION_MANIFEST_ANNOTATION = 'vnd.docker.reference.type';
/** An index lists at most this many manifests that are read as platforms (a hostile index could list any number). */
export const MAX_PLATFORMS = 64;

const PART = /^[a-z0-9._-]{1,64}$/;

/** `os/arch[/variant]` of a descriptor, or undefined when it names none (or an odd one). */
function platformName(d: Descriptor): string | undefined {
  const p = d.platform;
  if (!p) return undefined;
  const parts = [p['os'], p['architecture'], p['variant']].filter((v) => v !== undefined);
  if (parts.length < 2 || !parts.every((v) => typeof v === 'string' && PART.test(v))) return undefined;
  return parts.join('/');
}

export function isAttestationManifest(d: Descriptor): boolean {
  return d.annotations?.[ATTESTATION_MANIFEST_ANNOTATION] === 'attestation-manifest' || platformName(d) === 'unknown/unknown';
}

/** The platforms an index lists (in its order; the first of a repeated platform wins). */
export function platformsOf(index: ImageIndex): PlatformManifest[] {
  const out = new Map<string, PlatformManifest>();
  for (const d of index.manifests) {
    const name = platformName(d);
    if (name === undefined || isAttestationManifest(d) || out.has(name)) continue;
    out.set(name, { platform: name, digest: d.digest, mediaType: d.mediaType });
  }
  if (out.size > MAX_PLATFORMS) throw new GateError('RESPONSE_TOO_LARGE', `the index lists ${out.size} platforms, more than ${MAX_PLATFORMS}`);
  return [...out.values()];
}

/** The platforms asked for: all of them, or `os/arch[/variant]` names. */
export type PlatformChoice = { readonly all: true } | { readonly all: false; readonly names: readonly string[] };

/** The platforms asked for that the index has, and the names it lacks. */
export function selectPlatforms(listed: readonly PlatformManifest[], choice: PlatformChoice): { selected: PlatformManifest[]; missing: string[] } {
  if (choice.all) return { selected: [...listed], missing: [] };
  const byName = new Map(listed.map((p) => [p.platform, p]));
  return {
    selected: choice.names.flatMap((n) => byName.get(n) ?? []),
    missing: choice.names.filter((n) => !byName.has(n)),
  };
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
