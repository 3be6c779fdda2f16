import { MEDIA_TYPES, type OciClient } from '../registry/client.ts';
import { pushBlob, pushManifest } from '../registry/push.ts';
import { listReferrers } from '../registry/referrers.ts';
import { repositoryName, type RepositoryRef } from '../registry/reference.ts';
import type { Descriptor } from '../registry/schemas.ts';
import { VSA_PREDICATE_TYPE } from './statement.ts';

/**
 * A signed verification summary attached to the image it is about, as an OCI 1.1 referrer: a manifest whose
 * `subject` is the image, `artifactType` the DSSE envelope type and one layer, the envelope. Registries with the
 * referrers API index it themselves; for the others the referrers tag schema (`sha256-<hex>`) is updated.
 */
export const VSA_ARTIFACT_TYPE = MEDIA_TYPES.dsseEnvelope;
/** Names what the envelope holds, so a reader can skip other DSSE referrers without fetching them. */
export const PREDICATE_ANNOTATION = 'in-toto.io/predicate-type';
const CREATED = 'org.opencontainers.image.created';

export type PushedVsa = { readonly location: string; readonly digest: string; readonly via: 'api' | 'tag-schema' };

/** Whether a referrer descriptor is (claims to be) a verification summary. */
export function isVsaReferrer(d: Descriptor): boolean {
  return d.artifactType === VSA_ARTIFACT_TYPE && d.annotations?.[PREDICATE_ANNOTATION] === VSA_PREDICATE_TYPE;
}

/** Pushes the envelope as a referrer of `subject` (the image manifest's descriptor); returns where it now is. */
export async function pushVsaReferrer(client: OciClient, repo: RepositoryRef, subject: Descriptor, envelopeBytes: Buffer, now: Date): Promise<PushedVsa> {
  const config = await pushBlob(client, repo, Buffer.from('{}'), MEDIA_TYPES.ociEmpty);
  const layer = await pushBlob(client, repo, envelopeBytes, MEDIA_TYPES.dsseEnvelope);
  const annotations = { [PREDICATE_ANNOTATION]: VSA_PREDICATE_TYPE, [CREATED]: now.toISOString() };
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      artifactType: VSA_ARTIFACT_TYPE,
      config,
      layers: [layer],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      annotations,
    }),
  );
  const digest = await pushManifest(client, repo, bytes, MEDIA_TYPES.ociManifest);
  const descriptor: Descriptor = { mediaType: MEDIA_TYPES.ociManifest, digest, size: bytes.length, artifactType: VSA_ARTIFACT_TYPE, annotations };
  const listed = await listReferrers(client, repo, subject.digest);
  if (listed.via === 'tag-schema' && !listed.descriptors.some((d) => d.digest === digest)) {
    // The tag schema: the index under `sha256-<hex>` lists every referrer; it is appended to (last write wins).
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [...listed.descriptors, descriptor] }));
    await pushManifest(client, repo, index, MEDIA_TYPES.ociIndex, subject.digest.replace(':', '-'));
  }
  return { location: `${repositoryName(repo)}@${digest}`, digest, via: listed.via };
}
