import { accessSync, constants, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GateError } from '../errors.ts';
import { printable } from '../text.ts';
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
  'VSA_POLICY_DIGEST',
  'SIGNATURE_SIGNER',
  'REPORT',
] as const;
export type ResultName = (typeof RESULT_NAMES)[number];

/** Tekton carries results in the container's termination message, capped at 4096 bytes in all. */
export const TERMINATION_MESSAGE_LIMIT = 4096;
/** Room kept for what Tekton adds to the message beside our results (step start time, other entries). */
const TEKTON_OVERHEAD = 256;
/** The smallest --results-budget: room for the verdict, the entry and the signer, cut short, and a minimal REPORT. */
export const MIN_RESULTS_BUDGET = 2048;

/**
 * Checks the results budget: the bytes all results of the step may take in Tekton's termination message (4096 per
 * container; Kubernetes also shares 12 KiB among a pod's containers, so a Task with many steps gives each less).
 */
export function resultsBudget(bytes: number, label = 'the results budget'): number {
  if (!Number.isInteger(bytes) || bytes < MIN_RESULTS_BUDGET) {
    throw new GateError('USAGE', `${label} must be a whole number of bytes >= ${MIN_RESULTS_BUDGET}, got ${bytes}`);
  }
  return bytes;
}

/** Size of the results as Tekton encodes them in the termination message: [{"key","value","type"}...]. */
export function terminationMessageSize(results: Readonly<Record<string, string>>): number {
  const entries = Object.entries(results).map(([key, value]) => ({ key, value, type: 1 }));
  return Buffer.byteLength(JSON.stringify(entries));
}

type ReportCandidate = { role?: 'signature'; id: string; idx?: number; src: string; st: string; check?: string; code?: string };

/** Which image signature passed (its entry and where it was found), or that none did. */
function signatureReport(s: NonNullable<Verdict['signature']>): object {
  const a = s.accepted;
  if (!a) return { passed: false };
  return { passed: true, uuid: safeValue(a.uuid.slice(-64), 64), ...(a.logIndex !== undefined ? { logIndex: a.logIndex } : {}), src: a.sources.join('+') };
}

/** The admission policy's verdict: its failed requirements (rule, verifyImages entry, attestor or attestation, why), short. */
function admissionReport(a: NonNullable<Verdict['admission']>, room: number): object {
  const failed = a.outcomes.filter((o) => !o.passed);
  const shown = failed.slice(0, Math.max(1, Math.min(4, room)));
  return {
    verified: a.verified,
    passed: a.outcomes.length - failed.length,
    ...(shown.length > 0
      ? { failed: shown.map((o) => ({ rule: safeValue(o.rule || o.policy, 64), entry: o.entry, at: safeValue(o.at, 160), why: safeValue(o.reason ?? '', room > 4 ? 300 : 120) })) }
      : {}),
    ...(failed.length > shown.length ? { more: failed.length - shown.length } : {}),
  };
}

function compactReport(v: Verdict, maxCandidates: number): string {
  const shown: ReportCandidate[] = v.candidates.slice(0, maxCandidates).map((c) => ({
    ...(c.role ? { role: c.role } : {}),
    id: safeValue(c.uuid.slice(-12), 12),
    ...(c.logIndex !== undefined ? { idx: c.logIndex } : {}),
    src: c.sources.join('+'),
    st: c.status,
    ...(c.check && c.status !== 'passed' ? { check: c.check, code: c.code } : {}),
  }));
  return JSON.stringify({
    verified: v.verified,
    digest: v.imageDigest,
    ...(v.accepted
      ? {
          accepted: {
            uuid: v.accepted.uuid,
            logIndex: v.accepted.logIndex,
            sources: v.accepted.sources,
            from: v.accepted.attestationFrom,
            // Who checked the DSSE signature, when only the log did (an intoto 0.0.1 payload from its storage).
            ...(v.accepted.signatureCheckedBy === 'log' ? { sig: 'log' } : {}),
          },
        }
      : {}),
    ...(v.reason ? { reason: safeValue(v.reason, 300) } : {}),
    ...(v.summaryPolicy ? { vsaPolicy: safeValue(v.summaryPolicy.digest, 80) } : {}),
    ...(v.signature ? { signature: signatureReport(v.signature) } : {}),
    ...(v.admission ? { admission: admissionReport(v.admission, maxCandidates) } : {}),
    total: v.candidates.length,
    candidates: shown,
    ...(shown.length < v.candidates.length ? { truncated: v.candidates.length - shown.length } : {}),
  });
}

/**
 * A result value as it may be shown: control characters (which could fake lines in a log) replaced, and at most
 * `maxBytes` of UTF-8 (cut at a character boundary). Values come from entries the log or registry served.
 */
export function safeValue(text: string, maxBytes: number): string {
  let out = printable(text);
  while (Buffer.byteLength(out) > maxBytes) out = out.slice(0, Math.max(0, out.length - Math.max(1, Math.ceil((Buffer.byteLength(out) - maxBytes) / 4))));
  return out;
}

/** REPORT candidates to try, largest first, until the results fit: all, halves, ..., none. */
function* candidateCounts(total: number): Generator<number> {
  for (let n = total; n > 16; n = Math.floor(n / 2)) yield n;
  for (let n = Math.min(total, 16); n >= 0; n--) yield n;
}

/**
 * The result values for a verdict (or for a failure before any verdict), always within `budgetBytes` (default
 * 4096, Tekton's termination message) less what Tekton adds. A smaller budget shortens the long values too.
 */
export function resultValues(v: Verdict | { error: string; imageDigest?: string }, budgetBytes: number = TERMINATION_MESSAGE_LIMIT): Record<ResultName, string> {
  const BUDGET = budgetBytes - TEKTON_OVERHEAD;
  const scale = Math.min(1, BUDGET / (TERMINATION_MESSAGE_LIMIT - TEKTON_OVERHEAD));
  const cap = (bytes: number): number => Math.max(64, Math.floor(bytes * scale));
  const base = emptyResults();
  if ('error' in v) {
    // The error may quote a server's message: shortened until everything fits.
    for (let max = 1500; ; max = Math.floor(max / 2)) {
      base.REPORT = JSON.stringify({ verified: false, ...(v.imageDigest ? { digest: v.imageDigest } : {}), error: safeValue(v.error, max) });
      if (terminationMessageSize(base) <= BUDGET || max === 0) return base;
    }
  }
  const a = v.accepted;
  Object.assign(base, {
    VERIFIED: v.verified ? 'true' : 'false',
    REKOR_UUID: safeValue(a?.uuid ?? '', 128),
    REKOR_LOG_INDEX: a?.logIndex !== undefined ? String(a.logIndex) : '',
    REKOR_INTEGRATED_TIME: a?.integratedTime !== undefined ? String(a.integratedTime) : '',
    REKOR_LOG_URL: safeValue(a?.entryUrl ?? '', cap(512)),
    PREDICATE_TYPE: safeValue(a?.predicateType ?? '', cap(512)),
    SIGNER: safeValue(a?.signer ?? '', cap(512)),
    BUILDER_ID: safeValue(a?.builderId ?? '', cap(512)),
    VSA_POLICY_DIGEST: safeValue(v.summaryPolicy?.digest ?? '', 80),
    SIGNATURE_SIGNER: safeValue(v.signature?.accepted?.signer ?? '', cap(512)),
  });
  for (const n of candidateCounts(v.candidates.length)) {
    base.REPORT = compactReport(v, n);
    if (terminationMessageSize(base) <= BUDGET) return base;
  }
  base.REPORT = JSON.stringify({ verified: v.verified, digest: v.imageDigest, total: v.candidates.length, truncated: v.candidates.length });
  return base;
}

function emptyResults(): Record<ResultName, string> {
  return Object.fromEntries(RESULT_NAMES.map((n) => [n, n === 'VERIFIED' ? 'false' : ''])) as Record<ResultName, string>;
}

/** Fails early (exit 2) when the results directory cannot be written, before any work is done. `label` names it. */
export function checkResultsDir(dir: string, label = 'the results directory'): void {
  try {
    mkdirSync(dir, { recursive: true });
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw new GateError('BAD_RESULTS_DIR', `${label} ${dir} cannot be written: ${(err as Error).message}`);
  }
}

/**
 * Writes every result file; each is written whole (temp file, then rename), VERIFIED last, so that a write that
 * fails half-way never leaves VERIFIED=true beside missing results. A failure (a full disk) is BAD_RESULTS_DIR.
 */
export function writeResults(dir: string, values: Readonly<Partial<Record<ResultName, string>>>): void {
  const names = [...RESULT_NAMES.filter((n) => n !== 'VERIFIED'), 'VERIFIED' as const].filter((n) => values[n] !== undefined);
  for (const name of names) {
    const file = path.join(dir, name);
    const tmp = path.join(dir, `.${name}.tmp`);
    try {
      writeFileSync(tmp, values[name] ?? '');
      renameSync(tmp, file);
    } catch (err) {
      throw new GateError('BAD_RESULTS_DIR', `the results directory ${dir}: could not write the ${name} result: ${(err as Error).message}`);
    }
  }
}
