// An image signature judged: entry -> log -> signature (binding, the signature over the payload) -> payload -> signer.
import { GateError } from '../errors.ts';
import { decodeEntry } from '../rekor/entry.ts';
import { bindSignature, verifyPayloadSignature, type HashedRekordV001Body } from '../signature/hashedrekord.ts';
import { checkSimpleSigning } from '../signature/payload.ts';
import { capped } from '../text.ts';
import { verifyWithKey } from '../trust/signature.ts';
import type { SignatureCandidate } from './candidate.ts';
import { checkLogVouches } from './log-step.ts';
import { checkSigner } from './signer.ts';
import { CheckFailure, failedOutcome, step, type CheckContext } from './steps.ts';
import type { CandidateOutcome } from './types.ts';

const SIGNATURE_KIND = 'hashedrekord 0.0.1';

/**
 * Judges an image signature the way cosign verifies one (pkg/cosign/verify.go VerifyImageSignature, VerifyBundle,
 * SimpleClaimVerifier at d6d86c224e5899b54f56cbb063b79dc43abc11c2), with the same entry, log and signer checks as an
 * attestation: the entry ID is its body's leaf hash and the body fits Rekor's hashedrekord 0.0.1 schema; the log
 * vouches for it by a verified SET (its integrated time judges the signer); the body records this payload's hash,
 * this signature and the certificate beside it; the signature verifies over the payload with the logged key; the
 * payload names this digest and is a cosign image signature; the signer is one the policy trusts.
 */
export function checkSignatureCandidate(c: SignatureCandidate, ctx: CheckContext): CandidateOutcome {
  const base = { role: 'signature' as const, uuid: c.uuid, sources: [...c.sources], registryLocation: c.location };
  if (ctx.policy.signatureWithoutLog) return checkWithoutLog(c, ctx, base);
  if (!c.entry) return failedOutcome(base, new CheckFailure('log', c.error ?? new GateError('TLOG_ENTRY_NOT_FOUND', `${c.location}: names no log entry`)), ctx.advise);
  const where = `signature ${c.location}, entry ${c.uuid} (log index ${c.entry.logIndex})`;
  const withEntry = { ...base, logIndex: c.entry.logIndex, integratedTime: c.entry.integratedTime };
  let kind: string | undefined;
  try {
    const entry = step('entry', () => decodeEntry(c.uuid, c.entry!));
    kind = capped(`${entry.kind} ${entry.apiVersion}`);
    if (kind !== SIGNATURE_KIND) throw new CheckFailure('entry', new GateError('ENTRY_UNSUPPORTED_KIND', `${where}: kind ${kind} is not ${SIGNATURE_KIND}, the entry of an image signature`));
    checkLogVouches(entry, ctx, where);
    const body = { kind: entry.kind, apiVersion: entry.apiVersion, spec: entry.spec } as HashedRekordV001Body;
    const bound = step('signature', () => {
      const b = bindSignature(body, c.layer, where);
      const key = step('signer', () => checkSigner(b.signer, new Date(entry.integratedTime * 1000), ctx.trust, ctx.policy, where));
      if (!verifyPayloadSignature(c.layer, key.key, b)) {
        throw new GateError('ATTESTATION_SIGNATURE', `${where}: the signature does not verify over the payload with the key the log recorded`);
      }
      return key;
    });
    const payload = step('payload', () => checkSimpleSigning(c.layer.payload, ctx.digest, where));
    return {
      ...withEntry,
      kind,
      status: 'passed',
      signer: capped(bound.label),
      policySigner: bound.policySigner,
      predicateType: capped(payload.critical.type),
    };
  } catch (err) {
    return failedOutcome(kind ? { ...withEntry, kind } : withEntry, err, ctx.advise);
  }
}

/**
 * An admission policy's `rekor.ignoreTlog: true`, allowed by the user: the signature verified over the payload by
 * one of the trusted keys alone, the payload checked; no log entry is read, so nothing dates it (Kyverno's
 * ignoreTlog: cosign verifies the signature with the key and skips the bundle).
 */
function checkWithoutLog(c: SignatureCandidate, ctx: CheckContext, base: Omit<CandidateOutcome, 'status'>): CandidateOutcome {
  const where = `signature ${c.location} (log not checked)`;
  const kind = 'unlogged signature';
  try {
    const key = step('signature', () => {
      // Hashed as the key's type calls for (trust/signature.ts, as cosign signs).
      const found = ctx.policy.keys.find((k) => verifyWithKey(c.layer.payload, k.key, c.layer.signature));
      if (!found) throw new GateError('SIGNER_UNTRUSTED', `${where}: the signature verifies with none of the trusted keys (${ctx.policy.keys.map((k) => k.label).join(', ') || 'none is given'})`);
      return found;
    });
    const payload = step('payload', () => checkSimpleSigning(c.layer.payload, ctx.digest, where));
    return { ...base, uuid: `unlogged:${c.location}`, logIndex: -1, kind, status: 'passed', signer: `sha256:${key.fingerprint}`, policySigner: `key:${key.fingerprint}`, predicateType: capped(payload.critical.type) };
  } catch (err) {
    return failedOutcome({ ...base, kind }, err, ctx.advise);
  }
}
