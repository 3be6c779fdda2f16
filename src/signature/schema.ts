// JSON shapes an image signature is read through, checked with ajv (never by hand).
import { lazyValidator } from '../schema/validator.ts';

/**
 * The simple signing payload cosign signs for an image: `{"critical": {"identity": {"docker-reference"},
 * "image": {"docker-manifest-digest"}, "type"}, "optional": {...}}` (sigstore/sigstore
 * pkg/signature/payload/payload.go, SimpleContainerImage; cosign's specs/SIGNATURE_SPEC.md at
 * d6d86c224e5899b54f56cbb063b79dc43abc11c2). Go's encoding/json matches field names case-insensitively, so cosign
 * reads `Critical`/`Image`/`Docker-manifest-digest` too (the README's examples); the schema takes the names as
 * cosign writes them, lower-case, which is what `cosign sign` and Chains' simplesigning format emit.
 */
const SIMPLE_SIGNING_SCHEMA = {
  $id: 'rekor-gate:signature/simple-signing',
  type: 'object',
  required: ['critical'],
  properties: {
    critical: {
      type: 'object',
      required: ['image', 'type'],
      properties: {
        identity: { type: 'object', properties: { 'docker-reference': { type: 'string' } } },
        image: {
          type: 'object',
          required: ['docker-manifest-digest'],
          properties: { 'docker-manifest-digest': { type: 'string' } },
        },
        type: { type: 'string' },
      },
    },
    optional: { type: ['object', 'null'] },
  },
} as const;

export type SimpleSigning = {
  critical: { identity?: { 'docker-reference'?: string }; image: { 'docker-manifest-digest': string }; type: string };
  optional?: Record<string, unknown> | null;
};

export const simpleSigningError: (value: unknown) => string | undefined = lazyValidator('signature.simple-signing', SIMPLE_SIGNING_SCHEMA);
