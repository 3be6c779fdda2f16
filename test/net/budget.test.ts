import { describe, expect, it } from 'vitest';
import { capsForMemory, LOG_BUDGET, PRESENT_CAPS } from '../../src/net/budget.ts';

const MiB = 1024 * 1024;

describe('capsForMemory: the memory-bound caps follow the memory limit', () => {
  it('no limit (undefined, 0, the 2^64 a cgroup without one reports, NaN): the present caps', () => {
    for (const none of [undefined, 0, 18446744073709552000, Number.NaN, -1]) expect(capsForMemory(none)).toEqual(PRESENT_CAPS);
    expect(PRESENT_CAPS).toEqual({ runBytes: LOG_BUDGET.maxBytes, responseBytes: 16 * MiB, manifestBytes: 4 * MiB, blobBytes: 16 * MiB });
    expect(LOG_BUDGET.maxBytes).toBe(64 * MiB);
  });

  it("at the Task's 256 MiB and above: the present caps, never more", () => {
    for (const mi of [256, 512, 24 * 1024]) expect(capsForMemory(mi * MiB)).toEqual(PRESENT_CAPS);
  });

  it('at 128 MiB: a quarter of it for the run, a sixteenth for a response or a blob, a 32nd for a manifest', () => {
    expect(capsForMemory(128 * MiB)).toEqual({ runBytes: 32 * MiB, responseBytes: 8 * MiB, manifestBytes: 4 * MiB, blobBytes: 8 * MiB });
    expect(capsForMemory(96 * MiB)).toEqual({ runBytes: 24 * MiB, responseBytes: 6 * MiB, manifestBytes: 3 * MiB, blobBytes: 6 * MiB });
  });

  it('whole KiB, never below 256 KiB, never above the present caps, never growing as the limit shrinks', () => {
    let last = PRESENT_CAPS;
    for (let limit = 512 * MiB; limit > 0; limit = Math.floor(limit * 0.87)) {
      const caps = capsForMemory(limit);
      for (const k of Object.keys(PRESENT_CAPS) as (keyof typeof PRESENT_CAPS)[]) {
        expect(caps[k] % 1024, `${k} at ${limit}`).toBe(0);
        expect(caps[k]).toBeGreaterThanOrEqual(256 * 1024);
        expect(caps[k]).toBeLessThanOrEqual(PRESENT_CAPS[k]);
        expect(caps[k]).toBeLessThanOrEqual(last[k]);
      }
      last = caps;
    }
    expect(capsForMemory(1)).toEqual({ runBytes: 256 * 1024, responseBytes: 256 * 1024, manifestBytes: 256 * 1024, blobBytes: 256 * 1024 });
  });
});
