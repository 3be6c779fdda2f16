import type { ImageDigest } from '../digest.ts';
import { GateError, errorMessage } from '../errors.ts';
import type { RekorClient, RetrievedEntry } from '../rekor/client.ts';
import type { LogEntryAnon } from '../rekor/types.ts';
import type { Candidate, EntryCandidate } from './candidate.ts';
import type { CandidateFinder } from './verifier.ts';
import { leafOf } from './merge.ts';

/**
 * At most this many entries named by one search are fetched and checked: a search can name any number (a
 * popular base image is a material of thousands of builds). Rekor's index lists the newest first.
 */
export const MAX_SEARCH_CANDIDATES = 5000;

/**
 * Candidates from the log's search index (`rekor-cli search --sha`). A hit proves nothing by itself:
 * Rekor indexes intoto entries by subject and by material digests. Entries never change, so each is
 * fetched once across polls; only new IDs are retrieved (batched, concurrent). Over MAX_SEARCH_CANDIDATES,
 * the first ones in the log's order are kept (those seen in an earlier poll first), and the report says so.
 */
export function rekorSearchFinder(rekor: RekorClient, digest: ImageDigest, maxCandidates = MAX_SEARCH_CANDIDATES): CandidateFinder {
  const fetched = new Map<string, { uuid: string; entry: LogEntryAnon }>();
  return async (note) => {
    const named = await rekor.searchByDigest(digest);
    let uuids = named;
    if (named.length > maxCandidates) {
      const known = named.filter((u) => fetched.has(u));
      uuids = [...known, ...named.filter((u) => !fetched.has(u))].slice(0, maxCandidates);
      note?.(`the log's search named ${named.length} entries under ${digest.value}; only ${maxCandidates} were checked (the first in the log's order, which lists the newest first)`);
    }
    const missing = uuids.filter((u) => !fetched.has(u));
    // Every request goes out before any check runs: the verifier checks once all have been answered.
    if (missing.length > 0) {
      for (const r of await rekor.retrieveByUUIDs(missing)) fetched.set(r.requestedUuid ?? r.uuid, { uuid: r.uuid, entry: r.entry });
    }
    return uuids.flatMap((u): EntryCandidate[] => {
      const got = fetched.get(u);
      return got ? [{ kind: 'entry', uuid: got.uuid, entry: got.entry, sources: ['rekor-search'] }] : [];
    });
  };
}

/** The one entry a user named (--log-index, --entry-url): fetched and judged like any candidate. */
export function lookupFinder(rekor: RekorClient, what: { logIndex: number } | { uuid: string }, source: 'log-index' | 'entry-url'): CandidateFinder {
  const named = 'logIndex' in what ? `log index ${what.logIndex}` : `entry ${what.uuid}`;
  let got: Candidate | undefined;
  const lookup = async (): Promise<Candidate> => {
    let r: RetrievedEntry;
    try {
      r = 'logIndex' in what ? await rekor.getByLogIndex(what.logIndex) : await rekor.getByUUID(what.uuid);
    } catch (err) {
      // The log answered: the entry is not there. Not verified (exit 1), not unreachable (exit 3).
      if (!(err instanceof GateError && err.status === 404)) throw err;
      const error = new GateError('TLOG_ENTRY_NOT_FOUND', `the log has no ${named} (${errorMessage(err)})`);
      return { kind: 'failed', uuid: 'uuid' in what ? what.uuid : '', ...('logIndex' in what ? { logIndex: what.logIndex } : {}), error, sources: [source] };
    }
    // The log must answer with exactly the entry named; the ID and the index are then checked against the body and SET.
    if ('logIndex' in what ? r.entry.logIndex !== what.logIndex : r.uuid.slice(-64) !== what.uuid.slice(-64)) {
      const error = new GateError('TLOG_INCONSISTENT', `the log answered ${named} with another entry (${r.uuid}, log index ${r.entry.logIndex})`);
      return { kind: 'failed', uuid: r.uuid, logIndex: r.entry.logIndex, error, sources: [source] };
    }
    return { kind: 'entry', uuid: r.uuid, entry: r.entry, sources: [source] };
  };
  return async () => {
    got ??= await lookup();
    return [got];
  };
}

/**
 * With --log-index or --entry-url, the registry only supplies what it holds for that one entry (its envelope):
 * candidates of other entries are dropped.
 */
export function sameEntryAs(lookup: CandidateFinder, others: readonly CandidateFinder[]): CandidateFinder {
  return async (note) => {
    const named = await lookup(note);
    const leaves = new Set(named.map(leafOf));
    const beside = (await Promise.all(others.map((f) => f(note)))).flat().filter((c) => leaves.has(leafOf(c)));
    return [...named, ...beside];
  };
}

/**
 * `finder` with its first poll started now, before the verifier asks: the CLI sends the log's search while
 * the verifier's own code and the trusted root are still loading. The first call takes that poll (and the notes
 * it made); later calls poll as usual. A failure of the early poll is the first call's failure.
 */
export function startedEarly(finder: CandidateFinder): CandidateFinder {
  const notes: string[] = [];
  let first: Promise<Candidate[]> | undefined = finder((m) => notes.push(m));
  first.catch(() => undefined); // awaited by the first call; a run that ends before then has nothing to report
  return async (note) => {
    const early = first;
    if (early === undefined) return finder(note);
    first = undefined;
    try {
      return await early;
    } finally {
      for (const m of notes) note?.(m);
    }
  };
}
