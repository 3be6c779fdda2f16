// Binding an image signature (payload, signature, the signer's key or certificate) to a hashedrekord 0.0.1 body.
import { crypto as sigcrypto } from '@sigstore/core';
import type { KeyObject } from 'node:crypto';
import { GateError } from '../errors.ts';
import { parseLoggedSigner, type LoggedSigner } from '../key/keys.ts';
import { pemBlocks } from '../trust/public-keys.ts';

/** The fields of a hashedrekord 0.0.1 body that binding reads (its shape checked by Rekor's schema first). */
export type HashedRekordV001Body = {
  kind: 'hashedrekord';
  apiVersion: '0.0.1';
  spec: {
    signature: { content?: string; publicKey?: { content?: string } };
    data: { hash?: { algorithm: string; value: string } };
  };
};

/** An image signature as the registry holds it. */
export type SignatureLayer = {
  /** The signed payload's bytes (the `.sig` layer blob, or a bundle envelope's payload). */
  readonly payload: Buffer;
  /** The raw signature over the payload. */
  readonly signature: Buffer;
  /** The signer's certificate beside it (`dev.sigstore.cosign/certificate`, a bundle's certificate), PEM. */
  readonly certificatePem?: string;
};

export type BoundSignature = { readonly signer: LoggedSigner; readonly hashAlgorithm: 'sha256' | 'sha384' | 'sha512' };

const HASHES = new Set(['sha256', 'sha384', 'sha512']);

/**
 * Binds a signature to a hashedrekord 0.0.1 body the way cosign's VerifyBundle does (pkg/cosign/verify.go
 * compareSigs, comparePublicKey, bundleHash at d6d86c224e5899b54f56cbb063b79dc43abc11c2): the body's data hash is
 * the payload's, its signature is the layer's, and a certificate beside the layer is the one the body logged.
 * Hand-written: no Sigstore library binds a cosign `.sig` layer to its entry.
 */
export function bindSignature(body: HashedRekordV001Body, layer: SignatureLayer, where: string): BoundSignature {
  const hash = body.spec.data.hash;
  if (!hash) throw new GateError('ATTESTATION_BINDING', `${where}: the hashedrekord body records no data hash`);
  const algorithm = hash.algorithm.toLowerCase();
  if (!HASHES.has(algorithm)) throw new GateError('ATTESTATION_BINDING', `${where}: the data hash uses ${hash.algorithm}; only sha256, sha384 and sha512 are supported`);
  const actual = sigcrypto.digest(algorithm, layer.payload).toString('hex');
  if (actual !== hash.value.toLowerCase()) {
    throw new GateError('ATTESTATION_HASH', `${where}: the data hash in the body does not match the signed payload (${algorithm} ${actual})`);
  }
  const logged = Buffer.from(body.spec.signature.content ?? '', 'base64');
  if (logged.length === 0 || !sigcrypto.bufferEqual(logged, layer.signature)) {
    throw new GateError('ATTESTATION_BINDING', `${where}: the signature beside the image is not the one the log recorded`);
  }
  const pem = Buffer.from(body.spec.signature.publicKey?.content ?? '', 'base64').toString('utf8');
  const signer = parseLoggedSigner(pem, where);
  if (layer.certificatePem !== undefined && layer.certificatePem !== '') {
    const beside = pemBlocks(layer.certificatePem)[0];
    const same = signer.kind === 'certificate' && beside !== undefined && beside.pem.replace(/\s+/g, '') === signer.pem.replace(/\s+/g, '');
    if (!same) throw new GateError('ATTESTATION_BINDING', `${where}: the certificate beside the signature is not the one the log recorded`);
  }
  return { signer, hashAlgorithm: algorithm as BoundSignature['hashAlgorithm'] };
}

/**
 * The signature verified over the payload with the logged key, hashed as the body's data hash says (Rekor's
 * hashedrekord verifies the signature over that digest); Ed25519 signs the payload itself.
 */
export function verifyPayloadSignature(layer: SignatureLayer, key: KeyObject, bound: Pick<BoundSignature, 'hashAlgorithm'>): boolean {
  const algorithm = key.asymmetricKeyType === 'ed25519' ? undefined : bound.hashAlgorithm;
  try {
    return sigcrypto.verify(layer.payload, key, layer.signature, algorithm);
  } catch {
    return false;
  }
}
