import type { TrustedKey } from '../trust/public-keys.ts';
import type { Matcher } from './matcher.ts';
import type { StatementRule } from './provenance/rules.ts';

export type { StatementRule } from './provenance/rules.ts';

export type KeylessSigner = { readonly identity: Matcher; readonly issuer: Matcher; readonly label?: string };

/** A JSON Schema the predicate must satisfy, compiled once. Returns an error string, or undefined when valid. */
export type PredicateCheck = (predicate: unknown) => string | undefined;

/** What an acceptable attestation must satisfy. Built once from the flags and the policy file (src/cli). */
export type Policy = {
  readonly keys: readonly TrustedKey[];
  readonly keyless: readonly KeylessSigner[];
  /** Allowed predicate types; empty = any. */
  readonly predicateTypes: readonly string[];
  /** Allowed builder IDs (exact); empty = any. */
  readonly builderIds?: readonly string[];
  /** The predicate must satisfy this JSON Schema. */
  readonly predicateSchema?: PredicateCheck;
  /** The attestation's integrated time must be at most this many seconds before the verification time. */
  readonly maxAgeSeconds?: number;
  /** Rules over the whole statement (provenance rules, CEL conditions): each returns what fails, empty when it holds. */
  readonly statementRules?: readonly StatementRule[];
  /** Distinct trusted signers that must each have a passing entry (like Kyverno's attestor count). Default 1. */
  readonly minSigners?: number;
  /** Refuse an attestation whose DSSE signature only the log vouches for (intoto 0.0.1 with no envelope to check). */
  readonly requireEnvelope?: boolean;
  /**
   * An image signature by a trusted signer is required besides the attestation: a cosign `.sig` layer, or a
   * signature bundle (cosign 3, Chains' sigstore-bundle format) beside the image. Default false.
   */
  readonly requireSignature?: boolean;
  /** An attestation is required (default true); false: only the image signature (an admission policy's attestor). */
  readonly requireAttestation?: boolean;
  /**
   * The image signature is verified by a trusted key alone, its log entry not checked (an admission policy's
   * `rekor.ignoreTlog: true`, allowed by the user). Never set by the flags or the policy file.
   */
  readonly signatureWithoutLog?: boolean;
  /** Where the policy came from (for the VSA's policy field): a file URI and its sha256. */
  readonly source?: { readonly uri: string; readonly sha256: string };
};
