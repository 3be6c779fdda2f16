import { describe, expect, it } from 'vitest';
import { platformsOf, selectPlatforms } from '../../src/registry/platforms.ts';
import type { Descriptor } from '../../src/registry/schemas.ts';

const m = (n: number, platform?: Record<string, unknown>, annotations?: Record<string, string>): Descriptor => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${String(n).repeat(64).slice(0, 64)}`,
  size: 1,
  ...(platform ? { platform } : {}),
  ...(annotations ? { annotations } : {}),
});
const ATTESTATION = { 'vnd.docker.reference.type': 'attestation-manifest' };
const index = (...manifests: Descriptor[]) => ({ schemaVersion: 2 as const, manifests });

describe('the manifests of an index a runtime could pull', () => {
  it('every one is listed, named when it can be; only BuildKit attestation manifests (the annotation and unknown/unknown) are left out', () => {
    const listed = platformsOf(
      index(
        m(1, { os: 'linux', architecture: 'amd64' }),
        m(2, { os: 'linux', architecture: 'arm64', variant: 'v8' }),
        m(3, { os: 'unknown', architecture: 'unknown' }, ATTESTATION),
        m(4, { os: 'linux', architecture: 'amd64' }, ATTESTATION),
        m(5),
        m(6, { os: 'linux', architecture: 'AMD 64\n' }),
        m(7, { os: 'linux', architecture: 'amd64' }),
        m(8, { os: 'Linux', architecture: 'AMD64' }),
        m(9, { os: 'unknown', architecture: 'unknown' }),
      ),
    );
    expect(listed.map((p) => [p.platform, p.digest[7]])).toEqual([
      ['linux/amd64', '1'],
      ['linux/arm64/v8', '2'],
      ['linux/amd64 (manifests[3])', '4'],
      ['manifests[4] (no platform)', '5'],
      ['manifests[5] (platform not readable)', '6'],
      ['linux/amd64 (manifests[6])', '7'],
      ['linux/amd64 (manifests[7])', '8'],
      ['unknown/unknown', '9'],
    ]);
    expect(selectPlatforms(listed, { all: true }).selected).toEqual(listed);
  });

  it('a platform named is matched as containerd matches it: normalized (case, arch aliases, default variants), the first match, else a manifest with no platform', () => {
    const listed = platformsOf(
      index(
        m(1, { os: 'Linux', architecture: 'x86_64' }),
        m(2, { os: 'linux', architecture: 'aarch64', variant: 'V8' }),
        m(3, { os: 'linux', architecture: 'amd64' }),
        m(4, { os: 'linux', architecture: 'arm' }),
        m(5),
      ),
    );
    const pick = (names: string[]) => {
      const r = selectPlatforms(listed, { all: false, names });
      return { selected: r.selected.map((p) => p.digest[7]), missing: r.missing };
    };
    expect(pick(['linux/amd64'])).toEqual({ selected: ['1'], missing: [] });
    expect(pick(['linux/arm64'])).toEqual({ selected: ['2'], missing: [] });
    expect(pick(['linux/arm64/v8'])).toEqual({ selected: ['2'], missing: [] });
    expect(pick(['linux/arm/v7'])).toEqual({ selected: ['4'], missing: [] });
    // no manifest for s390x: a runtime falls back to the one with no platform, so that one is verified
    expect(pick(['linux/s390x', 'linux/amd64'])).toEqual({ selected: ['5', '1'], missing: [] });
    const noFallback = platformsOf(index(m(1, { os: 'linux', architecture: 'amd64' })));
    expect(selectPlatforms(noFallback, { all: false, names: ['linux/s390x'] })).toEqual({ selected: [], missing: ['linux/s390x'] });
  });

  it('more than 64 manifests: refused', () => {
    const manifests = Array.from({ length: 65 }, (_, i) => m(1, { os: 'linux', architecture: `a${i}` }));
    expect(() => platformsOf({ schemaVersion: 2, manifests })).toThrow(/more than 64/);
  });
});
