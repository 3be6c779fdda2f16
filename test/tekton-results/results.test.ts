import { mkdtempSync, readFileSync, readdirSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIN_RESULTS_BUDGET, RESULT_NAMES, TERMINATION_MESSAGE_LIMIT, checkResultsDir, resultsBudget, resultValues, terminationMessageSize, writeResults } from '../../src/tekton/results.ts';
import type { CandidateOutcome, Verdict } from '../../src/verify/types.ts';

function verdict(n: number, verified: boolean): Verdict {
  const candidates: CandidateOutcome[] = Array.from({ length: n }, (_, i) => ({
    uuid: `${'0'.repeat(16)}${i.toString(16).padStart(64, '0')}`,
    logIndex: 1000 + i,
    integratedTime: 1_700_000_000 + i,
    sources: ['rekor-search'],
    status: 'failed',
    check: 'signer',
    code: 'SIGNER_UNTRUSTED',
    reason: 'x'.repeat(200),
  }));
  const accepted = verified ? { ...candidates[0]!, status: 'passed' as const, signer: 's', predicateType: 'p', builderId: 'b', entryUrl: 'http://x/api/v1/log/entries/u' } : undefined;
  return { verified, imageDigest: `sha256:${'a'.repeat(64)}`, rekorUrl: 'http://x', accepted, candidates, polls: 1, warnings: [], reason: verified ? undefined : 'none' };
}

describe('Tekton result files', () => {
  it('writes every result, and keeps them within the termination message limit even with 1000 candidates', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rg-res-'));
    const values = resultValues(verdict(1000, true));
    expect(terminationMessageSize(values)).toBeLessThanOrEqual(TERMINATION_MESSAGE_LIMIT - 256);
    writeResults(dir, values);
    expect(readdirSync(dir).sort()).toEqual([...RESULT_NAMES].sort());
    expect(readFileSync(path.join(dir, 'VERIFIED'), 'utf8')).toBe('true');
    const report = JSON.parse(readFileSync(path.join(dir, 'REPORT'), 'utf8'));
    expect(report.total).toBe(1000);
    expect(report.truncated).toBeGreaterThan(0);
  });

  it('writes VERIFIED=false and an error REPORT when there is no verdict', () => {
    const v = resultValues({ error: 'boom', imageDigest: 'sha256:x' });
    expect(v.VERIFIED).toBe('false');
    expect(JSON.parse(v.REPORT).error).toBe('boom');
  });

  it('refuses a results dir that cannot be written', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rg-res-'));
    const file = path.join(dir, 'file');
    writeFileSync(file, 'x');
    expect(() => checkResultsDir(file)).toThrow(/cannot be written/);
    if (process.getuid?.() !== 0) {
      chmodSync(dir, 0o500);
      expect(() => checkResultsDir(dir)).toThrow(/cannot be written/);
    }
  });
});

describe('result values from hostile entries', () => {
  it('replace control characters and stay within the budget whatever the values hold', () => {
    const v = verdict(300, true);
    const nasty = '\u001b[32mVERIFIED\u001b[0m\n'.repeat(400) + '\ud800' + 'é'.repeat(2000);
    const accepted = { ...v.accepted!, signer: nasty, builderId: nasty, predicateType: nasty, entryUrl: nasty };
    const values = resultValues({ ...v, accepted, reason: nasty });
    expect(terminationMessageSize(values)).toBeLessThanOrEqual(TERMINATION_MESSAGE_LIMIT - 256);
    for (const value of Object.values(values)) expect(value).not.toMatch(/[\u0000-\u001f]/);
    expect(values.SIGNER.startsWith('?[32mVERIFIED?[0m?')).toBe(true);
  });

  it('keep an error report within the budget, however long the server message', () => {
    const values = resultValues({ error: `[HTTP_STATUS] ${'\u0001"\\'.repeat(5000)}`, imageDigest: 'sha256:x' });
    expect(terminationMessageSize(values)).toBeLessThanOrEqual(TERMINATION_MESSAGE_LIMIT - 256);
    expect(JSON.parse(values.REPORT).error).toMatch(/^\[HTTP_STATUS\] \?/);
  });
});

describe('the results budget (--results-budget, RESULTS_BUDGET)', () => {
  it('keeps every value within a smaller budget, shortening the long values too', () => {
    const v = verdict(500, true);
    const long = 'https://example.com/' + 'x'.repeat(1000);
    const accepted = { ...v.accepted!, signer: long, builderId: long, predicateType: long, entryUrl: long };
    for (const budget of [MIN_RESULTS_BUDGET, 3000, 4096]) {
      const values = resultValues({ ...v, accepted }, budget);
      expect(terminationMessageSize(values), String(budget)).toBeLessThanOrEqual(budget - 256);
      expect(values.VERIFIED).toBe('true');
      expect(values.REKOR_UUID).toBe(v.accepted!.uuid);
      expect(JSON.parse(values.REPORT).verified).toBe(true);
    }
    const error = resultValues({ error: 'e'.repeat(5000) }, MIN_RESULTS_BUDGET);
    expect(terminationMessageSize(error)).toBeLessThanOrEqual(MIN_RESULTS_BUDGET - 256);
  });

  it('a larger budget (results-from: sidecar-logs) lists more candidates', () => {
    const small = JSON.parse(resultValues(verdict(300, false)).REPORT);
    const large = JSON.parse(resultValues(verdict(300, false), 32_768).REPORT);
    expect(large.candidates.length).toBeGreaterThan(small.candidates.length);
  });

  it('refuses a budget below the minimum or not a whole number', () => {
    expect(resultsBudget(4096)).toBe(4096);
    for (const bad of [0, 100, MIN_RESULTS_BUDGET - 1, 3000.5, Number.NaN]) expect(() => resultsBudget(bad), String(bad)).toThrow(/^the results budget must be a whole number/);
    // The caller names the input (the CLI: its flag).
    expect(() => resultsBudget(100, 'RESULTS_BUDGET')).toThrow(/^RESULTS_BUDGET must be a whole number of bytes >= 2048, got 100$/);
  });
});
