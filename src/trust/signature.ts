// The hash a key signs with, and signature checks that use it: one rule for attestations, signatures and summaries.
import type { KeyObject } from 'node:crypto';
import { crypto as sigcrypto } from '@sigstore/core';

/** A digest name for node's crypto; null: the key type hashes nothing itself (Ed25519 signs the message). */
export type KeyHash = 'sha256' | 'sha384' | 'sha512' | null;

/**
 * The hash a key's type calls for, as Sigstore's key details pair them (PKIX_ECDSA_P256_SHA_256,
 * PKIX_ECDSA_P384_SHA_384, PKIX_ECDSA_P521_SHA_512, PKIX_RSA_PKCS1V15_*_SHA256, PKIX_ED25519) and as cosign signs:
 * ECDSA by curve, RSA PKCS#1 v1.5 with SHA-256, Ed25519 over the message. undefined: a key type not supported.
 */
export function hashForKey(key: KeyObject): KeyHash | undefined {
  switch (key.asymmetricKeyType) {
    case 'ed25519':
      return null;
    case 'rsa':
      return 'sha256';
    case 'ec':
      switch (key.asymmetricKeyDetails?.namedCurve) {
        case 'prime256v1':
          return 'sha256';
        case 'secp384r1':
          return 'sha384';
        case 'secp521r1':
          return 'sha512';
        default:
          return undefined;
      }
    default:
      return undefined;
  }
}

/** Verifies `sig` over `data` with @sigstore/core, hashing as the key's type calls for; an unsupported key never verifies. */
export function verifyWithKey(data: Buffer, key: KeyObject, sig: Buffer): boolean {
  const hash = hashForKey(key);
  if (hash === undefined) return false;
  return sigcrypto.verify(data, key, sig, hash ?? undefined);
}
