import type { ImageDigest } from '../digest.ts';
import { GateError } from '../errors.ts';
import type { RekorClient, RetrievedEntry } from '../rekor/client.ts';
import type { LogEntryAnon } from '../rekor/types.ts';
import type { Candidate } from './types.ts';
import type { CandidateFinder } from './verifier.ts';

/**
 * Candidates from the log's search index (`rekor-cli search --sha`). A hit proves nothing by itself:
 * Rekor indexes intoto entries by subject and by material digests. Entries never change, so each is
 * fetched once across polls; only new IDs are retrieved (batched, concurrent).
 */
export function rekorSearchFinder(rekor: RekorClient, digest: ImageDigest): CandidateFinder {
  const fetched = new Map<string, { uuid: string; entry: LogEntryAnon }>();
  const asCandidate = (got: { uuid: string; entry: LogEntryAnon }): Candidate => ({ uuid: got.uuid, entry: got.entry, sources: ['rekor-search'] });
  return async (early) => {
    const uuids = await rekor.searchByDigest(digest);
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
  let got: Candidate | undefined;
  return async () => {
    if (!got) {
      const r = 'logIndex' in what ? await rekor.getByLogIndex(what.logIndex) : await rekor.getByUUID(what.uuid);
      got = { uuid: r.uuid, entry: r.entry, sources: [source] };
      if ('logIndex' in what && r.entry.logIndex !== what.logIndex) {
        got.lookupError = new GateError('TLOG_INCONSISTENT', `the log answered log index ${what.logIndex} with an entry at index ${r.entry.logIndex}`);
      }
    }
    return [{ ...got, sources: [...got.sources] }];
  };
}
