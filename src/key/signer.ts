// A logged certificate judged by @sigstore/verify at the entry's integrated time: chain, validity, SCTs, usages.
import type { KeyObject } from 'node:crypto';
import { X509Certificate } from '@sigstore/core';
import { verifyCertificate } from '@sigstore/verify/dist/key/index.js';
import { GateError, errorMessage } from '../errors.ts';
import type { Trust } from '../trust/index.ts';
import { checkCodeSigningUsage } from './usage.ts';
import { capped } from '../text.ts';

/** A library error's message with its cause's (@sigstore/verify keeps the real reason of a chain failure there). */
export function withCause(err: unknown): string {
  const cause = err instanceof Error && err.cause !== undefined ? `: ${errorMessage(err.cause)}` : '';
  return capped(`${errorMessage(err)}${cause}`, 1024);
}

/** Sorts a @sigstore/verify certificate failure: SCT, validity at the time judged, or the chain. */
export function certificateErrorCode(err: unknown): 'CERTIFICATE_SCT' | 'CERTIFICATE_VALIDITY' | 'CERTIFICATE_CHAIN' {
  const text = withCause(err);
  if (/SCT/.test(text)) return 'CERTIFICATE_SCT';
  if (/not valid or expired|expired at/.test(text)) return 'CERTIFICATE_VALIDITY';
  return 'CERTIFICATE_CHAIN';
}

/** A certificate that chains to the trusted root at the time judged: its key and the identity it names. */
export type VerifiedCertificate = {
  readonly key: KeyObject;
  readonly subjectAlternativeName?: string;
  readonly issuer?: string;
};

/** A logged certificate's DER, parsed; one that does not parse fails its entry (ENTRY_MALFORMED), never INTERNAL. */
export function parseLoggedCertificate(der: Buffer, where: string): X509Certificate {
  try {
    return X509Certificate.parse(Buffer.from(der));
  } catch {
    throw new GateError('ENTRY_MALFORMED', `${where}: the logged certificate does not parse`);
  }
}

/**
 * Verifies a logged certificate at the entry's integrated time (never 'now'): chain to a CA of the trusted root,
 * validity, and SCTs (at least one when the trusted root lists CT logs) — all by @sigstore/verify; then the
 * code-signing usages of the leaf (usage.ts).
 */
export function verifyLoggedCertificate(der: Buffer, integratedTime: Date, trust: Trust, where: string): VerifiedCertificate {
  const cert = parseLoggedCertificate(der, where);
  let result: ReturnType<typeof verifyCertificate>;
  try {
    result = verifyCertificate(cert, [integratedTime], trust.material);
  } catch (err) {
    throw new GateError(
      certificateErrorCode(err),
      `${where}: certificate check failed at integrated time ${integratedTime.toISOString()}: ${withCause(err)} (trust: ${trust.source})`,
    );
  }
  if (trust.ctlogCount > 0 && result.scts.length < 1) {
    throw new GateError('CERTIFICATE_SCT', `${where}: the certificate carries no SCT, and the trusted root lists ${trust.ctlogCount} CT log(s)`);
  }
  checkCodeSigningUsage(cert, where);
  const identity = result.signer.identity;
  return {
    key: result.signer.key,
    ...(identity?.subjectAlternativeName !== undefined ? { subjectAlternativeName: identity.subjectAlternativeName } : {}),
    ...(identity?.extensions?.issuer !== undefined ? { issuer: identity.extensions.issuer } : {}),
  };
}
