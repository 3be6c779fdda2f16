import type { ErrorObject } from 'ajv';
import { firstAjvError, lazyGuard, type LazyGuard } from '../schema/validator.ts';

// JSON shapes the registry code reads, checked with ajv (never by hand). Unknown members are allowed
// everywhere: the OCI image spec says consumers must ignore what they do not know.

/** An OCI content descriptor (image-spec descriptor.md). */
export type Descriptor = {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  artifactType?: string;
  platform?: Record<string, unknown>;
};

/** OCI image manifest or Docker schema 2 manifest. */
export type ImageManifest = {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
};

/** OCI image index or Docker manifest list (also the body of a referrers response). */
export type ImageIndex = {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
};

/** The `auths` part of a Docker `config.json` (also the content of a `.dockerconfigjson` Secret key). */
export type DockerConfigFile = {
  auths?: Record<string, DockerAuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
};
export type DockerAuthEntry = {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
};

/** A token endpoint's answer (distribution token spec: `token`, or OAuth2's `access_token`). */
export type TokenResponse = { token?: string; access_token?: string; expires_in?: number };

/** cosign's `dev.sigstore.cosign/bundle` layer annotation: the Rekor SET and the signed payload. */
export type CosignBundleAnnotation = {
  SignedEntryTimestamp: string;
  Payload: { body: string; integratedTime: number; logIndex: number; logID: string };
};

// image-spec descriptor.md digest grammar; only sha256 and sha512 are ever fetched (checked there).
const DIGEST = '^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$';
const MEDIA_TYPE = '^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}(?:\\s*;.*)?$';
const STRING_MAP = { type: 'object', additionalProperties: { type: 'string' } } as const;

const descriptorSchema = {
  type: 'object',
  required: ['mediaType', 'digest', 'size'],
  properties: {
    mediaType: { type: 'string', pattern: MEDIA_TYPE },
    digest: { type: 'string', pattern: DIGEST },
    size: { type: 'integer', minimum: 0 },
    urls: { type: 'array', items: { type: 'string' } },
    annotations: STRING_MAP,
    artifactType: { type: 'string', pattern: MEDIA_TYPE },
    platform: { type: 'object' },
  },
} as const;

export const IMAGE_MANIFEST_SCHEMA = {
  $id: 'rekor-gate:registry/image-manifest',
  type: 'object',
  required: ['schemaVersion', 'config', 'layers'],
  properties: {
    schemaVersion: { const: 2 },
    mediaType: { type: 'string', pattern: MEDIA_TYPE },
    artifactType: { type: 'string', pattern: MEDIA_TYPE },
    config: descriptorSchema,
    layers: { type: 'array', items: descriptorSchema },
    subject: descriptorSchema,
    annotations: STRING_MAP,
  },
} as const;

export const IMAGE_INDEX_SCHEMA = {
  $id: 'rekor-gate:registry/image-index',
  type: 'object',
  required: ['schemaVersion', 'manifests'],
  properties: {
    schemaVersion: { const: 2 },
    mediaType: { type: 'string', pattern: MEDIA_TYPE },
    artifactType: { type: 'string', pattern: MEDIA_TYPE },
    manifests: { type: 'array', items: descriptorSchema },
    subject: descriptorSchema,
    annotations: STRING_MAP,
  },
} as const;

export const DOCKER_CONFIG_SCHEMA = {
  $id: 'rekor-gate:registry/docker-config',
  type: 'object',
  properties: {
    auths: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        properties: {
          auth: { type: 'string' },
          username: { type: 'string' },
          password: { type: 'string' },
          identitytoken: { type: 'string' },
          registrytoken: { type: 'string' },
        },
      },
    },
    credsStore: { type: 'string' },
    credHelpers: STRING_MAP,
  },
} as const;

export const TOKEN_RESPONSE_SCHEMA = {
  $id: 'rekor-gate:registry/token-response',
  type: 'object',
  anyOf: [
    { type: 'object', required: ['token'], properties: { token: { type: 'string', minLength: 1 } } },
    { type: 'object', required: ['access_token'], properties: { access_token: { type: 'string', minLength: 1 } } },
  ],
  properties: {
    token: { type: 'string' },
    access_token: { type: 'string' },
    expires_in: { type: 'number' },
  },
} as const;

export const COSIGN_BUNDLE_ANNOTATION_SCHEMA = {
  $id: 'rekor-gate:registry/cosign-bundle-annotation',
  type: 'object',
  required: ['SignedEntryTimestamp', 'Payload'],
  properties: {
    SignedEntryTimestamp: { type: 'string', minLength: 1 },
    Payload: {
      type: 'object',
      required: ['body', 'integratedTime', 'logIndex', 'logID'],
      properties: {
        body: { type: 'string', minLength: 1 },
        integratedTime: { type: 'integer', minimum: 0 },
        logIndex: { type: 'integer', minimum: 0 },
        logID: { type: 'string', minLength: 1 },
      },
    },
  },
} as const;

// Compiled on first use: a run without --image-url never compiles them.
const STRICT = { options: { strict: true } } as const;
export const validateImageManifest: LazyGuard<ImageManifest> = lazyGuard<ImageManifest>('registry.image-manifest', IMAGE_MANIFEST_SCHEMA, STRICT);
export const validateImageIndex: LazyGuard<ImageIndex> = lazyGuard<ImageIndex>('registry.image-index', IMAGE_INDEX_SCHEMA, STRICT);
export const validateDockerConfig: LazyGuard<DockerConfigFile> = lazyGuard<DockerConfigFile>('registry.docker-config', DOCKER_CONFIG_SCHEMA, STRICT);
export const validateTokenResponse: LazyGuard<TokenResponse> = lazyGuard<TokenResponse>('registry.token-response', TOKEN_RESPONSE_SCHEMA, STRICT);
export const validateCosignBundleAnnotation: LazyGuard<CosignBundleAnnotation> = lazyGuard<CosignBundleAnnotation>('registry.cosign-bundle-annotation', COSIGN_BUNDLE_ANNOTATION_SCHEMA, STRICT);

/** The first ajv error of a guard's last call, as `path message`, for error messages. */
export function schemaError(validate: { errors?: ErrorObject[] | null }): string {
  return firstAjvError(validate.errors);
}
