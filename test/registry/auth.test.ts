import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GateError } from '../../src/errors.ts';
import {
  credentialsFor,
  loadDockerConfig,
  loadDockerConfigFromEnv,
  normalizeRegistryKey,
  parseDockerConfig,
  parseWwwAuthenticate,
} from '../../src/registry/auth.ts';
import { codeOf } from '../fixtures/errors.ts';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rekor-gate-auth-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Docker config files', () => {
  it('reads config.json from the directory (DOCKER_CONFIG, as a Tekton dockerconfig workspace)', async () => {
    const d = path.join(dir, 'ws1');
    await mkdir(d);
    await writeFile(path.join(d, 'config.json'), JSON.stringify({ auths: { 'ghcr.io': { auth: b64('u:p') } } }));
    const config = await loadDockerConfigFromEnv({ DOCKER_CONFIG: d, HOME: '/nonexistent' });
    expect(config?.path).toBe(path.join(d, 'config.json'));
    expect(credentialsFor(config, 'ghcr.io')).toEqual({ kind: 'basic', username: 'u', password: 'p' });
  });

  it('falls back to .dockerconfigjson (a kubernetes.io/dockerconfigjson Secret mounted as a workspace)', async () => {
    const d = path.join(dir, 'ws2');
    await mkdir(d);
    await writeFile(path.join(d, '.dockerconfigjson'), JSON.stringify({ auths: { 'quay.io': { username: 'u', password: 'p' } } }));
    const config = await loadDockerConfig(d);
    expect(credentialsFor(config, 'quay.io')).toEqual({ kind: 'basic', username: 'u', password: 'p' });
  });

  it('uses $HOME/.docker without DOCKER_CONFIG, and is undefined when there is no file', async () => {
    const home = path.join(dir, 'home');
    await mkdir(path.join(home, '.docker'), { recursive: true });
    await writeFile(path.join(home, '.docker', 'config.json'), '{"auths":{}}');
    expect((await loadDockerConfigFromEnv({ HOME: home }))?.path).toBe(path.join(home, '.docker', 'config.json'));
    expect(await loadDockerConfig(path.join(dir, 'missing'))).toBeUndefined();
    expect(await loadDockerConfigFromEnv({})).toBeUndefined();
  });

  it('rejects malformed files without repeating their content', async () => {
    const d = path.join(dir, 'bad');
    await mkdir(d);
    await writeFile(path.join(d, 'config.json'), '{"auths":{"x":{"auth":"c2VjcmV0OnMzY3IzdA=="}}');
    const err = await loadDockerConfig(d).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GateError);
    expect((err as GateError).code).toBe('BAD_DOCKER_CONFIG');
    expect((err as GateError).message).not.toContain('c2VjcmV0');
    expect(codeOf(() => parseDockerConfig('{"auths":{"x":{"auth":5}}}', 'f'))).toBe('BAD_DOCKER_CONFIG');
    expect(codeOf(() => parseDockerConfig('[]', 'f'))).toBe('BAD_DOCKER_CONFIG');
  });
});

describe('credential lookup', () => {
  const config = parseDockerConfig(
    JSON.stringify({
      auths: {
        'https://index.docker.io/v1/': { auth: b64('hubuser:hub:pass') },
        'http://127.0.0.1:5000/v2/': { username: 'local', password: 'pw' },
        'registry.example.com': { auth: b64('a:b'), username: 'ignored', password: 'ignored' },
        'https://registry.example.com': { auth: b64('url:form') },
        'acr.example.io': { auth: b64('00000000-0000-0000-0000-000000000000:'), identitytoken: 'refresh' },
        'tok.example.io': { registrytoken: 'bearer-value' },
        'empty.example.io': {},
        'broken.example.io': { auth: b64('nocolon') },
        'half.example.io': { username: 'u' },
      },
    }),
    'config.json',
  );

  it('matches Docker Hub through its URL key and aliases, splitting auth at the first colon', () => {
    for (const host of ['docker.io', 'index.docker.io', 'registry-1.docker.io']) {
      expect(credentialsFor(config, host)).toEqual({ kind: 'basic', username: 'hubuser', password: 'hub:pass' });
    }
  });
  it('matches a URL key by host:port, and takes username/password when there is no auth', () => {
    expect(credentialsFor(config, '127.0.0.1:5000')).toEqual({ kind: 'basic', username: 'local', password: 'pw' });
    expect(credentialsFor(config, '127.0.0.1:5001')).toBeUndefined();
    expect(credentialsFor(config, '127.0.0.1')).toBeUndefined();
  });
  it('prefers the exact host key, and auth over username/password', () => {
    expect(credentialsFor(config, 'registry.example.com')).toEqual({ kind: 'basic', username: 'a', password: 'b' });
  });
  it('knows identity and registry tokens', () => {
    expect(credentialsFor(config, 'acr.example.io')).toEqual({ kind: 'identity-token', token: 'refresh', username: '00000000-0000-0000-0000-000000000000' });
    expect(credentialsFor(config, 'tok.example.io')).toEqual({ kind: 'registry-token', token: 'bearer-value' });
  });
  it('is anonymous for unknown hosts and empty entries; rejects broken entries', () => {
    expect(credentialsFor(config, 'ghcr.io')).toBeUndefined();
    expect(credentialsFor(config, 'empty.example.io')).toBeUndefined();
    expect(credentialsFor(undefined, 'ghcr.io')).toBeUndefined();
    expect(codeOf(() => credentialsFor(config, 'broken.example.io'))).toBe('BAD_DOCKER_CONFIG');
    expect(codeOf(() => credentialsFor(config, 'half.example.io'))).toBe('BAD_DOCKER_CONFIG');
  });
  it('normalizes keys', () => {
    expect(normalizeRegistryKey('HTTPS://GHCR.IO/v2/')).toBe('ghcr.io');
    expect(normalizeRegistryKey('localhost:5000')).toBe('localhost:5000');
    expect(normalizeRegistryKey('registry.hub.docker.com')).toBe('docker.io');
  });
});

describe('WWW-Authenticate', () => {
  it('parses a distribution Bearer challenge', () => {
    expect(parseWwwAuthenticate(['Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push"'])).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:samalba/my-app:pull,push' } },
    ]);
  });
  it('parses several challenges, unquoted values and escapes', () => {
    expect(parseWwwAuthenticate(['Basic realm="a \\"b\\"", Bearer realm=https://x/t, error="insufficient_scope"', 'Negotiate'])).toEqual([
      { scheme: 'basic', params: { realm: 'a "b"' } },
      { scheme: 'bearer', params: { realm: 'https://x/t', error: 'insufficient_scope' } },
      { scheme: 'negotiate', params: {} },
    ]);
  });
  it('survives garbage', () => {
    expect(parseWwwAuthenticate(['', ',,', '"'])).toEqual([]);
  });
});
