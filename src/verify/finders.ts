import type { ImageDigest } from '../digest.ts';
import { GateError, errorMessage } from '../errors.ts';
import type { RekorClient, RetrievedEntry } from '../rekor/client.ts';
import type { LogEntryAnon } from '../rekor/types.ts';
import type { Candidate } from './types.ts';
import type { CandidateFinder } from './verifier.ts';

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
  const asCandidate = (got: { uuid: string; entry: LogEntryAnon }): Candidate => ({ uuid: got.uuid, entry: got.entry, sources: ['rekor-search'] });
  return async (early, note) => {
    const named = await rekor.searchByDigest(digest);
    let uuids = named;
    if (named.length > maxCandidates) {
      const known = named.filter((u) => fetched.has(u));
      uuids = [...known, ...named.filter((u) => !fetched.has(u))].slice(0, maxCandidates);
      note?.(`the log's search named ${named.length} entries under ${digest.value}; only ${maxCandidates} were checked (the first in the log's order, which lists the newest first)`);
    }
    const missing = uuids.filter((u) => !fetched.has(u));
    if (missing.length > 0) {
      const onBatch = (batch: readonly RetrievedEntry[]) => {
        for (const r of batch) {
          const got = { uuid: r.uuid, entry: r.entry };
          fetched.set(r.requestedUuid ?? r.uuid, got);
          early?.(asCandidate(got));
        }
      };
      await rekor.retrieveByUUIDs(missing, { onBatch });
    }
    return uuids.flatMap((u): Candidate[] => {
      const got = fetched.get(u);
      return got ? [asCandidate(got)] : [];
    });
  };
}

/** The one entry a user named (--log-index, --entry-url): fetched and judged like any candidate. */
export function lookupFinder(rekor: RekorClient, what: { logIndex: number } | { uuid: string }, source: 'log-index' | 'entry-url'): CandidateFinder {
  const named = 'logIndex' in what ? `log index ${what.logIndex}` : `entry ${what.uuid}`;
  let got: Candidate | undefined;
  return async () => {
    if (!got) {
      let r: RetrievedEntry;
      try {
        r = 'logIndex' in what ? await rekor.getByLogIndex(what.logIndex) : await rekor.getByUUID(what.uuid);
      } catch (err) {
        // The log answered: the entry is not there. Not verified (exit 1), not unreachable (exit 3).
        if (!(err instanceof GateError && err.status === 404)) throw err;
        const placeholder = { body: '', integratedTime: 0, logID: '', logIndex: 'logIndex' in what ? what.logIndex : -1 };
        got = { uuid: 'uuid' in what ? what.uuid : '', entry: placeholder, sources: [source] };
        got.lookupError = new GateError('TLOG_ENTRY_NOT_FOUND', `the log has no ${named} (${errorMessage(err)})`);
        return [{ ...got, sources: [...got.sources] }];
      }
      got = { uuid: r.uuid, entry: r.entry, sources: [source] };
      // The log must answer with exactly the entry named; the ID and the index are then checked against the body and SET.
      if ('logIndex' in what ? r.entry.logIndex !== what.logIndex : r.uuid.slice(-64) !== what.uuid.slice(-64)) {
        got.lookupError = new GateError('TLOG_INCONSISTENT', `the log answered ${named} with another entry (${r.uuid}, log index ${r.entry.logIndex})`);
      }
    }
    return [{ ...got, sources: [...got.sources] }];
  };
}

/**
 * With --log-index or --entry-url, the registry only supplies what it holds for that one entry (its envelope):
 * candidates of other entries are dropped.
 */
export function sameEntryAs(lookup: CandidateFinder, others: readonly CandidateFinder[]): CandidateFinder {
  return async () => {
    const named = await lookup();
    const leaves = new Set(named.map((c) => c.uuid.slice(-64)));
    const beside = (await Promise.all(others.map((f) => f()))).flat().filter((c) => leaves.has(c.uuid.slice(-64)));
    return [...named, ...beside];
  };
}
