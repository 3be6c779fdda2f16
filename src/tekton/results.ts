import { accessSync, constants, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GateError } from '../errors.ts';
import type { Verdict } from '../verify/types.ts';

/** The result files rekor-gate writes (the Task declares exactly these). */
export const RESULT_NAMES = [
  'VERIFIED',
  'REKOR_UUID',
  'REKOR_LOG_INDEX',
  'REKOR_INTEGRATED_TIME',
  'REKOR_LOG_URL',
  'PREDICATE_TYPE',
  'SIGNER',
  'BUILDER_ID',
  'REPORT',
] as const;
export type ResultName = (typeof RESULT_NAMES)[number];

/** Tekton carries results in the container's termination message, capped at 4096 bytes in all. */
export const TERMINATION_MESSAGE_LIMIT = 4096;
/** Room kept for what Tekton adds to the message beside our results (step start time, other entries). */
const TEKTON_OVERHEAD = 256;

/** Size of the results as Tekton encodes them in the termination message: [{"key","value","type"}...]. */
export function terminationMessageSize(results: Readonly<Record<string, string>>): number {
  const entries = Object.entries(results).map(([key, value]) => ({ key, value, type: 1 }));
  return Buffer.byteLength(JSON.stringify(entries));
}

type ReportCandidate = { id: string; idx?: number; src: string; st: string; check?: string; code?: string };

function compactReport(v: Verdict, maxCandidates: number): string {
  const shown: ReportCandidate[] = v.candidates.slice(0, maxCandidates).map((c) => ({
    id: c.uuid.slice(-12),
    ...(c.logIndex !== undefined ? { idx: c.logIndex } : {}),
    src: c.sources.join('+'),
    st: c.status,
    ...(c.check && c.status !== 'passed' ? { check: c.check, code: c.code } : {}),
  }));
  return JSON.stringify({
    verified: v.verified,
    digest: v.imageDigest,
    ...(v.accepted ? { accepted: { uuid: v.accepted.uuid, logIndex: v.accepted.logIndex, sources: v.accepted.sources, from: v.accepted.attestationFrom } } : {}),
    ...(v.reason ? { reason: v.reason.slice(0, 300) } : {}),
    total: v.candidates.length,
    candidates: shown,
    ...(shown.length < v.candidates.length ? { truncated: v.candidates.length - shown.length } : {}),
  });
}

/** The result values for a verdict (or for a failure before any verdict), REPORT shrunk to fit the budget. */
export function resultValues(v: Verdict | { error: string; imageDigest?: string }): Record<ResultName, string> {
  if ('error' in v) {
    const base = emptyResults();
    base.REPORT = JSON.stringify({ verified: false, ...(v.imageDigest ? { digest: v.imageDigest } : {}), error: v.error.slice(0, 1500) });
    return base;
  }
  const a = v.accepted;
  const base: Record<ResultName, string> = {
    VERIFIED: v.verified ? 'true' : 'false',
    REKOR_UUID: a?.uuid ?? '',
    REKOR_LOG_INDEX: a?.logIndex !== undefined ? String(a.logIndex) : '',
    REKOR_INTEGRATED_TIME: a?.integratedTime !== undefined ? String(a.integratedTime) : '',
    REKOR_LOG_URL: a?.entryUrl ?? '',
    PREDICATE_TYPE: (a?.predicateType ?? '').slice(0, 256),
    SIGNER: (a?.signer ?? '').slice(0, 512),
    BUILDER_ID: (a?.builderId ?? '').slice(0, 512),
    REPORT: '',
  };
  let n = v.candidates.length;
  for (;;) {
    base.REPORT = compactReport(v, n);
    if (terminationMessageSize(base) <= TERMINATION_MESSAGE_LIMIT - TEKTON_OVERHEAD || n === 0) break;
    n = n > 16 ? Math.floor(n / 2) : n - 1;
  }
  return base;
}

function emptyResults(): Record<ResultName, string> {
  return Object.fromEntries(RESULT_NAMES.map((n) => [n, n === 'VERIFIED' ? 'false' : ''])) as Record<ResultName, string>;
}

/** Fails early (exit 2) when the results directory cannot be written, before any work is done. */
export function checkResultsDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw new GateError('BAD_RESULTS_DIR', `--results-dir ${dir} cannot be written: ${(err as Error).message}`);
  }
}

/** Writes every result file; each is written whole (temp file, then rename). */
export function writeResults(dir: string, values: Readonly<Record<ResultName, string>>): void {
  for (const name of RESULT_NAMES) {
    const file = path.join(dir, name);
    const tmp = path.join(dir, `.${name}.tmp`);
    writeFileSync(tmp, values[name]);
    renameSync(tmp, file);
  }
}
