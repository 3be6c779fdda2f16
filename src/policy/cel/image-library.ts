import { celFunc, CelScalar, isCelList, isCelMap, listType, type CelFunc, type CelValue } from '@bufbuild/cel';

/**
 * Kyverno's image verification CEL library (its ImageValidatingPolicy `validations`), for one image, over
 * verification results the caller computed beforehand with rekor-gate's own checks (the CEL worker cannot
 * reach the log or the registry). Semantics from kyverno/kyverno 111e07bbecc66abfde36ab99969af22d7a961003,
 * pkg/cel/libs/imageverify (lib.go, impl.go):
 * - verifyImageSignatures(image, [attestors]) -> int: how many of the attestors verified the image's signature;
 *   0 when the image does not match the policy's matchImageReferences;
 * - verifyAttestationSignatures(image, attestation, [attestors]) -> int: how many attestors verified that
 *   attestation; an attestation the policy does not name is an error ("attestation not found in policy");
 * - extractPayload(image, attestation) -> the verified payload (for in-toto, the statement); fails unless a
 *   verifyAttestationSignatures call in this evaluation verified it first (Kyverno: "intoto attestation payload
 *   cannot be fetch before verifying"; rekor-gate asks the same of referrer attestations, which Kyverno reads
 *   unverified);
 * - getImageData(image) -> the image's data (reference parts, digest; manifest and config when known).
 * Each verification that checked something records the image as attempted, and as verified when a count > 0:
 * what Kyverno's validationConfigurations.required reads back (results.go).
 */

/** What the caller verified, by attestor and attestation name. */
export type ImageResults = {
  readonly image: string;
  /** Whether the image matches the policy's matchImageReferences (computed by the caller). */
  readonly matched: boolean;
  /** attestor name -> whether its image signature verified. */
  readonly signatures: Readonly<Record<string, boolean>>;
  /** attestation name -> attestor name -> the verified payload (absent: not verified by that attestor). */
  readonly attestations: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly imageData: unknown;
};

/** What an evaluation did: whether any verification was attempted for the image, and whether one passed. */
export type ImageRecord = { attempted: boolean; verified: boolean };

export const IMAGE_FUNCTIONS: ReadonlySet<string> = new Set(['verifyImageSignatures', 'verifyAttestationSignatures', 'extractPayload', 'getImageData']);

function attestorNames(list: CelValue): string[] {
  if (!isCelList(list)) throw new Error('the attestors must be a list of attestors (attestors.<name>)');
  const names: string[] = [];
  for (const a of list) {
    const name = isCelMap(a) ? a.get('name') : typeof a === 'string' ? a : undefined;
    if (typeof name !== 'string') throw new Error('an attestor in the list is not one of the policy\'s attestors (attestors.<name>)');
    names.push(name);
  }
  return names;
}

/** The library's functions, bound to one evaluation's results and record. */
export function imageFunctions(r: ImageResults, record: ImageRecord): CelFunc[] {
  const verifiedNow = new Set<string>();
  const sameImage = (image: string): void => {
    if (image !== r.image) throw new Error(`image ${image} is not the image being verified (${r.image})`);
  };
  return [
    celFunc('verifyImageSignatures', [CelScalar.STRING, listType(CelScalar.DYN)], CelScalar.INT, (image, attestors) => {
      sameImage(image);
      if (!r.matched) return 0n;
      const names = attestorNames(attestors);
      const count = names.filter((n) => r.signatures[n] === true).length;
      if (names.length > 0) {
        record.attempted = true;
        record.verified ||= count > 0;
      }
      return BigInt(count);
    }),
    celFunc('verifyAttestationSignatures', [CelScalar.STRING, CelScalar.STRING, listType(CelScalar.DYN)], CelScalar.INT, (image, attestation, attestors) => {
      sameImage(image);
      if (!r.matched) return 0n;
      const byAttestor = r.attestations[attestation];
      if (byAttestor === undefined) throw new Error(`attestation not found in policy: ${attestation}`);
      const names = attestorNames(attestors);
      const count = names.filter((n) => byAttestor[n] !== undefined).length;
      if (count > 0) verifiedNow.add(attestation);
      if (names.length > 0) {
        record.attempted = true;
        record.verified ||= count > 0;
      }
      return BigInt(count);
    }),
    celFunc('extractPayload', [CelScalar.STRING, CelScalar.STRING], CelScalar.DYN, (image, attestation) => {
      sameImage(image);
      const byAttestor = r.attestations[attestation];
      if (byAttestor === undefined) throw new Error(`attestation not found in policy: ${attestation}`);
      if (!verifiedNow.has(attestation)) {
        throw new Error(`the payload of attestation ${attestation} cannot be read before verifyAttestationSignatures verified it`);
      }
      const payload = Object.values(byAttestor).find((p) => p !== undefined);
      return payload as never;
    }),
    celFunc('getImageData', [CelScalar.STRING], CelScalar.DYN, (image) => {
      sameImage(image);
      return r.imageData as never;
    }),
  ];
}
