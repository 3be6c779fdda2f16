// Whether a signer is one the policy trusts: a key by fingerprint, a certificate by identity and issuer.
import type { KeyObject } from 'node:crypto';
import { GateError } from '../errors.ts';
import type { LoggedSigner } from '../key/keys.ts';
import { verifyLoggedCertificate } from '../key/signer.ts';
import { describe, matches } from '../policy/matcher.ts';
import type { Policy } from '../policy/policy.ts';
import { capped } from '../text.ts';
import type { Trust } from '../trust/index.ts';

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

/** A key signer: its fingerprint must be one of the trusted keys'. */
export function acceptKey(policy: Policy, fingerprint: string, where: string): PolicyMatch {
  const match = policy.keys.find((k) => k.fingerprint === fingerprint);
  if (!match) {
    throw new GateError(
      'SIGNER_UNTRUSTED',
      `${where}: signed by key sha256:${fingerprint}, which is none of the trusted keys (${policy.keys.map((k) => k.label).join(', ') || 'none is given'})`,
    );
  }
  return { label: `sha256:${fingerprint}`, kind: 'key', policySigner: `key:${match.fingerprint}` };
}

function requireKeyless(policy: Policy, where: string): void {
  if (policy.keyless.length === 0) {
    throw new GateError('SIGNER_UNTRUSTED', `${where}: signed with a certificate (keyless), but only keys are trusted (no keyless identity is given)`);
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
 * Decides whether the key or certificate an entry logged is a signer the policy trusts; a certificate is judged
 * at the entry's integrated time (key/signer.ts).
 */
export function checkSigner(logged: LoggedSigner, integratedTime: Date, trust: Trust, policy: Policy, where: string): AcceptedSigner {
  if (logged.kind === 'key') return { ...acceptKey(policy, logged.fingerprint, where), key: logged.key };
  requireKeyless(policy, where);
  const cert = verifyLoggedCertificate(logged.der, integratedTime, trust, where);
  return { ...acceptIdentity(policy, cert.subjectAlternativeName, cert.issuer, where), key: cert.key };
}
