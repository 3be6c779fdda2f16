import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { mapLimit } from '../../src/net/concurrency.ts';

describe('mapLimit', () => {
  it('keeps the order of the items and never exceeds the limit', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const out = await mapLimit([50, 10, 30, 5, 20, 1, 15], 3, async (ms, i) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await sleep(ms);
      inFlight--;
      return `${i}:${ms}`;
    });
    expect(out).toEqual(['0:50', '1:10', '2:30', '3:5', '4:20', '5:1', '6:15']);
    expect(maxInFlight).toBe(3);
  });

  it('handles an empty list and a limit above the item count', async () => {
    expect(await mapLimit([], 4, async () => 1)).toEqual([]);
    expect(await mapLimit([1, 2], 10, async (x) => x * 2)).toEqual([2, 4]);
  });

  it('starts nothing new after a failure and rejects with the first error once in-flight calls settle', async () => {
    const started: number[] = [];
    let settled = 0;
    const p = mapLimit([0, 1, 2, 3, 4, 5], 2, async (x) => {
      started.push(x);
      await sleep(x === 0 ? 5 : 30);
      settled++;
      if (x === 0) throw new Error('first');
      if (x === 1) throw new Error('second');
      return x;
    });
    await expect(p).rejects.toThrow('first');
    expect(started).toEqual([0, 1]);
    expect(settled).toBe(2);
  });

  it('rejects a limit that is not a positive integer', async () => {
    await expect(mapLimit([1], 0, async (x) => x)).rejects.toThrow(RangeError);
  });
});
