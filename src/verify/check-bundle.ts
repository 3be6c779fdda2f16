import { IN_TOTO_PAYLOAD_TYPE } from '../attest/envelope.ts';
import { verifySigstoreBundle } from '../bundle/index.ts';
import { GateError } from '../errors.ts';
import { fingerprint } from '../trust/public-keys.ts';
import { acceptIdentity, acceptKey } from './signer.ts';
import { checkCostlyRules, checkStatement, failedOutcome, foundBy, roleOf, shownFields, step, type CheckContext } from './steps.ts';
import type { BundleCandidate } from './candidate.ts';
import type { CandidateOutcome } from './types.ts';
import { capped } from '../text.ts';

/**
 * A Sigstore bundle that only @sigstore/verify can judge whole (a Rekor v2 entry: hashedrekord or dsse 0.0.2,
 * Ed25519 checkpoint, RFC 3161 timestamp). The library verifies log inclusion, the binding of the entry to the
 * envelope, the signature and the signer's certificate (chain, validity and SCTs at the verified times);
 * then the statement and signer policy checks are the same as for any other candidate.
 */
export function checkBundleCandidate(c: BundleCandidate, ctx: CheckContext): CandidateOutcome {
  const where = `bundle ${c.location}`;
  try {
    return judge(c, c.bundle, ctx, where);
  } catch (err) {
    return failedOutcome({ uuid: c.uuid, sources: [...c.sources], registryLocation: c.location }, err, ctx.advise);
  }
}

function judge(c: BundleCandidate, bundleJson: unknown, ctx: CheckContext, where: string): CandidateOutcome {
  const v = step('log', () => verifySigstoreBundle(bundleJson, ctx.trust, { keys: ctx.policy.keys.map((k) => k.key), where }));
  const t = v.tlogEntries[0];
  const integratedTime = v.signedAt[0] ? Math.floor(v.signedAt[0].getTime() / 1000) : undefined;
  const base = {
    uuid: c.uuid,
    ...(t ? { logIndex: Number(t.logIndex), kind: `${t.kind} ${t.version}` } : {}),
    ...(integratedTime !== undefined ? { integratedTime } : {}),
    sources: [...c.sources],
    registryLocation: c.location,
  };
  const statement = step('statement', () => {
    const env = v.envelope;
    // Unreachable as called (no artifact): verifySigstoreBundle refuses a message-signature bundle first
    // (src/bundle/index.ts); kept as the narrowing of v.envelope, and for a caller that passes an artifact.
    if (!env) throw new GateError('STATEMENT_MALFORMED', `${where}: the bundle holds a message signature, not an attestation`);
    if (env.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
      throw new GateError('STATEMENT_MALFORMED', `${where}: payload type ${capped(env.payloadType)} is not ${IN_TOTO_PAYLOAD_TYPE}`);
    }
    return checkStatement(Buffer.from(env.payload), integratedTime ?? 0, ctx, where, foundBy(c));
  });
  const signer = step('signer', () =>
    v.signer.kind === 'key'
      ? acceptKey(ctx.policy, fingerprint(v.signer.key), where)
      : acceptIdentity(ctx.policy, v.signer.san, v.signer.issuer, where),
  );
  checkCostlyRules(statement, ctx, where);
  return {
    ...base,
    status: 'passed',
    entryUrl: '',
    ...shownFields(statement, signer.label),
    ...roleOf(statement),
    policySigner: signer.policySigner,
    attestationFrom: 'registry',
  };
}
