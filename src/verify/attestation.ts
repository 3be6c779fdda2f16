import { crypto as sigcrypto, dsse } from '@sigstore/core';
import { parseEnvelope, type DsseEnvelope } from '../attest/envelope.ts';
import { GateError } from '../errors.ts';
import { parseLoggedSigner, type LoggedSigner } from '../key/keys.ts';
import { verifyWithKey } from '../trust/signature.ts';
import type { DsseV001Body, Hash, IntotoV001Body, IntotoV002Body, SupportedBody } from './bodies.ts';

/** The attestation an entry stands for, bound to the entry's body. */
export type BoundAttestation = {
  /** The in-toto statement bytes. */
  readonly payload: Buffer;
  /** Where the payload came from. */
  readonly from: 'log' | 'registry';
  /**
   * Each signer the body logged, with the signature that must verify over the DSSE PAE.
   * intoto 0.0.1 logs no signature: when the payload comes from the log, `sig` is absent and the
   * binding is the payload hash alone (Rekor verified the signature at upload; the SET covers the body).
   */
  readonly signatures: readonly { signer: LoggedSigner; sig?: Buffer }[];
  readonly payloadType?: string;
};

/** The fix for a missing attestation: the image's reference, so that the registry's copy can be read. */
const IMAGE_REF = { hint: { give: 'image-reference' } } as const;

const b64 = (s: string): Buffer => Buffer.from(s, 'base64');
const sha256hex = (b: Buffer): string => sigcrypto.digest('sha256', b).toString('hex');
const pemFromB64 = (s: string): string => b64(s).toString('utf8');

function checkHash(expected: Hash | undefined, actual: Buffer, what: string, where: string): void {
  if (!expected) throw new GateError('ATTESTATION_BINDING', `${where}: the body records no ${what}`);
  // Every hash here is sha256: Rekor's schemas, which decodeEntry applies first, allow no other algorithm.
  if (sha256hex(actual) !== expected.value.toLowerCase()) {
    throw new GateError('ATTESTATION_HASH', `${where}: the ${what} in the body does not match the attestation (sha256 ${sha256hex(actual)})`);
  }
}

function sameSignatures(envelope: DsseEnvelope, logged: readonly Buffer[], where: string): void {
  const envSigs = envelope.signatures.map((s) => b64(s.sig));
  const all = logged.every((l) => envSigs.some((e) => sigcrypto.bufferEqual(e, l)));
  if (!all || envSigs.length !== logged.length) {
    throw new GateError('ATTESTATION_BINDING', `${where}: the registry envelope's signatures are not the ones the log recorded`);
  }
}

/** The registry copy of an envelope; `exact` when these are the bytes that were uploaded (a cosign .att layer). */
export type RegistryEnvelope = { readonly bytes: Buffer; readonly exact: boolean };

/**
 * The envelope hash binds the uploaded bytes. A Sigstore bundle carries the envelope re-encoded, so its bytes
 * need not hash the same; the entry is then bound by its signatures (over the PAE: payload type and payload)
 * and the payload hash, as @sigstore/verify binds a bundle's envelope to its entry.
 */
function checkEnvelopeHash(expected: Hash | undefined, env: RegistryEnvelope, what: string, where: string): void {
  if (env.exact) checkHash(expected, env.bytes, what, where);
}

function intotoV001(body: IntotoV001Body, logData: Buffer | undefined, registry: RegistryEnvelope | undefined, where: string): BoundAttestation {
  const signer = parseLoggedSigner(pemFromB64(body.spec.publicKey), where);
  if (registry) {
    // Hand-written binding: no library knows intoto 0.0.1 (the log keeps hashes and the signer, no signature).
    checkEnvelopeHash(body.spec.content.hash, registry, 'envelope hash (spec.content.hash)', where);
    const env = parseEnvelope(registry.bytes, where);
    const payload = b64(env.payload);
    checkHash(body.spec.content.payloadHash, payload, 'payload hash (spec.content.payloadHash)', where);
    return { payload, from: 'registry', payloadType: env.payloadType, signatures: env.signatures.map((s) => ({ signer, sig: b64(s.sig) })) };
  }
  if (logData) {
    checkHash(body.spec.content.payloadHash, logData, 'payload hash (spec.content.payloadHash)', where);
    return { payload: logData, from: 'log', signatures: [{ signer }] };
  }
  throw new GateError(
    'ATTESTATION_MISSING',
    `${where}: the log holds no attestation for this intoto entry (Rekor keeps payloads up to 100 KB), and the run has no copy from the registry`,
    IMAGE_REF,
  );
}

function intotoV002(body: IntotoV002Body, logData: Buffer | undefined, registry: RegistryEnvelope | undefined, where: string): BoundAttestation {
  const logged = body.spec.content.envelope.signatures.map((s) => ({
    signer: parseLoggedSigner(pemFromB64(s.publicKey), where),
    // The signature is base64 of the base64 signature in this kind's body.
    sig: b64(b64(s.sig).toString('utf8')),
  }));
  const payloadType = body.spec.content.envelope.payloadType;
  let payload: Buffer;
  let from: 'log' | 'registry';
  if (registry) {
    checkEnvelopeHash(body.spec.content.hash, registry, 'envelope hash (spec.content.hash)', where);
    const env = parseEnvelope(registry.bytes, where);
    if (env.payloadType !== payloadType) throw new GateError('ATTESTATION_BINDING', `${where}: payload type differs from the logged one`);
    sameSignatures(env, logged.map((l) => l.sig), where);
    payload = b64(env.payload);
    from = 'registry';
  } else if (logData) {
    payload = logData;
    from = 'log';
  } else {
    throw new GateError('ATTESTATION_MISSING', `${where}: the log holds no attestation for this intoto entry, and the run has no copy from the registry`, IMAGE_REF);
  }
  checkHash(body.spec.content.payloadHash, payload, 'payload hash (spec.content.payloadHash)', where);
  return { payload, from, payloadType, signatures: logged };
}

function dsseV001(body: DsseV001Body, registry: RegistryEnvelope | undefined, where: string): BoundAttestation {
  if (!registry) {
    throw new GateError(
      'ATTESTATION_MISSING',
      `${where}: a dsse entry's envelope is never kept by Rekor, only in the registry beside the image, and the run has no copy from there`,
      IMAGE_REF,
    );
  }
  checkEnvelopeHash(body.spec.envelopeHash, registry, 'envelope hash (spec.envelopeHash)', where);
  const env = parseEnvelope(registry.bytes, where);
  const payload = b64(env.payload);
  checkHash(body.spec.payloadHash, payload, 'payload hash (spec.payloadHash)', where);
  const logged = body.spec.signatures.map((s) => ({ signer: parseLoggedSigner(pemFromB64(s.verifier), where), sig: b64(s.signature) }));
  sameSignatures(env, logged.map((l) => l.sig), where);
  return { payload, from: 'registry', payloadType: env.payloadType, signatures: logged };
}

/**
 * Binds an attestation to a verified log entry: from the log's `attestation.data`, or from an envelope found in
 * the registry, which stands in only when it is the one the log signed.
 */
export function bindAttestation(
  body: SupportedBody,
  logData: Buffer | undefined,
  registryEnvelope: RegistryEnvelope | undefined,
  where: string,
): BoundAttestation {
  if (body.kind === 'dsse') return dsseV001(body, registryEnvelope, where);
  if (body.apiVersion === '0.0.1') return intotoV001(body, logData, registryEnvelope, where);
  return intotoV002(body, logData, registryEnvelope, where);
}

/** Verifies a DSSE signature over the pre-authentication encoding (PAE) with @sigstore/core, hashed as the key's curve calls for. */
export function verifyDsseSignature(payloadType: string, payload: Buffer, sig: Buffer, key: sigcrypto.KeyObject): boolean {
  return verifyWithKey(dsse.preAuthEncoding(payloadType, payload), key, sig);
}
