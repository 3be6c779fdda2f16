import type { ImageDigest } from '../digest.ts';
import { GateError } from '../errors.ts';
import { headerValues, safeUrl, type HttpResponse } from '../net/redirects.ts';
import { IMAGE_MANIFEST_TYPES, MEDIA_TYPES, type OciClient } from './client.ts';
import { isContentFault, type ReferrerBundleEvidence } from './evidence-types.ts';
import { repositoryName, type RepositoryRef } from './reference.ts';
import { schemaError, validateImageIndex, type Descriptor } from './schemas.ts';
import { parseJson } from './transport.ts';

/**
 * Sigstore bundles attached to an image as OCI 1.1 referrers (`cosign attest --new-bundle-format`,
 * current Tekton Chains): a manifest with `artifactType` `application/vnd.dev.sigstore.bundle.v0.3+json`,
 * `subject` = the image, and the bundle JSON as its layer. Listed through the referrers API, or the
 * referrers tag schema on registries without it.
 */

/** Sigstore bundle media types: `application/vnd.dev.sigstore.bundle.v0.3+json` and the older `...bundle+json;version=0.x`. */
export function isSigstoreBundleType(mediaType: string | undefined): boolean {
  if (mediaType === undefined) return false;
  return /^application\/vnd\.dev\.sigstore\.bundle(?:\.v0\.\d+)?\+json(?:\s*;\s*version=[0-9.]+)?$/.test(mediaType);
}

/** How many referrer manifests are read at most (a registry could list any number). */
export const MAX_REFERRERS = 64;

const CREATED = 'org.opencontainers.image.created';

/**
 * The newest `max` of `listed`: by their `org.opencontainers.image.created` annotation where they carry one
 * (newest first), then the rest from the end of the listing (a referrers tag index is appended to).
 */
export function newestReferrers(listed: readonly Descriptor[], max: number): Descriptor[] {
  const created = (d: Descriptor): number => {
    const t = Date.parse(d.annotations?.[CREATED] ?? '');
    return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
  };
  return listed
    .map((d, i) => ({ d, i, t: created(d) }))
    .sort((a, b) => (a.t === b.t ? b.i - a.i : b.t - a.t))
    .slice(0, max)
    .map(({ d }) => d);
}

/**
 * The Sigstore bundles referring to `digest`. Anyone who can push to the repository can add referrers: over
 * MAX_REFERRERS, the newest are read and `note` says how many were left out (the log's entries still decide).
 */
export async function fetchReferrerBundles(client: OciClient, repo: RepositoryRef, digest: ImageDigest, note?: (m: string) => void): Promise<ReferrerBundleEvidence[]> {
  // No artifactType filter in the request: older bundle media types would be filtered out server side.
  const { via, descriptors } = await listReferrers(client, repo, digest.value);
  let candidates = descriptors.filter((d) => isSigstoreBundleType(d.artifactType));
  if (candidates.length > MAX_REFERRERS) {
    note?.(`referrers of ${repositoryName(repo)}@${digest.value}: ${candidates.length} Sigstore bundles listed; only the newest ${MAX_REFERRERS} were read, ${candidates.length - MAX_REFERRERS} skipped`);
    candidates = newestReferrers(candidates, MAX_REFERRERS);
  }
  const out: ReferrerBundleEvidence[] = [];
  for (const desc of candidates) {
    try {
      out.push(...(await readReferrer(client, repo, digest, desc, via)));
    } catch (err) {
      // A referrer that is missing, lies about its digest or is not what it claims is no evidence: it is
      // skipped with a note (anyone who can push could add one), and the other sources still decide.
      if (!isContentFault(err)) throw err;
      note?.(`referrer ${repositoryName(repo)}@${desc.digest} skipped: ${(err as GateError).message.slice(0, 300)}`);
    }
  }
  return out;
}

async function readReferrer(client: OciClient, repo: RepositoryRef, digest: ImageDigest, desc: Descriptor, via: 'api' | 'tag-schema'): Promise<ReferrerBundleEvidence[]> {
  const out: ReferrerBundleEvidence[] = [];
  const fetched = await client.getManifest(repo, desc.digest, IMAGE_MANIFEST_TYPES);
  const location = `${repositoryName(repo)}@${fetched.digest}`;
  if (fetched.kind !== 'manifest') throw new GateError('REGISTRY_MALFORMED', `referrer ${location} is an index, not an image manifest`);
  const m = fetched.manifest;
  // A listing (notably a referrers tag, which anyone with push access writes) can name manifests that
  // do not refer to this image: only a manifest whose own subject is the image counts.
  if (m.subject?.digest !== digest.value) return [];
  const artifactType = m.artifactType ?? m.config.mediaType;
  for (const layer of m.layers) {
    if (!isSigstoreBundleType(layer.mediaType)) continue;
    const bundleBytes = await client.getBlob(repo, layer.digest, { expectedSize: layer.size });
    let bundle: unknown;
    try {
      bundle = JSON.parse(bundleBytes.toString('utf8'));
    } catch {
      throw new GateError('REGISTRY_MALFORMED', `${repositoryName(repo)}@${layer.digest}: Sigstore bundle layer of ${location} is not valid JSON`);
    }
    out.push({ source: 'referrer-bundle', location, bundle, bundleBytes, artifactType, via, manifestDigest: fetched.digest, layerDigest: layer.digest });
  }
  return out;
}

export type Referrers = {
  /** How they were found: the referrers API, or the referrers tag schema (`<alg>-<hex>` tag naming an index). */
  readonly via: 'api' | 'tag-schema';
  readonly descriptors: Descriptor[];
};

const REFERRERS_MAX_PAGES = 16;

/**
 * The manifests whose `subject` is `digest`, filtered to `artifactType` when given. Uses the referrers
 * API (following `Link: rel="next"` pages); where the registry lacks it (404), the referrers tag schema.
 */
export async function listReferrers(client: OciClient, repo: RepositoryRef, digest: string, artifactType?: string): Promise<Referrers> {
  const colon = digest.indexOf(':');
  if (colon < 0) throw new GateError('REGISTRY_MALFORMED', `referrers of ${repositoryName(repo)}: "${digest}" is not a digest`);
  const keep = (d: Descriptor): boolean => artifactType === undefined || d.artifactType === artifactType;

  const first = client.baseUrl(repo.registry);
  first.pathname = `/v2/${repo.repository}/referrers/${digest}`;
  if (artifactType !== undefined) first.searchParams.set('artifactType', artifactType);
  let url: URL | undefined = first;
  const descriptors: Descriptor[] = [];
  for (let page = 0; url !== undefined; page++) {
    const what = `referrers of ${repositoryName(repo)}@${digest}`;
    if (page >= REFERRERS_MAX_PAGES) throw new GateError('RESPONSE_TOO_LARGE', `${what}: more than ${REFERRERS_MAX_PAGES} pages`);
    const res = await client.send(repo, 'pull', { method: 'GET', url, headers: { accept: MEDIA_TYPES.ociIndex }, maxBytes: client.maxManifestBytes, what });
    if (page === 0 && [404, 400, 405, 501].includes(res.status)) {
      return { via: 'tag-schema', descriptors: await referrersByTag(client, repo, digest, keep) };
    }
    client.expectStatus(res, [200], what);
    const index = parseJson(res.body, what);
    if (!validateImageIndex(index)) throw new GateError('REGISTRY_MALFORMED', `${what}: ${schemaError(validateImageIndex)}`);
    descriptors.push(...index.manifests.filter(keep));
    url = nextLink(res, url);
    if (url !== undefined && url.origin !== first.origin) {
      throw new GateError('REGISTRY_MALFORMED', `${what}: next page is on another origin (${safeUrl(url)})`);
    }
  }
  return { via: 'api', descriptors };
}

async function referrersByTag(client: OciClient, repo: RepositoryRef, digest: string, keep: (d: Descriptor) => boolean): Promise<Descriptor[]> {
  const tag = digest.replace(':', '-');
  const m = await client.tryGetManifest(repo, tag, [MEDIA_TYPES.ociIndex]);
  if (!m) return [];
  if (m.kind !== 'index') {
    throw new GateError('REGISTRY_MALFORMED', `referrers tag ${client.refName(repo, tag)} names a ${m.mediaType}, not an OCI index`);
  }
  return m.index.manifests.filter(keep);
}

/** RFC 8288 `Link: <url>; rel="next"`, resolved against the current page. */
function nextLink(res: HttpResponse, current: URL): URL | undefined {
  for (const value of headerValues(res, 'link')) {
    for (const part of value.split(/,(?=\s*<)/)) {
      const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
      if (m && /(?:^|;)\s*rel\s*=\s*"?next"?\s*(?:;|$)/i.test(m[2] as string)) {
        try {
          return new URL(m[1] as string, current);
        } catch {
          return undefined;
        }
      }
    }
  }
  return undefined;
}
