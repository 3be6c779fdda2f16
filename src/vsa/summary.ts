// The VSA of one run: the statement built from a Verdict and the policy it was judged by (the policy file, or a
// digest of the flag policy: keys by fingerprint, keyless signers by their matchers).
import { describe } from '../policy/matcher.ts';
import type { Policy } from '../policy/policy.ts';
import type { Verdict } from '../verify/types.ts';
import { buildVsa, flagsPolicy, imageResourceUri, type VsaPolicyRef, type VsaStatement } from './statement.ts';

export type SummaryOptions = {
  readonly verifierId: string;
  readonly verifierVersion: string;
  readonly timeVerified: Date;
};

/** The policy a summary records: the policy file's URI and sha256, or `rekor-gate:flags` and the digest of the flags. */
export function summaryPolicyOf(policy: Policy): VsaPolicyRef {
  return (
    policy.source ??
    flagsPolicy({
      keys: policy.keys.map((k) => k.fingerprint),
      keyless: policy.keyless.map((k) => ({ identity: describe(k.identity), issuer: describe(k.issuer) })),
      predicateTypes: policy.predicateTypes,
      // Only when set, so that the digest of a policy without it is the one it always was.
      ...(policy.requireEnvelope ? { requireEnvelope: true } : {}),
    })
  );
}

export function summaryOf(verdict: Verdict, policy: Policy, o: SummaryOptions): VsaStatement {
  const policyRef = summaryPolicyOf(policy);
  return buildVsa(verdict, {
    verifierId: o.verifierId,
    verifierVersion: o.verifierVersion,
    timeVerified: o.timeVerified,
    resourceUri: verdict.imageUrl ? imageResourceUri(verdict.imageUrl, verdict.imageDigest) : verdict.imageDigest,
    policy: policyRef,
    entryUrl: (uuid) => (verdict.accepted?.uuid === uuid ? verdict.accepted.entryUrl : `${verdict.rekorUrl}/api/v1/log/entries/${uuid}`),
  });
}
