import { parseImageDigest } from '../digest.ts';
import { describeEntry, renderDescriptions, type EntryDescription } from '../inspect/describe-entry.ts';
import { parseLogIndex } from './entry-url.ts';
import type { GetArgs, SearchArgs } from './options.ts';
import { openLog } from './session.ts';
import { reportError } from './report-error.ts';
import { jsonText } from '../text.ts';

function print(list: EntryDescription[], output: 'text' | 'json'): void {
  process.stdout.write(output === 'json' ? `${jsonText(list)}\n` : renderDescriptions(list));
}

/** `rekor-gate search`: every entry indexed under the digest, each with its log-level verification. */
export async function runSearch(args: SearchArgs): Promise<number> {
  try {
    const digest = parseImageDigest(args.imageDigest, '--image-digest');
    const s = await openLog(args);
    try {
      const uuids = await s.rekor.searchByDigest(digest);
      const entries = await s.rekor.retrieveByUUIDs(uuids);
      print(entries.map((r) => describeEntry(r.uuid, r.entry, s.trust, s.rekor.entryUrl(r.uuid))), args.output);
      return 0;
    } finally {
      await s.close();
    }
  } catch (err) {
    return reportError(err);
  }
}

/** `rekor-gate get`: one entry by UUID or global log index. */
export async function runGet(args: GetArgs): Promise<number> {
  try {
    const s = await openLog(args);
    try {
      const r = args.uuid !== undefined ? await s.rekor.getByUUID(args.uuid) : await s.rekor.getByLogIndex(parseLogIndex(args.logIndex ?? '', '--log-index'));
      print([describeEntry(r.uuid, r.entry, s.trust, s.rekor.entryUrl(r.uuid))], args.output);
      return 0;
    } finally {
      await s.close();
    }
  } catch (err) {
    return reportError(err);
  }
}
