// Which verifyImages entries apply to an image: Kyverno's image reference globs over the normalized reference.

/**
 * The forms Kyverno matches a reference in (kyverno pkg/utils/image/infos.go ImageInfo.String at
 * 111e07bbecc66abfde36ab99969af22d7a961003): `registry/path@digest` when it has a digest, else
 * `registry/path:tag`, the registry docker.io by default, `library/` before a one-part Docker Hub path, tag latest
 * by default. The gate knows the tag and the digest, and admission may see either: both forms are returned.
 */
export function normalizedForms(ref: string, digest?: string): string[] {
  const at = ref.indexOf('@');
  const refDigest = at >= 0 ? ref.slice(at + 1) : undefined;
  let name = at >= 0 ? ref.slice(0, at) : ref;
  const slash = name.indexOf('/');
  const first = slash >= 0 ? name.slice(0, slash) : '';
  const hasRegistry = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  let registry = hasRegistry ? first : 'docker.io';
  let path = hasRegistry ? name.slice(slash + 1) : name;
  if (registry === 'index.docker.io') registry = 'docker.io';
  const colon = path.lastIndexOf(':');
  let tag = 'latest';
  if (colon >= 0) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
  }
  if (registry === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  name = `${registry}/${path}`;
  const forms = [`${name}:${tag}`];
  for (const d of [refDigest, digest]) if (d && !forms.includes(`${name}@${d}`)) forms.push(`${name}@${d}`);
  return forms;
}

/**
 * Kyverno's wildcard match (kyverno ext/wildcard/match.go, as above): `*` any run of characters (`/` included),
 * `?` any one character, the rest literally, over the whole text. Hand-written: a glob library's `*` stops at `/`.
 */
export function wildcardMatch(pattern: string, text: string): boolean {
  // Iterative matching with backtracking to the last `*` (linear in practice, never exponential).
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === text[t])) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      mark = t;
    } else if (star >= 0) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/**
 * Whether a verifyImages entry applies: in one of the forms admission may see, an imageReferences glob matches
 * and no skipImageReferences glob does (Kyverno matches the one form the pod names; the gate cannot tell which,
 * so a skip glob that leaves one form skips nothing).
 */
export function appliesTo(rule: { imageReferences: readonly string[]; skipImageReferences: readonly string[] }, imageRef: string, digest?: string): boolean {
  const hit = (globs: readonly string[], f: string) => globs.some((g) => wildcardMatch(g, f));
  return normalizedForms(imageRef, digest).some((f) => hit(rule.imageReferences, f) && !hit(rule.skipImageReferences, f));
}

/**
 * What an ImageValidatingPolicy's getImageData(image) answers at the gate: Kyverno's fields (kyverno/kyverno
 * 111e07bbecc66abfde36ab99969af22d7a961003 pkg/engine/context/loaders/imagedata.go: image, resolvedImage,
 * registry, repository, identifier) for the reference as given and the digest the gate verifies; the manifest,
 * manifestList and configData are not fetched, so absent.
 */
export function imageData(ref: string, digest: string): Record<string, string> {
  const at = ref.indexOf('@');
  const name = at >= 0 ? ref.slice(0, at) : ref;
  const slash = name.indexOf('/');
  const colon = name.lastIndexOf(':');
  const tagged = colon > slash;
  const repository = tagged ? name.slice(0, colon) : name;
  return {
    image: ref,
    resolvedImage: `${repository}@${digest}`,
    registry: slash >= 0 ? repository.slice(0, slash) : 'docker.io',
    repository: slash >= 0 ? repository.slice(slash + 1) : repository,
    identifier: at >= 0 ? ref.slice(at + 1) : tagged ? name.slice(colon + 1) : digest,
  };
}
