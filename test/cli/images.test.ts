import { describe, expect, it } from 'vitest';
import { parseImagesList } from '../../src/cli/images-command.ts';
import { manyResultValues } from '../../src/tekton/many-results.ts';
import { terminationMessageSize } from '../../src/tekton/results.ts';
import { manyExitCode, summarise, type ImageOutcome } from '../../src/verify/many.ts';

const d = (c: string) => `sha256:${c.repeat(64)}`;

describe('--images (Chains IMAGES)', () => {
  it('comma- and newline-separated REF@sha256 items; blanks and repeats dropped', () => {
    const list = parseImagesList(`r.test/a@${d('a')},\nr.test/b:v1@${d('b')}\n\nr.test/a@${d('a')}\n`);
    expect(list.map((s) => [s.imageUrl, s.digest.value])).toEqual([
      [`r.test/a@${d('a')}`, d('a')],
      [`r.test/b:v1@${d('b')}`, d('b')],
    ]);
  });

  it('an item without a digest, an upper-case digest, an empty list: refused', () => {
    expect(() => parseImagesList('r.test/a:latest')).toThrow(/is not REF@sha256/);
    expect(() => parseImagesList(`r.test/a@sha256:${'A'.repeat(64)}`)).toThrow(/is not REF@sha256/);
    expect(() => parseImagesList(' ,\n')).toThrow(/--images is empty/);
  });
});

describe('several verdicts', () => {
  const failed = (i: number): Extract<ImageOutcome, { code: string }> => ({ imageUrl: `r.test/app-${i}@${d('c')}`, imageDigest: d('c'), status: 'error', code: 'TAG_DIGEST_MISMATCH', reason: 'x'.repeat(900) });
  it('exit 3 when any image could not be checked, else 1 when any failed, 0 when all passed', () => {
    const unreachable: ImageOutcome = { ...failed(0), status: 'unreachable', code: 'NETWORK' };
    expect(manyExitCode(summarise([failed(1), unreachable]))).toBe(3);
    expect(manyExitCode(summarise([failed(1)]))).toBe(1);
    expect(summarise([]).verified).toBe(false);
  });

  it('REPORT for 200 failures stays within the budget, counts whole, lines cut', () => {
    for (const budget of [4096, 2048]) {
      const v = manyResultValues(summarise(Array.from({ length: 200 }, (_, i) => failed(i))), budget);
      expect(terminationMessageSize(v)).toBeLessThanOrEqual(budget - 256);
      const report = JSON.parse(v.REPORT);
      expect(report).toMatchObject({ verified: false, total: 200, failed: 200 });
      expect(report.truncated).toBeGreaterThan(0);
    }
  });
});
