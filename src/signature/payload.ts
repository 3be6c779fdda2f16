// What an image signature signs: cosign's simple signing payload, naming the image by its manifest digest.
import type { ImageDigest } from '../digest.ts';
import { GateError } from '../errors.ts';
import { capped } from '../text.ts';
import { simpleSigningError, type SimpleSigning } from './schema.ts';

/** The layer media type of a cosign signature (cosign pkg/types/media.go SimpleSigningMediaType). */
export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';

/** `critical.type` of an image signature (cosign specs/SIGNATURE_SPEC.md). */
export const COSIGN_SIGNATURE_TYPE = 'cosign container image signature';

/**
 * The predicate type of the in-toto statement cosign 3 signs for `cosign sign` with the new bundle format
 * (cosign pkg/types/predicate.go CosignSignPredicateType at d6d86c224e5899b54f56cbb063b79dc43abc11c2): a
 * statement of this type is an image signature, not an attestation.
 */
export const COSIGN_SIGN_PREDICATE_TYPE = 'https://sigstore.dev/cosign/sign/v1';

/**
 * The payload parsed and checked as cosign's SimpleClaimVerifier does (pkg/cosign/verifiers.go): it must name
 * this image's digest in `critical.image.docker-manifest-digest`; and, beyond cosign, be of type
 * `cosign container image signature`, so that a simple signing payload made for another purpose is no signature.
 */
export function checkSimpleSigning(payload: Buffer, digest: ImageDigest, where: string): SimpleSigning {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new GateError('STATEMENT_MALFORMED', `${where}: the signed payload is not JSON`);
  }
  const err = simpleSigningError(json);
  if (err) throw new GateError('STATEMENT_MALFORMED', `${where}: the signed payload is not a cosign simple signing payload: ${err}`);
  const p = json as SimpleSigning;
  if (p.critical.type !== COSIGN_SIGNATURE_TYPE) {
    throw new GateError('STATEMENT_MALFORMED', `${where}: the signed payload's critical.type is "${capped(p.critical.type)}", not "${COSIGN_SIGNATURE_TYPE}"`);
  }
  const named = p.critical.image['docker-manifest-digest'];
  if (named !== digest.value) {
    throw new GateError('SUBJECT_MISMATCH', `${where}: the signature is of ${capped(named)} (critical.image.docker-manifest-digest), not of the image digest ${digest.value}`);
  }
  return p;
}
