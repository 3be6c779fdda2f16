import { GateError } from '../errors.ts';
import type { Trust } from '../trust/index.ts';
import { parseLogUrl } from './log-flags.ts';

export type EntryLookup = { readonly rekorUrl: string } & ({ readonly logIndex: number } | { readonly uuid: string });

const INDEX_RE = /^(0|[1-9][0-9]{0,17})$/;

export function parseLogIndex(input: string | number, flag: string): number {
  const s = String(input);
  if (!INDEX_RE.test(s) || !Number.isSafeInteger(Number(s))) throw new GateError('USAGE', `${flag} "${s}" is not a log index (a whole number >= 0)`);
  return Number(s);
}

function sameOrigin(a: string, b: string): boolean {
  try {
    const x = new URL(a);
    const y = new URL(b);
    return x.protocol === y.protocol && x.host === y.host;
  } catch {
    return false;
  }
}

/**
 * An entry URL as Tekton Chains writes it in the TaskRun annotation `chains.tekton.dev/transparency`:
 * `<rekor url>/api/v1/log/entries?logIndex=N` (also `.../entries/<uuid>`). Its log must be --rekor-url's,
 * or a log of the trusted root (by base URL): an entry URL never chooses which log to trust.
 */
export function parseEntryUrl(input: string, rekorUrl: string, trust: Trust): EntryLookup {
  const u = parseLogUrl(input, '--entry-url');
  const m = /^(.*)\/api\/v1\/log\/entries(?:\/([0-9a-fA-F]{64}|[0-9a-fA-F]{80}))?\/?$/.exec(u.pathname);
  if (!m) throw new GateError('USAGE', `--entry-url ${input}: expected <rekor url>/api/v1/log/entries?logIndex=N or .../entries/<uuid>`);
  const base = `${u.protocol}//${u.host}${m[1] ?? ''}`;
  const trusted = sameOrigin(base, rekorUrl) || trust.material.tlogs.some((t) => sameOrigin(base, t.baseURL));
  if (!trusted) {
    throw new GateError('USAGE', `--entry-url ${input} is on ${u.host}, which is neither --rekor-url (${rekorUrl}) nor a log of ${trust.source}`);
  }
  if (m[2]) return { rekorUrl: base, uuid: m[2].toLowerCase() };
  const idx = u.searchParams.get('logIndex');
  if (idx === null) throw new GateError('USAGE', `--entry-url ${input}: no logIndex= and no entry UUID in it`);
  return { rekorUrl: base, logIndex: parseLogIndex(idx, '--entry-url logIndex') };
}
