import type { KeyObject } from 'node:crypto';
import { X509Certificate } from '@sigstore/core';
import { verifyCertificate } from '@sigstore/verify/dist/key/index.js';
import { GateError, errorMessage } from '../errors.ts';
import { describe, matches } from '../policy/matcher.ts';
import type { Policy } from '../policy/policy.ts';
import type { Trust } from '../trust/index.ts';
import type { LoggedSigner } from './keys.ts';
import { checkCodeSigningUsage } from './usage.ts';
import { capped } from '../text.ts';

/** A signer the policy accepts. */
export type PolicyMatch = {
  /** What SIGNER reports: `sha256:<key fingerprint>` or the certificate identity. */
  readonly label: string;
  readonly kind: 'key' | 'keyless';
  readonly issuer?: string;
  /** Which policy signer it satisfied (distinct ones count toward minSigners). */
  readonly policySigner: string;
};

export type AcceptedSigner = PolicyMatch & {
  /** The key that signatures must verify with. */
  readonly key: KeyObject;
};

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

/** A key signer: its fingerprint must be one of the trusted keys'. */
export function acceptKey(policy: Policy, fingerprint: string, where: string): PolicyMatch {
  const match = policy.keys.find((k) => k.fingerprint === fingerprint);
  if (!match) {
    throw new GateError(
      'SIGNER_UNTRUSTED',
      `${where}: signed by key sha256:${fingerprint}, which is none of the trusted keys (${policy.keys.map((k) => k.label).join(', ') || 'no --key given'})`,
    );
  }
  return { label: `sha256:${fingerprint}`, kind: 'key', policySigner: `key:${match.fingerprint}` };
}

function requireKeyless(policy: Policy, where: string): void {
  if (policy.keyless.length === 0) {
    throw new GateError('SIGNER_UNTRUSTED', `${where}: signed with a certificate (keyless), but only keys are trusted (no --certificate-identity given)`);
  }
}

/** A keyless signer (a certificate already verified): its identity and issuer must match one policy entry. */
export function acceptIdentity(policy: Policy, san: string | undefined, issuer: string | undefined, where: string): PolicyMatch {
  requireKeyless(policy, where);
  const byIdentity = policy.keyless.filter((s) => matches(s.identity, san));
  if (byIdentity.length === 0) {
    throw new GateError(
      'CERTIFICATE_IDENTITY',
      `${where}: certificate identity "${san === undefined ? '(none)' : capped(san)}" does not match ${policy.keyless.map((s) => describe(s.identity)).join(' or ')}`,
    );
  }
  const both = byIdentity.find((s) => matches(s.issuer, issuer));
  if (!both) {
    throw new GateError(
      'CERTIFICATE_ISSUER',
      `${where}: certificate OIDC issuer "${issuer === undefined ? '(none)' : capped(issuer)}" does not match ${byIdentity.map((s) => describe(s.issuer)).join(' or ')} for identity "${capped(san ?? '')}"`,
    );
  }
  return { label: capped(san as string), kind: 'keyless', ...(issuer ? { issuer: capped(issuer) } : {}), policySigner: `keyless:${policy.keyless.indexOf(both)}` };
}

/**
 * Decides whether the key or certificate an entry logged is a signer the policy trusts.
 * A certificate is judged at the entry's integrated time (never 'now'): chain to a CA of the trusted root,
 * validity, and SCTs (at least one when the trusted root lists CT logs) — all by @sigstore/verify; then the
 * code-signing usages of the leaf (usage.ts).
 */
export function checkSigner(logged: LoggedSigner, integratedTime: Date, trust: Trust, policy: Policy, where: string): AcceptedSigner {
  if (logged.kind === 'key') return { ...acceptKey(policy, logged.fingerprint, where), key: logged.key };
  requireKeyless(policy, where);
  let cert: X509Certificate;
  try {
    cert = X509Certificate.parse(Buffer.from(logged.der));
  } catch {
    throw new GateError('ENTRY_MALFORMED', `${where}: the logged certificate does not parse`);
  }
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
  return { ...acceptIdentity(policy, identity?.subjectAlternativeName, identity?.extensions?.issuer, where), key: result.signer.key };
}
