export { parseImageRef, repositoryName, type ImageRef, type RepositoryRef } from './reference.ts';
export {
  loadDockerConfig,
  loadDockerConfigFromEnv,
  parseDockerConfig,
  credentialsFor,
  normalizeRegistryKey,
  parseWwwAuthenticate,
  type Credentials,
  type DockerConfig,
} from './auth.ts';
export {
  OciClient,
  MEDIA_TYPES,
  DEFAULT_MAX_BLOB_BYTES,
  DEFAULT_MAX_MANIFEST_BYTES,
  sha256Digest,
  verifyDigest,
  type FetchedManifest,
} from './client.ts';
export type { RegistryOptions } from './transport.ts';
export { fetchAttTagEvidence, attTag } from './cosign-layout.ts';
export { fetchReferrerBundles, isSigstoreBundleType, listReferrers, type Referrers } from './referrers.ts';
export { resolveDigest, fetchRegistryEvidence, type EvidenceOptions } from './evidence.ts';
export type { RegistryEvidence, AttTagEvidence, ReferrerBundleEvidence } from './evidence-types.ts';
export type { Descriptor, ImageManifest, ImageIndex, CosignBundleAnnotation } from './schemas.ts';
