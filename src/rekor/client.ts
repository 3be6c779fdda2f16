import type { ErrorObject } from 'ajv';
import type { ImageDigest } from '../digest.ts';
import { GateError } from '../errors.ts';
import { firstAjvError, lazyGuard } from '../schema/validator.ts';
import { mapLimit } from '../net/concurrency.ts';
import type { Budget } from '../net/budget.ts';
import type { Http } from '../net/http.ts';
import type { LogEntryAnon, LogEntryResponse } from './types.ts';
// The LogEntry response as the live API serves it, written for rekor-gate (a test holds it to Rekor's openapi.yaml).
import logEntrySchema from '../../schemas/rekor-api/log-entry.schema.json' with { type: 'json' };

/** An entry as the log returned it. */
export type RetrievedEntry = {
  /** The key the log returned the entry under (lower-cased), NOT yet checked against the body's leaf hash. */
  readonly uuid: string;
  /**
   * The UUID the client asked for that this entry answers: the one equal to `uuid`, or whose 64-hex leaf hash
   * `uuid` ends with (Rekor answers a 64-hex UUID under its 80-hex entry ID). An answer under a key that matches
   * nothing asked is dropped: only answers to the questions asked are used. Undefined for `getByLogIndex`.
   */
  readonly requestedUuid: string | undefined;
  readonly entry: LogEntryAnon;
};

export type RekorClient = {
  /** Base URL without a trailing slash. */
  readonly baseUrl: string;
  /** UUIDs of the entries indexed under the digest: lower-cased, exact duplicates removed, in the log's order. */
  searchByDigest(digest: ImageDigest): Promise<string[]>;
  /** Entries for `uuids`, fetched in batches of at most 10, `concurrency` batches at a time (default 16). */
  retrieveByUUIDs(uuids: readonly string[], opts?: { concurrency?: number }): Promise<RetrievedEntry[]>;
  getByLogIndex(logIndex: number): Promise<RetrievedEntry>;
  getByUUID(uuid: string): Promise<RetrievedEntry>;
  /** `POST /api/v1/log/entries` for a dsse 0.0.1 entry: the envelope text and its verifiers' PEM. Returns the entry as logged. */
  createDsseEntry(envelope: string, verifierPems: readonly string[]): Promise<RetrievedEntry>;
  /** `<base>/api/v1/log/entries/<uuid>`: the URL that fetches the entry. */
  entryUrl(uuid: string): string;
};

/** openapi.yaml SearchLogQuery.entryUUIDs.maxItems. */
export const RETRIEVE_BATCH_SIZE = 10;
/**
 * Retrieve requests in flight at once (also the run's connections per origin, net/pool.ts). The public Rekor v1
 * limits requests per client IP (Cloud Armor; sigstore/rekor#637, sigstore/rekor-tiles#354) at thresholds it does
 * not publish; such a limit counts requests in a time window, and how many are in flight changes only how fast
 * the same ceil(N/10) retrieves go out, not how many. A 429 is retried after its Retry-After (net/retry.ts).
 */
export const DEFAULT_RETRIEVE_CONCURRENCY = 16;

const UUID_PATTERN = '^([0-9a-fA-F]{64}|[0-9a-fA-F]{80})$';
const UUID_RE = new RegExp(UUID_PATTERN);

/** The answer to `POST /api/v1/index/retrieve`: entry UUIDs (openapi.yaml, a test holds it to the 200 response's schema). */
export const SEARCH_INDEX_RESPONSE_SCHEMA = {
  type: 'array',
  items: { type: 'string', pattern: UUID_PATTERN },
} as const;

// The checkpoint is a signed note, parsed and verified with the log's key by the log verification.
const LOG_ENTRY = { refs: () => [logEntrySchema] } as const;
const validators = {
  logEntry: lazyGuard<LogEntryResponse>('rekor.api.log-entry', { $ref: logEntrySchema.$id }, LOG_ENTRY),
  logEntries: lazyGuard<LogEntryResponse[]>('rekor.api.log-entries', { type: 'array', items: { $ref: logEntrySchema.$id } }, LOG_ENTRY),
  searchResponse: lazyGuard<string[]>('rekor.api.search-response', SEARCH_INDEX_RESPONSE_SCHEMA),
};
const getValidators = (): typeof validators => validators;

const describeAjvError = (errors: ErrorObject[] | null | undefined): string => firstAjvError(errors);

function normalizeUuid(uuid: string): string {
  if (!UUID_RE.test(uuid)) {
    throw new GateError('USAGE', `"${uuid.slice(0, 100)}" is not a Rekor entry UUID (64 or 80 hex characters)`);
  }
  return uuid.toLowerCase();
}

/** Same entry named two ways: equal, or one is the 64-hex leaf hash that ends the other's 80-hex entry ID. */
function sameEntry(a: string, b: string): boolean {
  if (a === b) return true;
  if (a.length === 64 && b.length === 80) return b.endsWith(a);
  if (a.length === 80 && b.length === 64) return a.endsWith(b);
  return false;
}

function baseOf(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new GateError('USAGE', `Rekor URL "${baseUrl.slice(0, 200)}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new GateError('USAGE', `Rekor URL "${baseUrl.slice(0, 200)}" must be http(s)`);
  }
  if (url.search || url.hash) {
    throw new GateError('USAGE', `Rekor URL "${baseUrl.slice(0, 200)}" must not carry a query or fragment`);
  }
  return url.href.replace(/\/+$/, '');
}

export type RekorClientOptions = {
  /** Counts the entries the log sends (a run's total); the Http counts the bytes. */
  readonly budget?: Pick<Budget, 'takeEntries'>;
};

export function createRekorClient(baseUrl: string, http: Http, copts: RekorClientOptions = {}): RekorClient {
  const base = baseOf(baseUrl);
  const entryUrl = (uuid: string) => `${base}/api/v1/log/entries/${normalizeUuid(uuid)}`;

  /** The single entry of a `LogEntry` response (GET by UUID or by index, or the answer to a POST). */
  async function getOne(url: string, requestedUuid: string | undefined, post?: unknown): Promise<RetrievedEntry> {
    const body = await http.json(url, post === undefined ? {} : { method: 'POST', body: post });
    const what = `${post === undefined ? 'GET' : 'POST'} ${url}`;
    const { logEntry } = getValidators();
    if (!logEntry(body)) {
      throw new GateError('ENTRY_MALFORMED', `${what}: the response is not a Rekor LogEntry: ${describeAjvError(logEntry.errors)}`);
    }
    const entries = Object.entries(body);
    const [first] = entries;
    if (!first || entries.length !== 1) {
      throw new GateError('ENTRY_MALFORMED', `${what}: expected exactly one entry in the response, got ${entries.length}`);
    }
    copts.budget?.takeEntries(1, what);
    return { uuid: first[0].toLowerCase(), requestedUuid, entry: first[1] };
  }

  async function retrieveBatch(batch: readonly string[]): Promise<RetrievedEntry[]> {
    const url = `${base}/api/v1/log/entries/retrieve`;
    const body = await http.json(url, { method: 'POST', body: { entryUUIDs: batch } });
    const { logEntries } = getValidators();
    if (!logEntries(body)) {
      throw new GateError(
        'ENTRY_MALFORMED',
        `POST ${url} for ${batch.join(', ')}: the response is not an array of Rekor LogEntry: ${describeAjvError(logEntries.errors)}`,
      );
    }
    const got = body.flatMap((item) => Object.entries(item));
    copts.budget?.takeEntries(got.length, `POST ${url}`);
    // Only answers to the UUIDs asked: an entry under any other key is not what was asked for, and is dropped.
    return got.flatMap(([key, entry]): RetrievedEntry[] => {
      const uuid = key.toLowerCase();
      const requestedUuid = batch.find((r) => sameEntry(r, uuid));
      return requestedUuid === undefined ? [] : [{ uuid, requestedUuid, entry }];
    });
  }

  return {
    baseUrl: base,
    entryUrl,

    async searchByDigest(digest) {
      const url = `${base}/api/v1/index/retrieve`;
      const body = await http.json(url, { method: 'POST', body: { hash: digest.value } });
      const { searchResponse } = getValidators();
      if (!searchResponse(body)) {
        throw new GateError(
          'RESPONSE_MALFORMED',
          `POST ${url} for ${digest.value}: the response is not a list of entry UUIDs: ${describeAjvError(searchResponse.errors)}`,
        );
      }
      return [...new Set(body.map((u) => u.toLowerCase()))];
    },

    async retrieveByUUIDs(uuids, opts = {}) {
      const concurrency = opts.concurrency ?? DEFAULT_RETRIEVE_CONCURRENCY;
      const wanted = [...new Set(uuids.map(normalizeUuid))];
      const batches: string[][] = [];
      for (let i = 0; i < wanted.length; i += RETRIEVE_BATCH_SIZE) batches.push(wanted.slice(i, i + RETRIEVE_BATCH_SIZE));
      const results = (
        await mapLimit(batches, concurrency, retrieveBatch)
      ).flat();
      // One entry per key: the same entry answers both forms of its UUID when both were asked.
      const seen = new Set<string>();
      return results.filter(({ uuid }) => !seen.has(uuid) && seen.add(uuid));
    },

    async getByLogIndex(logIndex) {
      if (!Number.isSafeInteger(logIndex) || logIndex < 0) {
        throw new GateError('USAGE', `log index ${logIndex} is not a non-negative integer`);
      }
      return getOne(`${base}/api/v1/log/entries?logIndex=${logIndex}`, undefined);
    },

    async getByUUID(uuid) {
      return getOne(entryUrl(uuid), normalizeUuid(uuid));
    },

    async createDsseEntry(envelope, verifierPems) {
      const proposed = {
        apiVersion: '0.0.1',
        kind: 'dsse',
        spec: { proposedContent: { envelope, verifiers: verifierPems.map((p) => Buffer.from(p, 'utf8').toString('base64')) } },
      };
      return getOne(`${base}/api/v1/log/entries`, undefined, proposed);
    },
  };
}
