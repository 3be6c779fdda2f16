import type { ManyVerdict } from '../verify/types.ts';
import { resultValues, safeValue, terminationMessageSize, TERMINATION_MESSAGE_LIMIT, type ResultName } from './results.ts';

const TEKTON_OVERHEAD = 256;

type ImageLine = { p?: string; d: string; st: string; code?: string; idx?: number };

/** Images that did not pass first: they are what a reader of a cut REPORT needs. */
function ordered(m: ManyVerdict): ImageLine[] {
  const rank = { unreachable: 0, error: 1, failed: 2, verified: 3 } as const;
  return [...m.images]
    .sort((a, b) => rank[a.status] - rank[b.status])
    .map((i) => ({
      ...(i.label !== undefined ? { p: safeValue(i.label, 64) } : {}),
      d: i.imageDigest.slice(7, 19),
      st: i.status,
      ...('code' in i ? { code: i.code } : 'verdict' in i && i.status === 'failed' ? { code: i.verdict.candidates.find((c) => c.code)?.code ?? 'NOT_VERIFIED' } : {}),
      ...('verdict' in i && i.verdict.accepted?.logIndex !== undefined ? { idx: i.verdict.accepted.logIndex } : {}),
    }));
}

/**
 * Results for several images within the budget: VERIFIED over all of them; the entry results describe the
 * only image when there is one, else stay empty; REPORT summarises (counts, then one short line per image,
 * failures first, as many as fit). `--output json` carries the details.
 */
export function manyResultValues(m: ManyVerdict, budgetBytes: number = TERMINATION_MESSAGE_LIMIT): Record<ResultName, string> {
  const only = m.images.length === 1 && 'verdict' in m.images[0]! ? m.images[0].verdict : undefined;
  const base = only ? resultValues(only, budgetBytes) : resultValues({ error: '' }, budgetBytes);
  base.VERIFIED = m.verified ? 'true' : 'false';
  const lines = ordered(m);
  const report = (n: number) =>
    JSON.stringify({ verified: m.verified, total: m.total, passed: m.passed, failed: m.failed, unreachable: m.unreachable, images: lines.slice(0, n), ...(n < lines.length ? { truncated: lines.length - n } : {}) });
  for (let n = lines.length; n >= 0; n--) {
    base.REPORT = safeValue(report(n), budgetBytes);
    if (terminationMessageSize(base) <= budgetBytes - TEKTON_OVERHEAD) return base;
  }
  return base;
}
