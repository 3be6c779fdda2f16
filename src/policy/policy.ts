import type { KeyObject } from 'node:crypto';
import type { Matcher } from './matcher.ts';

export type TrustedKey = {
  /** hex sha256 of the key's SPKI DER: what SIGNER reports for a key signer. */
  readonly fingerprint: string;
  readonly key: KeyObject;
  /** Where it came from (a file path, or "public-key #N"), for messages. */
  readonly label: string;
};

export type KeylessSigner = { readonly identity: Matcher; readonly issuer: Matcher };

/** What an acceptable attestation must satisfy. Built once from the flags (src/cli). */
export type Policy = {
  readonly keys: readonly TrustedKey[];
  readonly keyless: readonly KeylessSigner[];
  /** Allowed predicate types; empty = any. */
  readonly predicateTypes: readonly string[];
};
