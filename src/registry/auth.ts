import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { GateError, errorMessage } from '../errors.ts';
import { validateDockerConfig, schemaError, type DockerConfigFile } from './schemas.ts';
import { DOCKER_HUB } from './reference.ts';

/**
 * Registry credentials from a Docker `config.json` (the file `docker login` writes, and what Tekton's
 * `dockerconfig` workspace mounts with `DOCKER_CONFIG` pointing at it), and the parsing of
 * `WWW-Authenticate` challenges. Credential values never appear in messages.
 */

export type Credentials =
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  /** OAuth2 refresh token (`identitytoken`, e.g. Azure), exchanged at the token endpoint. */
  | { readonly kind: 'identity-token'; readonly username?: string; readonly token: string }
  /** A bearer token sent as is (`registrytoken`). */
  | { readonly kind: 'registry-token'; readonly token: string };

export type DockerConfig = {
  /** The file read (for messages). */
  readonly path: string;
  readonly file: DockerConfigFile;
};

/** File names looked for in a Docker config directory: docker's, then a `kubernetes.io/dockerconfigjson` Secret's key. */
const CONFIG_NAMES = ['config.json', '.dockerconfigjson'];

/**
 * Reads `<dir>/config.json` (or `<dir>/.dockerconfigjson`, the key of a Secret of type
 * `kubernetes.io/dockerconfigjson` mounted as a workspace). Undefined when neither exists.
 */
export async function loadDockerConfig(dir: string): Promise<DockerConfig | undefined> {
  for (const name of CONFIG_NAMES) {
    const file = path.join(dir, name);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      throw new GateError('BAD_DOCKER_CONFIG', `cannot read Docker config ${file}: ${errorMessage(err)}`, { cause: err });
    }
    return parseDockerConfig(text, file);
  }
  return undefined;
}

/** `$DOCKER_CONFIG`, else `$HOME/.docker` (docker's rule). The caller passes the environment. */
export async function loadDockerConfigFromEnv(env: Readonly<Record<string, string | undefined>>): Promise<DockerConfig | undefined> {
  const dir = env['DOCKER_CONFIG'] || (env['HOME'] ? path.join(env['HOME'], '.docker') : undefined);
  return dir === undefined ? undefined : loadDockerConfig(dir);
}

export function parseDockerConfig(text: string, source: string): DockerConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // The JSON parser's message may quote the file's text, hence credentials: not repeated here.
    throw new GateError('BAD_DOCKER_CONFIG', `Docker config ${source} is not valid JSON`);
  }
  if (!validateDockerConfig(json)) {
    throw new GateError('BAD_DOCKER_CONFIG', `Docker config ${source}: ${schemaError(validateDockerConfig)}`);
  }
  return { path: source, file: json };
}

const HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

/**
 * The registry host a config key names: keys are written as a host (`ghcr.io`, `127.0.0.1:5000`) or as a
 * URL (`https://index.docker.io/v1/`, `http://127.0.0.1:5000`); Docker Hub's aliases become `docker.io`.
 */
export function normalizeRegistryKey(key: string): string {
  let host = key.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const slash = host.indexOf('/');
  if (slash >= 0) host = host.slice(0, slash);
  host = host.toLowerCase();
  return HUB_ALIASES.has(host) ? DOCKER_HUB : host;
}

/** The credentials for `registry` (`host[:port]` as in an ImageRef), or undefined (anonymous). */
export function credentialsFor(config: DockerConfig | undefined, registry: string): Credentials | undefined {
  const auths = config?.file.auths;
  if (!config || !auths) return undefined;
  const target = normalizeRegistryKey(registry);
  const keys = Object.keys(auths);
  // An exact key first, then any key naming the same host (as a URL, or a Hub alias).
  const key = keys.find((k) => k === registry) ?? keys.find((k) => normalizeRegistryKey(k) === target);
  if (key === undefined) return undefined;
  const entry = auths[key] ?? {};
  if (entry.registrytoken) return { kind: 'registry-token', token: entry.registrytoken };
  let username = entry.username;
  let password = entry.password;
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) {
      throw new GateError('BAD_DOCKER_CONFIG', `Docker config ${config.path}: "auth" of "${key}" is not base64 of user:password`);
    }
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  }
  if (entry.identitytoken) return { kind: 'identity-token', token: entry.identitytoken, ...(username ? { username } : {}) };
  if (username === undefined && password === undefined) return undefined;
  if (!username || password === undefined) {
    throw new GateError('BAD_DOCKER_CONFIG', `Docker config ${config.path}: "${key}" has a username without a password, or the reverse`);
  }
  return { kind: 'basic', username, password };
}

export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

export type Challenge = { readonly scheme: string; readonly params: Readonly<Record<string, string>> };

/**
 * Parses `WWW-Authenticate` values (RFC 9110 section 11.6.1): one or more challenges, each a scheme
 * followed by comma-separated `name=token` / `name="quoted string"` parameters (or a token68).
 */
export function parseWwwAuthenticate(values: readonly string[]): Challenge[] {
  const out: { scheme: string; params: Record<string, string> }[] = [];
  for (const value of values) {
    let i = 0;
    const s = value;
    const skipWs = (): void => {
      while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
    };
    const token = (): string => {
      const m = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/.exec(s.slice(i));
      if (!m) return '';
      i += m[0].length;
      return m[0];
    };
    let current: { scheme: string; params: Record<string, string> } | undefined;
    while (i < s.length) {
      skipWs();
      if (s[i] === ',') {
        i++;
        continue;
      }
      const start = i;
      const name = token();
      if (!name) {
        i++; // skip a stray character
        continue;
      }
      skipWs();
      if (s[i] === '=' && current) {
        i++;
        skipWs();
        let val = '';
        if (s[i] === '"') {
          i++;
          while (i < s.length && s[i] !== '"') {
            if (s[i] === '\\' && i + 1 < s.length) i++;
            val += s[i];
            i++;
          }
          i++; // closing quote
        } else {
          const m = /^[^,\s]*/.exec(s.slice(i));
          val = m ? m[0] : '';
          i += val.length;
        }
        current.params[name.toLowerCase()] = val;
        continue;
      }
      // A new challenge: the scheme, possibly followed by a token68 (`Basic abc==`).
      i = start + name.length;
      current = { scheme: name.toLowerCase(), params: {} };
      out.push(current);
    }
  }
  return out;
}
