import { firstAjvError, lazyGuard, type LazyGuard } from '../schema/validator.ts';
// The entry kinds' schemas, written for rekor-gate from the facts of Rekor's formats (schemas/rekor; a test
// holds them to Rekor's published schemas, docs/design.md names where they are deliberately stricter).
// Imported as JSON modules so that an esbuild bundle carries them inline.
import common from '../../schemas/rekor/common.schema.json' with { type: 'json' };
import dsse from '../../schemas/rekor/dsse.schema.json' with { type: 'json' };
import hashedrekord from '../../schemas/rekor/hashedrekord.schema.json' with { type: 'json' };
import intoto from '../../schemas/rekor/intoto.schema.json' with { type: 'json' };

const HEX64 = '^[0-9a-fA-F]{64}$';

/**
 * One entry of a Rekor v1 `LogEntry` response (openapi.yaml `LogEntry.additionalProperties`), as the API
 * actually serves it: `body` is the base64 of the canonical body (the spec says "object"), and
 * `inclusionProof.checkpoint` is optional because Rekor served proofs without one before 2022.
 */
export const LOG_ENTRY_ANON_SCHEMA = {
  $id: 'rekor-gate:rekor/log-entry-anon',
  type: 'object',
  required: ['body', 'integratedTime', 'logID', 'logIndex'],
  properties: {
    body: { type: 'string', minLength: 1, format: 'byte' },
    integratedTime: { type: 'integer', minimum: 0 },
    logID: { type: 'string', pattern: HEX64 },
    logIndex: { type: 'integer', minimum: 0 },
    verification: {
      type: 'object',
      properties: {
        signedEntryTimestamp: { type: 'string', minLength: 1, format: 'byte' },
        inclusionProof: {
          type: 'object',
          required: ['logIndex', 'rootHash', 'treeSize', 'hashes'],
          properties: {
            logIndex: { type: 'integer', minimum: 0 },
            rootHash: { type: 'string', pattern: HEX64 },
            treeSize: { type: 'integer', minimum: 1 },
            hashes: { type: 'array', items: { type: 'string', pattern: HEX64 } },
            checkpoint: { type: 'string', minLength: 1 },
          },
        },
      },
    },
    attestation: {
      type: 'object',
      properties: {
        data: { type: 'string', format: 'byte' },
        mediaType: { type: 'string' },
      },
    },
  },
} as const;

const SEMVER =
  '^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-((?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\\.(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?$';

/** The decoded body of any entry kind: openapi.yaml `ProposedEntry` + `{apiVersion, spec}` of every kind. */
export const ENTRY_BODY_SCHEMA = {
  $id: 'rekor-gate:rekor/entry-body',
  type: 'object',
  required: ['kind', 'apiVersion', 'spec'],
  properties: {
    kind: { type: 'string', minLength: 1 },
    apiVersion: { type: 'string', pattern: SEMVER },
    spec: { type: 'object' },
  },
} as const;

/** The shipped schema of each entry kind: its `$id`, and under `#/definitions/v<apiVersion>` each version's spec. */
export const ENTRY_KIND_SCHEMAS = { intoto, dsse, hashedrekord } as const;
/** The schemas the kinds' `$ref`s name. */
const KIND_REFS = (): readonly object[] => [common, intoto, dsse, hashedrekord];

/** The validator of one kind's spec at one version: `<kind schema $id>#/definitions/v<apiVersion>`. */
function specGuard(kind: keyof typeof ENTRY_KIND_SCHEMAS, apiVersion: string): LazyGuard<unknown> {
  const $ref = `${ENTRY_KIND_SCHEMAS[kind].$id}#/definitions/v${apiVersion}`;
  return lazyGuard(`rekor.${kind}-${apiVersion}`, { $ref }, { refs: KIND_REFS });
}

/** The kinds whose `spec` rekor-gate validates, keyed `kind/apiVersion`, with the schema of that version. */
const SPEC_VALIDATORS: Readonly<Record<string, LazyGuard<unknown>>> = {
  'intoto/0.0.1': specGuard('intoto', '0.0.1'),
  'intoto/0.0.2': specGuard('intoto', '0.0.2'),
  'dsse/0.0.1': specGuard('dsse', '0.0.1'),
  'hashedrekord/0.0.1': specGuard('hashedrekord', '0.0.1'),
};
const logEntryAnon = lazyGuard<unknown>('rekor.log-entry-anon', LOG_ENTRY_ANON_SCHEMA);
const entryBody = lazyGuard<unknown>('rekor.entry-body', ENTRY_BODY_SCHEMA);

function firstError(fn: LazyGuard<unknown>, at = ''): string {
  return firstAjvError(fn.errors, at);
}

/** `undefined` when `value` is a well-formed Rekor API entry, else the first schema error. */
export function validateLogEntryAnon(value: unknown): string | undefined {
  return logEntryAnon(value) ? undefined : firstError(logEntryAnon);
}

/** `undefined` when `value` has the `{kind, apiVersion, spec}` shape of every entry body, else the first error. */
export function validateBodyShape(value: unknown): string | undefined {
  return entryBody(value) ? undefined : firstError(entryBody);
}

/** Whether rekor-gate has a schema for this kind and version (and so can decode its spec). */
export function hasBodySchema(kind: string, apiVersion: string): boolean {
  return Object.hasOwn(SPEC_VALIDATORS, `${kind}/${apiVersion}`);
}

/**
 * Validates a decoded entry body (`{kind, apiVersion, spec}`) against the schema of its kind and version.
 * Returns `undefined` when valid, else a description of the first error. Kinds without a schema
 * (see {@link hasBodySchema}) are reported as such.
 */
export function validateBody(kind: string, apiVersion: string, body: unknown): string | undefined {
  const shape = validateBodyShape(body);
  if (shape) return shape;
  const key = `${kind}/${apiVersion}`;
  const fn = SPEC_VALIDATORS[key];
  if (!fn) return `no schema for kind ${key}`;
  const b = body as { kind: string; apiVersion: string; spec: unknown };
  if (b.kind !== kind || b.apiVersion !== apiVersion) {
    return `body is ${b.kind}/${b.apiVersion}, expected ${key}`;
  }
  return fn(b.spec) ? undefined : firstError(fn, '/spec');
}
