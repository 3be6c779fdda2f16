import { describe, expect, it } from 'vitest';
import { GateError } from '../../src/errors.ts';
import { isLoopbackHostname } from '../../src/net/loopback.ts';
import { apiHost, hostnameOf, parseImageRef } from '../../src/registry/reference.ts';

const D = `sha256:${'ab'.repeat(32)}`;

describe('parseImageRef', () => {
  it.each([
    ['alpine', { registry: 'docker.io', repository: 'library/alpine' }],
    ['alpine:3.20', { registry: 'docker.io', repository: 'library/alpine', tag: '3.20' }],
    ['tekton/app', { registry: 'docker.io', repository: 'tekton/app' }],
    ['docker.io/alpine', { registry: 'docker.io', repository: 'library/alpine' }],
    ['index.docker.io/library/alpine', { registry: 'docker.io', repository: 'library/alpine' }],
    ['ghcr.io/org/team/app:v1', { registry: 'ghcr.io', repository: 'org/team/app', tag: 'v1' }],
    ['127.0.0.1:5000/app', { registry: '127.0.0.1:5000', repository: 'app' }],
    ['localhost/app:t', { registry: 'localhost', repository: 'app', tag: 't' }],
    ['localhost:5000/a/b:t', { registry: 'localhost:5000', repository: 'a/b', tag: 't' }],
    [`[::1]:5000/app@${D}`, { registry: '[::1]:5000', repository: 'app', digest: D }],
    [`Registry.Example.com:443/x/y:t@${D}`, { registry: 'registry.example.com:443', repository: 'x/y', tag: 't', digest: D }],
    ['reg.io/a__b/c-d.e_f', { registry: 'reg.io', repository: 'a__b/c-d.e_f' }],
  ])('%s', (input, expected) => {
    expect(parseImageRef(input)).toEqual(expected);
  });

  it.each([
    ['', 'empty'],
    ['https://ghcr.io/app', 'scheme'],
    ['ghcr.io/App', 'lower-case'],
    ['ghcr.io/app:', 'tag'],
    ['ghcr.io/app@sha256:abc', 'digest'],
    [`ghcr.io/app@md5:${'a'.repeat(32)}`, 'digest'],
    ['ghcr.io/', 'no repository'],
    ['ghcr.io/a//b', 'repository component'],
    ['ghcr.io/-a', 'repository component'],
    ['[12:34]:5000/app', 'IPv6'],
    ['[zz]:5000/app', 'registry host'],
    ['a b', 'white space'],
  ])('rejects %j', (input, why) => {
    let err: unknown;
    try {
      parseImageRef(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GateError);
    expect((err as GateError).code).toBe('BAD_IMAGE_REF');
    expect((err as GateError).message).toContain(why);
  });
});

describe('hosts', () => {
  it('maps Docker Hub to its API host', () => {
    expect(apiHost('docker.io')).toBe('registry-1.docker.io');
    expect(apiHost('ghcr.io')).toBe('ghcr.io');
  });
  it('strips ports and brackets', () => {
    expect(hostnameOf('127.0.0.1:5000')).toBe('127.0.0.1');
    expect(hostnameOf('[::1]:5000')).toBe('::1');
    expect(hostnameOf('ghcr.io')).toBe('ghcr.io');
  });
  it.each([
    ['localhost', true],
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['::1', true],
    ['[::1]', true],
    ['::ffff:127.0.0.1', true],
    ['128.0.0.1', false],
    ['10.0.0.1', false],
    ['192.168.1.1', false],
    ['registry.example.com', false],
    ['localhost.example.com', false],
    ['::2', false],
  ])('loopback(%s) = %s', (h, expected) => {
    expect(isLoopbackHostname(h)).toBe(expected);
  });
});
