import { lazyValidator } from '../schema/validator.ts';

/** The media types of the bundle versions rekor-gate verifies (v0.1, v0.2, v0.3 in both spellings). */
export const BUNDLE_MEDIA_TYPES = [
  'application/vnd.dev.sigstore.bundle+json;version=0.1',
  'application/vnd.dev.sigstore.bundle+json;version=0.2',
  'application/vnd.dev.sigstore.bundle+json;version=0.3',
  'application/vnd.dev.sigstore.bundle.v0.3+json',
] as const;

const BYTES = { type: 'string', format: 'byte' } as const;
/** protobuf JSON int64: a decimal string (numbers are accepted too). */
const UINT64 = { anyOf: [{ type: 'string', pattern: '^[0-9]{1,20}$' }, { type: 'integer', minimum: 0 }] } as const;
const CERTIFICATE = { type: 'object', required: ['rawBytes'], properties: { rawBytes: { ...BYTES, minLength: 1 } } } as const;

// logIndex and the proof's hashes are not required: protobuf JSON leaves out a zero and an empty list, so a log's
// first entry (index 0, in a tree of one: no hashes) has neither, as cosign 3.1.3 writes it against a new private
// Rekor (test/interop/cosign3-bundles.test.ts); @sigstore/protobuf-specs reads them absent as "0" and [] (fromJSON).
const TLOG_ENTRY = {
  type: 'object',
  required: ['logId', 'kindVersion', 'canonicalizedBody'],
  properties: {
    logIndex: UINT64,
    logId: { type: 'object', required: ['keyId'], properties: { keyId: BYTES } },
    kindVersion: {
      type: 'object',
      required: ['kind', 'version'],
      properties: { kind: { type: 'string' }, version: { type: 'string' } },
    },
    integratedTime: UINT64,
    inclusionPromise: {
      type: 'object',
      required: ['signedEntryTimestamp'],
      properties: { signedEntryTimestamp: { ...BYTES, minLength: 1 } },
    },
    inclusionProof: {
      type: 'object',
      required: ['rootHash', 'treeSize'],
      properties: {
        logIndex: UINT64,
        rootHash: BYTES,
        treeSize: UINT64,
        hashes: { type: 'array', items: BYTES },
        checkpoint: { type: 'object', required: ['envelope'], properties: { envelope: { type: 'string' } } },
      },
    },
    canonicalizedBody: { ...BYTES, minLength: 1 },
  },
} as const;

/**
 * The JSON form of a Sigstore bundle (dev.sigstore.bundle.v1.Bundle), as far as rekor-gate reads it.
 * @sigstore/bundle then applies the per-version rules (`bundleFromJSON`).
 */
export const BUNDLE_SCHEMA = {
  $id: 'rekor-gate:bundle/bundle',
  type: 'object',
  required: ['mediaType', 'verificationMaterial'],
  properties: {
    mediaType: { enum: BUNDLE_MEDIA_TYPES },
    verificationMaterial: {
      type: 'object',
      properties: {
        publicKey: { type: 'object', properties: { hint: { type: 'string' } } },
        x509CertificateChain: {
          type: 'object',
          required: ['certificates'],
          properties: { certificates: { type: 'array', minItems: 1, items: CERTIFICATE } },
        },
        certificate: CERTIFICATE,
        tlogEntries: { type: 'array', items: TLOG_ENTRY },
        timestampVerificationData: {
          type: 'object',
          properties: {
            rfc3161Timestamps: {
              type: 'array',
              items: { type: 'object', required: ['signedTimestamp'], properties: { signedTimestamp: { ...BYTES, minLength: 1 } } },
            },
          },
        },
      },
      oneOf: [{ required: ['publicKey'] }, { required: ['x509CertificateChain'] }, { required: ['certificate'] }],
    },
    messageSignature: {
      type: 'object',
      required: ['signature'],
      properties: {
        messageDigest: {
          type: 'object',
          required: ['algorithm', 'digest'],
          properties: { algorithm: { type: 'string' }, digest: BYTES },
        },
        signature: { ...BYTES, minLength: 1 },
      },
    },
    dsseEnvelope: {
      type: 'object',
      required: ['payload', 'payloadType', 'signatures'],
      properties: {
        payload: BYTES,
        payloadType: { type: 'string' },
        signatures: {
          type: 'array',
          minItems: 1,
          items: { type: 'object', required: ['sig'], properties: { sig: { ...BYTES, minLength: 1 }, keyid: { type: 'string' } } },
        },
      },
    },
  },
  oneOf: [{ required: ['messageSignature'] }, { required: ['dsseEnvelope'] }],
} as const;

/** `undefined` when `value` has the shape of a Sigstore bundle, else the first schema error as "<path> <message>". */
export const bundleSchemaError: (value: unknown) => string | undefined = lazyValidator('bundle', BUNDLE_SCHEMA);
