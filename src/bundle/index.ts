import type { KeyObject } from 'node:crypto';
import { bundleFromJSON, ValidationError, type Bundle, type Envelope, type TransparencyLogEntry } from '@sigstore/bundle';
import type { X509Certificate } from '@sigstore/core';
import { PolicyError, toSignedEntity, VerificationError, Verifier, type SignedEntity, type Signer, type TrustMaterial } from '@sigstore/verify';
import { filterTLogAuthorities } from '@sigstore/verify/dist/trust/index.js';
import { errorMessage, GateError, type ErrorCode } from '../errors.ts';
import { certificateErrorCode } from '../key/signer.ts';
import { checkCodeSigningUsage } from '../key/usage.ts';
import { validityRange, type Trust } from '../trust/index.ts';
import { bundleSchemaError } from './schema.ts';
import { capped } from '../text.ts';

/** Who signed the bundle, as @sigstore/verify established it (identity policy is the caller's). */
export type BundleSigner =
  | {
      readonly kind: 'certificate';
      readonly certificate: X509Certificate;
      /** The certificate's subject alternative name (the keyless identity). */
      readonly san?: string;
      /** The Fulcio OIDC issuer extension. */
      readonly issuer?: string;
      readonly key: KeyObject;
    }
  | { readonly kind: 'key'; readonly hint: string; readonly key: KeyObject };

export type BundleTlogEntry = {
  readonly logIndex: string;
  /** hex */
  readonly logID: string;
  readonly kind: string;
  readonly version: string;
  /** Only when a SET vouches for it (Rekor v1); Rekor v2 entries have none. */
  readonly integratedTime?: Date;
  readonly set: boolean;
  readonly inclusionProof: boolean;
};

export type BundleVerification = {
  readonly mediaType: string;
  /** The DSSE envelope of an attestation bundle (its statement is the caller's to check). */
  readonly envelope?: Envelope;
  readonly signer: BundleSigner;
  readonly tlogEntries: readonly BundleTlogEntry[];
  /** The verified times of signing: integrated times with a SET and RFC 3161 timestamps. */
  readonly signedAt: readonly Date[];
};

export type BundleVerifyOptions = {
  /** The signed bytes, needed for a message-signature bundle (a DSSE bundle carries its payload). */
  artifact?: Uint8Array;
  /** Trusted signer keys for a bundle signed with a managed key (any of them may verify it). */
  keys?: readonly KeyObject[];
  /** Names the bundle in messages (default "bundle"). */
  where?: string;
};

function codeFor(err: VerificationError | PolicyError, detail: string): ErrorCode {
  switch (err.code) {
    case 'TLOG_INCLUSION_PROMISE_ERROR':
      return 'TLOG_SET';
    case 'TLOG_INCLUSION_PROOF_ERROR':
      return /checkpoint/.test(detail) ? 'TLOG_CHECKPOINT' : 'TLOG_INCLUSION_PROOF';
    case 'TLOG_MISSING_INCLUSION_ERROR':
      return 'TLOG_INCLUSION_PROOF';
    case 'TLOG_BODY_ERROR':
      return 'ATTESTATION_BINDING';
    case 'TLOG_ERROR':
      return 'TLOG_INCONSISTENT';
    case 'CERTIFICATE_ERROR':
      return certificateErrorCode(err);
    case 'PUBLIC_KEY_ERROR':
      return 'SIGNER_UNTRUSTED';
    case 'SIGNATURE_ERROR':
      return 'ATTESTATION_SIGNATURE';
    case 'TIMESTAMP_ERROR':
      return 'TIMESTAMP';
    case 'UNTRUSTED_SIGNER_ERROR':
      return 'CERTIFICATE_IDENTITY';
    default:
      return 'NOT_VERIFIED';
  }
}

function toGateError(err: unknown, where: string): GateError {
  if (err instanceof GateError) return err;
  if (err instanceof VerificationError || err instanceof PolicyError) {
    // The library's messages may quote the bundle.
    const detail = capped(err.cause ? `${err.message}: ${errorMessage(err.cause)}` : err.message, 1024);
    return new GateError(codeFor(err, detail), `${where}: ${err.code} ${detail}`, { cause: err });
  }
  return new GateError('NOT_VERIFIED', `${where}: verification failed: ${capped(errorMessage(err), 1024)}`, { cause: err });
}

/** A Sigstore bundle v0.1-v0.3 from JSON: our schema, then @sigstore/bundle's own checks (BUNDLE_MALFORMED). */
export function parseBundle(json: unknown, where: string): Bundle {
  const schemaError = bundleSchemaError(json);
  if (schemaError) throw new GateError('BUNDLE_MALFORMED', `${where}: not a Sigstore bundle v0.1-v0.3: ${schemaError}`);
  try {
    return bundleFromJSON(json);
  } catch (err) {
    const fields = err instanceof ValidationError && err.fields ? ` (${err.fields.join(', ')})` : '';
    throw new GateError('BUNDLE_MALFORMED', `${where}: ${capped(`${errorMessage(err)}${fields}`, 1024)}`, { cause: err });
  }
}

/**
 * Checks on the tlog entries that @sigstore/verify does not make, before it runs:
 * - the log is a trusted one (the library would only fail the SET or checkpoint, after the certificate);
 * - no inclusion proof lacks its checkpoint (possible in v0.1 bundles): nothing signed by the log vouches for
 *   such a root, and the library cannot take one (it reads the checkpoint unconditionally: TypeError).
 *   sigstore-conformance `bundle-with-root-cert_fail` carries one. Its chain includes the root certificate,
 *   which is accepted: the library uses the leaf only, as the bundle spec allows, and real v0.1 bundles carry it.
 */
function checkTlogEntries(entries: readonly TransparencyLogEntry[], trust: Trust, where: string): void {
  for (const t of entries) {
    const logID = Buffer.from(t.logId.keyId);
    if (!trust.material.tlogs.some((log) => log.logID.equals(logID))) {
      throw new GateError(
        'TLOG_UNTRUSTED_LOG',
        `${where}: tlog entry (log index ${t.logIndex}) is from log ${logID.toString('hex')}, which is not a transparency log of ${trust.source}`,
      );
    }
    if (t.inclusionProof && !t.inclusionProof.checkpoint) {
      throw new GateError(
        'TLOG_CHECKPOINT',
        `${where}: tlog entry (log index ${t.logIndex}) has an inclusion proof without checkpoint: no signed tree head vouches for its root`,
      );
    }
  }
}

/**
 * The log key that proved each entry must be valid when the signature was made, as a Rekor v1 key must be at
 * its integrated time: @sigstore/verify checks `validFor` for a SET only, and picks a checkpoint's key by log ID
 * alone, so a retired (say compromised) Rekor v2 key would otherwise still prove inclusion. Judged at the entry's
 * own SET-signed integrated time, else at every verified signing time (the RFC 3161 times), with the library's
 * own filter, after the library verified those times.
 */
function checkLogKeyValidity(entries: readonly TransparencyLogEntry[], signedAt: readonly Date[], trust: Trust, where: string): void {
  for (const t of entries) {
    const logID = Buffer.from(t.logId.keyId);
    const logs = trust.material.tlogs.filter((log) => log.logID.equals(logID));
    const times = t.inclusionPromise && t.integratedTime !== '0' ? [new Date(Number(t.integratedTime) * 1000)] : signedAt;
    const label = `${where}: tlog entry (log index ${t.logIndex})`;
    if (times.length === 0) {
      throw new GateError('TLOG_KEY_VALIDITY', `${label}: no verified signing time to judge the validity of the key of log ${logID.toString('hex')} at`);
    }
    for (const targetDate of times) {
      if (filterTLogAuthorities(logs, { logID, targetDate }).length === 0) {
        throw new GateError(
          'TLOG_KEY_VALIDITY',
          `${label}: the key of log ${logID.toString('hex')} is trusted ${logs.map(validityRange).join(', ')} (${trust.source}), not at the signing time ${targetDate.toISOString()}`,
        );
      }
    }
  }
}

function signerOf(entity: SignedEntity, signer: Signer): BundleSigner {
  if (entity.key.$case === 'public-key') return { kind: 'key', hint: entity.key.hint, key: signer.key };
  const certificate = entity.key.certificate;
  const issuer = signer.identity?.extensions?.issuer;
  const san = signer.identity?.subjectAlternativeName;
  return { kind: 'certificate', certificate, key: signer.key, ...(san ? { san } : {}), ...(issuer ? { issuer } : {}) };
}

/**
 * Verifies a Sigstore bundle (v0.1-v0.3; Rekor v1 entries, and Rekor v2 hashedrekord/dsse 0.0.2 with
 * Ed25519 checkpoints and RFC 3161 timestamps) with @sigstore/bundle + @sigstore/verify: the signature, the
 * signer (certificate chain, validity and SCTs at the verified times, code-signing usage; or a managed key from `opts.keys`), the
 * transparency log entries (SET / inclusion proof / checkpoint) and their match with the signed content.
 * Identity policy is not applied: the signer's SAN and issuer are returned for the caller to match.
 */
export function verifySigstoreBundle(bundleJSON: unknown, trust: Trust, opts: BundleVerifyOptions = {}): BundleVerification {
  const where = opts.where ?? 'bundle';
  const bundle = parseBundle(bundleJSON, where);
  const entries: TransparencyLogEntry[] = bundle.verificationMaterial.tlogEntries;
  checkTlogEntries(entries, trust, where);
  if (bundle.content.$case === 'messageSignature' && !opts.artifact) {
    throw new GateError('USAGE', `${where}: a message-signature bundle can only be verified with the signed artifact`);
  }

  let entity: SignedEntity;
  try {
    entity = toSignedEntity(bundle, opts.artifact ? Buffer.from(opts.artifact) : undefined);
  } catch (err) {
    throw new GateError('BUNDLE_MALFORMED', `${where}: ${capped(errorMessage(err), 1024)}`, { cause: err });
  }

  const options = { ctlogThreshold: trust.ctlogCount > 0 ? 1 : 0, tlogThreshold: 1 };
  // A managed key: the bundle's hint is free text, so each trusted key is tried (valid at any time).
  const materials: TrustMaterial[] =
    entity.key.$case === 'public-key' && opts.keys?.length
      ? opts.keys.map((key) => ({ ...trust.material, publicKey: () => ({ publicKey: key, validFor: () => true }) }))
      : [trust.material];
  let signer: Signer | undefined;
  let firstError: unknown;
  for (const material of materials) {
    try {
      signer = new Verifier(material, options).verify(entity);
      break;
    } catch (err) {
      firstError ??= err;
    }
  }
  if (!signer) throw toGateError(firstError, where);
  if (entity.key.$case === 'certificate') checkCodeSigningUsage(entity.key.certificate, where);

  const tlogEntries = entries.map((t) => ({
    logIndex: t.logIndex,
    logID: Buffer.from(t.logId.keyId).toString('hex'),
    kind: t.kindVersion.kind,
    version: t.kindVersion.version,
    ...(t.inclusionPromise && t.integratedTime !== '0' ? { integratedTime: new Date(Number(t.integratedTime) * 1000) } : {}),
    set: t.inclusionPromise !== undefined,
    inclusionProof: t.inclusionProof !== undefined,
  }));
  // The library verified every one of these times (it fails the bundle on any that does not verify).
  const signedAt = entity.timestamps.flatMap((t) =>
    t.$case === 'timestamp-authority'
      ? [t.timestamp.signingTime]
      : t.tlogEntry.inclusionPromise
        ? [new Date(Number(t.tlogEntry.integratedTime) * 1000)]
        : [],
  );
  checkLogKeyValidity(entries, signedAt, trust, where);
  return {
    mediaType: bundle.mediaType,
    ...(bundle.content.$case === 'dsseEnvelope' ? { envelope: bundle.content.dsseEnvelope } : {}),
    signer: signerOf(entity, signer),
    tlogEntries,
    signedAt,
  };
}
