import type { ImageDigest } from '../digest.ts';
import { GateError } from '../errors.ts';
import { resolveDigest, type EvidenceOptions } from './evidence.ts';
import type { ImageRef } from './reference.ts';

/**
 * The rule every path that reads the registry through an image reference obeys, whatever the evidence it looks
 * for (attestations, summaries, an index's platforms): the reference must name the digest the run verifies. A tag
 * is resolved to the digest of the manifest it names now; a reference by digest must be that digest. Otherwise the
 * evidence found would be of one image while the reference (a pipeline's IMAGE_URL, deployed later) names another.
 */
export async function checkReferenceNamesDigest(ref: ImageRef, imageUrl: string, digest: ImageDigest, opts: EvidenceOptions): Promise<void> {
  const resolved = await resolveDigest(ref, opts);
  if (resolved !== digest.value) {
    throw new GateError(
      'TAG_DIGEST_MISMATCH',
      `the image reference ${imageUrl} names ${resolved}, not the image digest ${digest.value}${ref.digest ? '' : ' (the tag has moved, or the digest is of another image)'}`,
    );
  }
}
