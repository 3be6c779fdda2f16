/** Small statistics and formatting helpers for the benchmark. */

export type Summary = { n: number; median: number; min: number; max: number; q1: number; q3: number };

/** Quantile with linear interpolation between the closest ranks. */
function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}

export function summarize(xs: readonly number[]): Summary {
  const s = [...xs].sort((a, b) => a - b);
  return {
    n: s.length,
    median: quantile(s, 0.5),
    min: s[0] ?? Number.NaN,
    max: s[s.length - 1] ?? Number.NaN,
    q1: quantile(s, 0.25),
    q3: quantile(s, 0.75),
  };
}

export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return `${Math.round(ms)} ms`;
}

/** `median (min–max, n runs)`. */
export function fmtSummary(s: Summary, fmt: (v: number) => string = fmtMs): string {
  if (s.n === 0) return 'n/a';
  if (s.n === 1) return `${fmt(s.median)} (1 run)`;
  return `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)}, ${s.n} runs)`;
}

export const fmtMB = (kb: number): string => `${(kb / 1024).toFixed(0)} MB`;
