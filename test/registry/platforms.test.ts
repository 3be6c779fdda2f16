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

describe('platforms of an index', () => {
  it('os/arch[/variant]; attestation manifests (by annotation or unknown/unknown), descriptors without a platform, odd values and repeats are not platforms', () => {
    const listed = platformsOf({
      schemaVersion: 2,
      manifests: [
        m(1, { os: 'linux', architecture: 'amd64' }),
        m(2, { os: 'linux', architecture: 'arm64', variant: 'v8' }),
        m(3, { os: 'unknown', architecture: 'unknown' }),
        m(4, { os: 'linux', architecture: 'amd64' }, { 'vnd.docker.reference.type': 'attestation-manifest' }),
        m(5),
        m(6, { os: 'linux', architecture: 'AMD 64\n' }),
        m(7, { os: 'linux', architecture: 'amd64' }),
      ],
    });
    expect(listed.map((p) => [p.platform, p.digest[7]])).toEqual([
      ['linux/amd64', '1'],
      ['linux/arm64/v8', '2'],
    ]);
    expect(selectPlatforms(listed, { all: true }).selected).toHaveLength(2);
    expect(selectPlatforms(listed, { all: false, names: ['linux/arm64/v8', 'linux/s390x'] })).toEqual({ selected: [listed[1]], missing: ['linux/s390x'] });
  });

  it('more than 64 platforms: refused', () => {
    const manifests = Array.from({ length: 65 }, (_, i) => m(1, { os: 'linux', architecture: `a${i}` }));
    expect(() => platformsOf({ schemaVersion: 2, manifests })).toThrow(/more than 64/);
  });
});
