// What the rooms above read of the registry: the CLI (Docker config, the client, references) and the registry
// finder (the evidence beside an image). Tests and scripts import the modules themselves.
export { parseImageRef, repositoryName } from './reference.ts';
export { loadDockerConfigFromEnv } from './auth.ts';
export { OciClient } from './client.ts';
export type { RegistryOptions } from './transport.ts';
export { fetchRegistryEvidence, type EvidenceOptions } from './evidence.ts';
export { checkReferenceNamesDigest } from './tag-binding.ts';
export type { RegistryEvidence, SigTagEvidence } from './evidence-types.ts';
