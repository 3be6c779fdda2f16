import { GateError } from '../errors.ts';
import type { ImageDigest } from '../digest.ts';
import { IMAGE_MANIFEST_TYPES, MEDIA_TYPES, type OciClient } from './client.ts';
import { isContentFault, type AttTagEvidence, type SigTagEvidence } from './evidence-types.ts';
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
// cosign pkg/oci/static/signature.go at d6d86c224e5899b54f56cbb063b79dc43abc11c2
const ANNOTATION_SIGNATURE = 'dev.cosignproject.cosign/signature';
const ANNOTATION_CERTIFICATE = 'dev.sigstore.cosign/certificate';
const ANNOTATION_CHAIN = 'dev.sigstore.cosign/chain';
const ANNOTATION_RFC3161 = 'dev.sigstore.cosign/rfc3161timestamp';

/** `sha256-<hex>.att` */
export function attTag(digest: ImageDigest): string {
  return `${digest.algorithm}-${digest.hex}.att`;
}

/** `sha256-<hex>.sig` */
export function sigTag(digest: ImageDigest): string {
  return `${digest.algorithm}-${digest.hex}.sig`;
}

/** How many DSSE layers of the `.att` manifest are read at most (one per attestation; anyone who can push adds more). */
export const MAX_ATT_LAYERS = 64;

/** One layer of a cosign tag's manifest, read: its bytes (digest- and size-checked) and annotations. */
type TagLayer = { readonly location: string; readonly bytes: Buffer; readonly layerDigest: string; readonly annotations: Readonly<Record<string, string>> };

/**
 * The layers of `mediaType` of the manifest a cosign tag (`.att`, `.sig`) names; undefined when there is no
 * such tag. Over MAX_ATT_LAYERS, the last ones are read (cosign appends each new one as a layer) and `note` says
 * how many were skipped; a layer the registry does not serve as described is skipped with a note.
 */
async function fetchTagLayers(
  client: OciClient,
  repo: RepositoryRef,
  tag: string,
  mediaType: string,
  what: string,
  note?: (m: string) => void,
): Promise<{ tagName: string; manifestDigest: string; layers: TagLayer[] } | undefined> {
  const tagName = `${repositoryName(repo)}:${tag}`;
  const fetched = await client.tryGetManifest(repo, tag, IMAGE_MANIFEST_TYPES);
  if (!fetched) return undefined;
  if (fetched.kind !== 'manifest') throw new GateError('REGISTRY_MALFORMED', `${tagName} is an index, not an image manifest`);
  let layers = fetched.manifest.layers.filter((l) => l.mediaType === mediaType);
  if (layers.length > MAX_ATT_LAYERS) {
    note?.(`${tagName}: ${layers.length} ${what} layers; only the last ${MAX_ATT_LAYERS} were read, ${layers.length - MAX_ATT_LAYERS} skipped`);
    layers = layers.slice(-MAX_ATT_LAYERS);
  }
  const out: TagLayer[] = [];
  for (const layer of layers) {
    try {
      const bytes = await client.getBlob(repo, layer.digest, { expectedSize: layer.size });
      out.push({ location: `${repositoryName(repo)}@${layer.digest}`, bytes, layerDigest: layer.digest, annotations: layer.annotations ?? {} });
    } catch (err) {
      // A missing or lying layer is no evidence; the other layers and the log still decide.
      if (!isContentFault(err)) throw err;
      note?.(`${tagName}: layer ${layer.digest} skipped: ${(err as GateError).message.slice(0, 300)}`);
    }
  }
  return { tagName, manifestDigest: fetched.digest, layers: out };
}

/** The layer's `dev.sigstore.cosign/bundle` annotation, parsed; or why it cannot be read. */
function bundleOf(annotations: Readonly<Record<string, string>>, location: string): { cosignBundle?: CosignBundleAnnotation; annotationError?: GateError } {
  const bundle = annotations[ANNOTATION_BUNDLE];
  if (bundle === undefined || bundle === '') return {};
  // One malformed layer fails its own candidate, not the whole run (anyone who can push could do that).
  try {
    return { cosignBundle: parseCosignBundle(bundle, location) };
  } catch (err) {
    return { annotationError: err as GateError };
  }
}

/** Reads the `.att` manifest for `digest` and its DSSE layers; [] when there is no such tag. */
export async function fetchAttTagEvidence(client: OciClient, repo: RepositoryRef, digest: ImageDigest, note?: (m: string) => void): Promise<AttTagEvidence[]> {
  const got = await fetchTagLayers(client, repo, attTag(digest), MEDIA_TYPES.dsseEnvelope, 'attestation', note);
  if (!got) return [];
  return got.layers.map((l): AttTagEvidence => {
    const predicateType = l.annotations[ANNOTATION_PREDICATE_TYPE];
    return {
      source: 'att-tag',
      location: l.location,
      envelopeBytes: l.bytes,
      tag: got.tagName,
      manifestDigest: got.manifestDigest,
      layerDigest: l.layerDigest,
      annotations: l.annotations,
      ...bundleOf(l.annotations, l.location),
      ...(predicateType ? { predicateType } : {}),
    };
  });
}

/**
 * Reads the `.sig` manifest for `digest` (what `cosign sign` before cosign 3 and Tekton Chains' simplesigning
 * format write: cosign pkg/oci/static/signature.go and pkg/oci/remote/write.go at
 * d6d86c224e5899b54f56cbb063b79dc43abc11c2; Chains pkg/chains/storage/oci/simple.go storeLegacy at
 * e44b60fe65e6897e3784ae4cc7f5ffe39581529e): one simple signing layer per signature, its base64 signature in
 * `dev.cosignproject.cosign/signature`, the Rekor SET and entry in `dev.sigstore.cosign/bundle`, keyless
 * signers' `dev.sigstore.cosign/certificate` and `/chain`, an RFC 3161 timestamp in
 * `dev.sigstore.cosign/rfc3161timestamp`. [] when there is no such tag.
 */
export async function fetchSigTagEvidence(client: OciClient, repo: RepositoryRef, digest: ImageDigest, note?: (m: string) => void): Promise<SigTagEvidence[]> {
  const got = await fetchTagLayers(client, repo, sigTag(digest), MEDIA_TYPES.simpleSigning, 'signature', note);
  if (!got) return [];
  return got.layers.map((l): SigTagEvidence => {
    const a = l.annotations;
    return {
      source: 'sig-tag',
      location: l.location,
      payload: l.bytes,
      signature: a[ANNOTATION_SIGNATURE] ?? '',
      ...(a[ANNOTATION_CERTIFICATE] ? { certificatePem: a[ANNOTATION_CERTIFICATE] } : {}),
      ...(a[ANNOTATION_CHAIN] ? { chainPem: a[ANNOTATION_CHAIN] } : {}),
      ...(a[ANNOTATION_RFC3161] ? { rfc3161Timestamp: a[ANNOTATION_RFC3161] } : {}),
      tag: got.tagName,
      manifestDigest: got.manifestDigest,
      layerDigest: l.layerDigest,
      ...bundleOf(a, l.location),
    };
  });
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
