import { GateError } from '../errors.ts';
import type { ImageDigest } from '../digest.ts';
import { IMAGE_MANIFEST_TYPES, MEDIA_TYPES, type OciClient } from './client.ts';
import { isContentFault, type AttTagEvidence } from './evidence-types.ts';
import { repositoryName, type RepositoryRef } from './reference.ts';
import { schemaError, validateCosignBundleAnnotation, type CosignBundleAnnotation } from './schemas.ts';

/**
 * cosign's tag-based attestation layout, as Tekton Chains writes it: the tag `sha256-<hex>.att` in the
 * image's repository names an image manifest whose layers are DSSE envelopes
 * (`application/vnd.dsse.envelope.v1+json`), each annotated with `dev.sigstore.cosign/bundle` (the
 * Rekor SET and payload) and, for keyless signing, `dev.sigstore.cosign/certificate` and `/chain`.
 */

export const ANNOTATION_BUNDLE = 'dev.sigstore.cosign/bundle';
export const ANNOTATION_PREDICATE_TYPE = 'predicateType';

/** `sha256-<hex>.att` */
export function attTag(digest: ImageDigest): string {
  return `${digest.algorithm}-${digest.hex}.att`;
}

/** How many DSSE layers of the `.att` manifest are read at most (one per attestation; anyone who can push adds more). */
export const MAX_ATT_LAYERS = 64;

/**
 * Reads the `.att` manifest for `digest` and its DSSE layers; [] when there is no such tag. Over MAX_ATT_LAYERS,
 * the last ones are read (cosign appends each new attestation as a layer) and `note` says how many were skipped.
 */
export async function fetchAttTagEvidence(client: OciClient, repo: RepositoryRef, digest: ImageDigest, note?: (m: string) => void): Promise<AttTagEvidence[]> {
  const tag = attTag(digest);
  const tagName = `${repositoryName(repo)}:${tag}`;
  const fetched = await client.tryGetManifest(repo, tag, IMAGE_MANIFEST_TYPES);
  if (!fetched) return [];
  if (fetched.kind !== 'manifest') throw new GateError('REGISTRY_MALFORMED', `${tagName} is an index, not an image manifest`);

  let layers = fetched.manifest.layers.filter((l) => l.mediaType === MEDIA_TYPES.dsseEnvelope);
  if (layers.length > MAX_ATT_LAYERS) {
    note?.(`${tagName}: ${layers.length} attestation layers; only the last ${MAX_ATT_LAYERS} were read, ${layers.length - MAX_ATT_LAYERS} skipped`);
    layers = layers.slice(-MAX_ATT_LAYERS);
  }
  const out: AttTagEvidence[] = [];
  for (const layer of layers) {
    const location = `${repositoryName(repo)}@${layer.digest}`;
    let envelopeBytes: Buffer;
    try {
      envelopeBytes = await client.getBlob(repo, layer.digest, { expectedSize: layer.size });
    } catch (err) {
      // A missing or lying layer is no evidence; the other layers and the log still decide.
      if (!isContentFault(err)) throw err;
      note?.(`${tagName}: layer ${layer.digest} skipped: ${(err as GateError).message.slice(0, 300)}`);
      continue;
    }
    const annotations = layer.annotations ?? {};
    const item: {
      -readonly [K in keyof AttTagEvidence]: AttTagEvidence[K];
    } = {
      source: 'att-tag',
      location,
      envelopeBytes,
      tag: tagName,
      manifestDigest: fetched.digest,
      layerDigest: layer.digest,
      annotations,
    };
    const bundle = annotations[ANNOTATION_BUNDLE];
    if (bundle !== undefined && bundle !== '') {
      // One malformed layer fails its own candidate, not the whole run (anyone who can push could do that).
      try {
        item.cosignBundle = parseCosignBundle(bundle, location);
      } catch (err) {
        item.annotationError = err as GateError;
      }
    }
    const predicateType = annotations[ANNOTATION_PREDICATE_TYPE];
    if (predicateType) item.predicateType = predicateType;
    out.push(item);
  }
  return out;
}

export function parseCosignBundle(text: string, location: string): CosignBundleAnnotation {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new GateError('REGISTRY_MALFORMED', `${location}: annotation ${ANNOTATION_BUNDLE} is not valid JSON`);
  }
  if (!validateCosignBundleAnnotation(json)) {
    throw new GateError('REGISTRY_MALFORMED', `${location}: annotation ${ANNOTATION_BUNDLE}: ${schemaError(validateCosignBundleAnnotation)}`);
  }
  return json;
}
