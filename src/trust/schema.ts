import { lazyValidator } from '../schema/validator.ts';

// protobuf JSON writes an absent message or field as null, too.
const TIME = { type: 'string', format: 'date-time' } as const;
const OPTIONAL_TIME = { anyOf: [TIME, { type: 'null' }] } as const;
const TIME_RANGE = {
  type: ['object', 'null'],
  properties: { start: OPTIONAL_TIME, end: OPTIONAL_TIME },
} as const;

const PUBLIC_KEY = {
  type: 'object',
  required: ['rawBytes'],
  properties: {
    rawBytes: { type: 'string', minLength: 1, format: 'byte' },
    keyDetails: { type: 'string' },
    validFor: TIME_RANGE,
  },
} as const;

const LOG_ID = {
  type: 'object',
  required: ['keyId'],
  properties: { keyId: { type: 'string', minLength: 1, format: 'byte' } },
} as const;

const LOG = {
  type: 'object',
  required: ['baseUrl', 'publicKey', 'logId'],
  properties: {
    baseUrl: { type: 'string' },
    hashAlgorithm: { type: 'string' },
    publicKey: PUBLIC_KEY,
    logId: LOG_ID,
    checkpointKeyId: { anyOf: [LOG_ID, { type: 'null' }] },
  },
} as const;

/**
 * rekor-gate's rule on top of the protobuf-specs shape: a transparency log key must say from when it is
 * trusted. @sigstore/verify would read a missing `validFor.start` as "since the beginning of time"
 * (sigstore-conformance `trust-root-tlog-missing-validity-start_fail` requires rejecting it).
 */
const TLOG = {
  ...LOG,
  properties: {
    ...LOG.properties,
    publicKey: {
      ...PUBLIC_KEY,
      required: ['rawBytes', 'validFor'],
      properties: {
        ...PUBLIC_KEY.properties,
        validFor: { type: 'object', required: ['start'], properties: { start: TIME, end: OPTIONAL_TIME } },
      },
    },
  },
} as const;

const AUTHORITY = {
  type: 'object',
  required: ['certChain'],
  properties: {
    uri: { type: 'string' },
    certChain: {
      type: 'object',
      required: ['certificates'],
      properties: {
        certificates: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            required: ['rawBytes'],
            properties: { rawBytes: { type: 'string', minLength: 1, format: 'byte' } },
          },
        },
      },
    },
    validFor: TIME_RANGE,
  },
} as const;

/** A Sigstore `trusted_root.json` (dev.sigstore.trustedroot.v1.TrustedRoot, JSON form), the parts rekor-gate uses. */
export const TRUSTED_ROOT_SCHEMA = {
  $id: 'rekor-gate:trust/trusted-root',
  type: 'object',
  required: ['mediaType', 'tlogs'],
  properties: {
    mediaType: {
      type: 'string',
      pattern: '^application/vnd\\.dev\\.sigstore\\.trustedroot(\\.v0\\.[0-9]+)?\\+json(;version=0\\.[0-9]+)?$',
    },
    tlogs: { type: 'array', minItems: 1, items: TLOG },
    ctlogs: { type: 'array', items: LOG },
    certificateAuthorities: { type: 'array', items: AUTHORITY },
    timestampAuthorities: { type: 'array', items: AUTHORITY },
  },
} as const;

/** `undefined` when `value` is an acceptable trusted root, else the first schema error as "<path> <message>". */
export const trustedRootSchemaError: (value: unknown) => string | undefined = lazyValidator('trusted-root', TRUSTED_ROOT_SCHEMA);
