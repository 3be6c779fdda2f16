import { isIP } from 'node:net';
import { GateError } from '../errors.ts';

/**
 * A parsed image reference (`[host[:port]/]path[:tag][@digest]`), following the grammar of
 * distribution's `reference` package and its Docker Hub defaults (`alpine` -> `docker.io/library/alpine`).
 */
export type ImageRef = {
  /** `host[:port]` as written (lower-cased), `docker.io` for Docker Hub; IPv6 in brackets. */
  readonly registry: string;
  /** Repository path, e.g. `library/alpine`, `tekton/app`. */
  readonly repository: string;
  readonly tag?: string;
  /** `sha256:<64 hex>` or `sha512:<128 hex>` */
  readonly digest?: string;
};

/** What the client needs to address a repository: an ImageRef satisfies it. */
export type RepositoryRef = Pick<ImageRef, 'registry' | 'repository'>;

export const DOCKER_HUB = 'docker.io';
/** Where Docker Hub's distribution API lives (`docker.io` itself only redirects to the website). */
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io';

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_RE = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]{1,5})?$`);
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^(?:sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/;
const NAME_MAX = 255;

function bad(input: string, why: string): GateError {
  return new GateError('BAD_IMAGE_REF', `image reference "${input.slice(0, 300)}" is not valid: ${why}`);
}

export function parseImageRef(input: string): ImageRef {
  if (input.length === 0) throw bad(input, 'it is empty');
  if (/\s/.test(input)) throw bad(input, 'it contains white space');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(input)) throw bad(input, 'a reference has no scheme (drop "http(s)://")');

  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) throw bad(input, `digest "${digest.slice(0, 150)}" is not sha256:<64 hex> or sha512:<128 hex>`);
  }

  // A tag follows the last ':' that comes after the last '/' (a ':' before it is a port).
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.indexOf(':', lastSlash + 1);
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw bad(input, `tag "${tag.slice(0, 150)}" is not valid`);
  }

  let registry = DOCKER_HUB;
  let path = rest;
  const firstSlash = rest.indexOf('/');
  if (firstSlash >= 0) {
    const first = rest.slice(0, firstSlash);
    // distribution's rule: the first component is a host when it has a '.', a ':' or is "localhost"
    // (or has upper-case letters, which a path component cannot have).
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('[') || first !== first.toLowerCase()) {
      if (!DOMAIN_RE.test(first)) throw bad(input, `registry host "${first.slice(0, 150)}" is not valid`);
      registry = first.toLowerCase();
      path = rest.slice(firstSlash + 1);
    }
  }
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DOCKER_HUB;
  if (registry.startsWith('[')) {
    const host = hostnameOf(registry);
    if (isIP(host) !== 6) throw bad(input, `"${host}" is not an IPv6 address`);
  }

  if (path.length === 0) throw bad(input, 'it names no repository');
  for (const component of path.split('/')) {
    if (!PATH_COMPONENT_RE.test(component)) {
      throw bad(input, `repository component "${component.slice(0, 150)}" must be lower-case letters and digits separated by ".", "_", "__" or "-"`);
    }
  }
  if (registry === DOCKER_HUB && !path.includes('/')) path = `library/${path}`;
  if (registry.length + 1 + path.length > NAME_MAX) throw bad(input, `the name is longer than ${NAME_MAX} characters`);

  const ref: { registry: string; repository: string; tag?: string; digest?: string } = { registry, repository: path };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** `host/repo` */
export function repositoryName(ref: RepositoryRef): string {
  return `${ref.registry}/${ref.repository}`;
}

/** The `host[:port]` that serves the distribution API for a registry name. */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_API_HOST : registry;
}

/** The host without port and without IPv6 brackets. */
export function hostnameOf(hostPort: string): string {
  if (hostPort.startsWith('[')) {
    const end = hostPort.indexOf(']');
    return end > 0 ? hostPort.slice(1, end) : hostPort;
  }
  const colon = hostPort.lastIndexOf(':');
  return colon >= 0 ? hostPort.slice(0, colon) : hostPort;
}

