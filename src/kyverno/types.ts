// What an admission policy asks of an image, compiled from whichever Kyverno policy kind stated it (index.ts
// dispatches by apiVersion/kind): the verifyImages entries that apply, each a set of required signatures and
// attestations, named as the policy names them.
import type { KeylessSigner, PredicateCheck } from '../policy/policy.ts';
import type { TrustedKey } from '../trust/public-keys.ts';
import type { CompiledIvp } from './ivp-policy.ts';

/** Where an attestor's entries are looked up: Kyverno's `rekor` block, as Kyverno reads it. */
export type LogChoice = {
  /** The log's URL; '' when the policy's rekor block has none (Kyverno then has no log to ask: `no Host in request URL`). */
  readonly url: string;
  /** `rekor.pubkey`: the log's key (PEM), for a private log. */
  readonly publicKeyPem?: string;
  /** `rekor.ignoreTlog: true`: the log is not checked (honoured only when the user says so). */
  readonly ignoreTlog: boolean;
};

/** One attestor entry: a signer and its log, or a nested attestor set. */
export type AttestorEntry =
  | { readonly kind: 'signer'; readonly path: string; readonly keys: readonly TrustedKey[]; readonly keyless: readonly KeylessSigner[]; readonly log: LogChoice }
  | { readonly kind: 'nested'; readonly path: string; readonly set: AttestorSet };

/** `attestors[i]`: at least `count` of its entries must pass (Kyverno: count null or 0 means every entry). */
export type AttestorSet = { readonly path: string; readonly count: number; readonly entries: readonly AttestorEntry[] };

/** `attestations[i]`: an attestation of `type` by the attestors, whose predicate satisfies the conditions. */
export type AttestationRequirement = {
  readonly path: string;
  readonly type: string;
  /** Empty: the other requirements' signers (flags) sign it. */
  readonly attestors: readonly AttestorSet[];
  /** The conditions as a predicate check (undefined: none). */
  readonly conditions?: PredicateCheck;
};

/** One `verifyImages` entry of one rule. */
export type ImageRule = {
  /** `<kind>/<name>` of the policy. */
  readonly policy: string;
  readonly rule: string;
  /** `verifyImages[i]` */
  readonly entry: string;
  readonly imageReferences: readonly string[];
  readonly skipImageReferences: readonly string[];
  /** Where signatures are read: `Cosign` (.sig tags; referrers with cosignOCI11), `SigstoreBundle` (bundle referrers). */
  readonly type: 'Cosign' | 'SigstoreBundle';
  /** `cosignOCI11`: a Cosign rule also reads OCI 1.1 referrers. */
  readonly cosignOCI11: boolean;
  readonly attestors: readonly AttestorSet[];
  readonly attestations: readonly AttestationRequirement[];
};

export type AdmissionPolicy = {
  readonly source: string;
  /** The verifyImages entries of kyverno.io/v1 policies. */
  readonly rules: readonly ImageRule[];
  /** The ImageValidatingPolicies (policies.kyverno.io/v1, v1beta1); absent: none. */
  readonly ivps?: readonly CompiledIvp[];
};
