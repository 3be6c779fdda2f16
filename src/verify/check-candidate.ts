import { X509Certificate, crypto as sigcrypto } from '@sigstore/core';
import { checkPredicateType, checkSubject, builderId, parseStatement, type Statement } from '../attest/statement.ts';
import { IN_TOTO_PAYLOAD_TYPE } from '../attest/envelope.ts';
import type { ImageDigest } from '../digest.ts';
import { GateError, errorMessage } from '../errors.ts';
import type { LoggedSigner } from '../key/keys.ts';
import { checkSigner, type AcceptedSigner } from '../key/signer.ts';
import type { Policy } from '../policy/policy.ts';
import { decodeEntry } from '../rekor/entry.ts';
import { verifyInLog } from '../rekor/log-verify.ts';
import type { Trust } from '../trust/index.ts';
import { bindAttestation, verifyDsseSignature } from './attestation.ts';
import type { SupportedBody } from './bodies.ts';
import type { Candidate, CandidateOutcome, CheckName } from './types.ts';

const ATTESTATION_KINDS: ReadonlySet<string> = new Set(['intoto 0.0.1', 'intoto 0.0.2', 'dsse 0.0.1']);

export type CheckContext = {
  readonly digest: ImageDigest;
  readonly trust: Trust;
  readonly policy: Policy;
  /** Verification time in Unix seconds (only for the policy's maximum age). */
  readonly now: number;
};

class CheckFailure extends Error {
  readonly check: CheckName;
  readonly inner: unknown;
  constructor(check: CheckName, inner: unknown) {
    super(errorMessage(inner));
    this.check = check;
    this.inner = inner;
  }
}

function step<T>(check: CheckName, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new CheckFailure(check, err);
  }
}

function keyOf(signer: LoggedSigner): sigcrypto.KeyObject {
  if (signer.kind === 'key') return signer.key;
  return sigcrypto.createPublicKey(X509Certificate.parse(Buffer.from(signer.der)).publicKey);
}

/** The statement-level rules of a policy file: allowed builder IDs and a JSON Schema for the predicate. */
function checkStatementPolicy(st: Statement, policy: Policy, where: string): void {
  if (policy.builderIds && policy.builderIds.length > 0) {
    const id = builderId(st);
    if (!id || !policy.builderIds.includes(id)) {
      throw new GateError('POLICY', `${where}: builder ID ${id ?? '(none)'} is not one of the allowed ${policy.builderIds.join(', ')}`);
    }
  }
  if (policy.predicateSchema) {
    const err = policy.predicateSchema(st.predicate ?? {});
    if (err) throw new GateError('POLICY', `${where}: the predicate does not satisfy the policy's predicateSchema: ${err}`);
  }
}

/**
 * Judges one candidate with every check; the first that fails rejects it.
 * entry (ID = leaf hash, schema) -> log (SET, proof, checkpoint) -> attestation (binding, DSSE signatures)
 * -> statement (subject, predicate type) -> signer (policy).
 */
export function checkCandidate(c: Candidate, ctx: CheckContext): CandidateOutcome {
  const base = {
    uuid: c.uuid,
    logIndex: c.entry.logIndex,
    integratedTime: c.entry.integratedTime,
    sources: [...c.sources],
    registryLocation: c.registryLocation,
  };
  const where = `entry ${c.uuid} (log index ${c.entry.logIndex})`;
  try {
    const entry = step('entry', () => decodeEntry(c.uuid, c.entry));
    const kind = `${entry.kind} ${entry.apiVersion}`;
    if (!entry.supported || !ATTESTATION_KINDS.has(kind)) {
      const reason = entry.unsupportedReason ?? `kind ${kind} carries no attestation (supported: ${[...ATTESTATION_KINDS].join(', ')})`;
      return { ...base, kind, status: 'skipped', check: 'entry', code: 'ENTRY_UNSUPPORTED_KIND', reason: `${where}: ${reason}` };
    }
    step('log', () => verifyInLog(entry, ctx.trust));
    const body = { kind: entry.kind, apiVersion: entry.apiVersion, spec: entry.spec } as SupportedBody;
    const bound = step('attestation', () => {
      const b = bindAttestation(body, entry.attestation, c.registryEnvelope, where);
      for (const s of b.signatures) {
        if (!s.sig) continue;
        if (!verifyDsseSignature(b.payloadType ?? IN_TOTO_PAYLOAD_TYPE, b.payload, s.sig, keyOf(s.signer))) {
          throw new GateError('ATTESTATION_SIGNATURE', `${where}: a DSSE signature does not verify over the envelope with the key the log recorded`);
        }
      }
      return b;
    });
    const statement = step('statement', () => {
      if (bound.payloadType !== undefined && bound.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
        throw new GateError('STATEMENT_MALFORMED', `${where}: payload type ${bound.payloadType} is not ${IN_TOTO_PAYLOAD_TYPE}`);
      }
      const st = parseStatement(bound.payload, where);
      checkSubject(st, ctx.digest, where);
      checkPredicateType(st, ctx.policy.predicateTypes, where);
      checkStatementPolicy(st, ctx.policy, where);
      return st;
    });
    step('statement', () => {
      const max = ctx.policy.maxAgeSeconds;
      if (max !== undefined && ctx.now - entry.integratedTime > max) {
        throw new GateError(
          'POLICY',
          `${where}: the attestation was logged ${Math.round((ctx.now - entry.integratedTime) / 3600)}h ago, older than the policy's maximum age of ${Math.round(max / 3600)}h`,
        );
      }
    });
    const signer = step('signer', () => {
      const when = new Date(entry.integratedTime * 1000);
      let firstError: unknown;
      let accepted: AcceptedSigner | undefined;
      for (const s of bound.signatures) {
        try {
          accepted ??= checkSigner(s.signer, when, ctx.trust, ctx.policy, where);
        } catch (err) {
          firstError ??= err;
        }
      }
      if (!accepted) throw firstError ?? new GateError('SIGNER_UNTRUSTED', `${where}: no signer`);
      return accepted;
    });
    return {
      ...base,
      kind,
      status: 'passed',
      predicateType: statement.predicateType,
      signer: signer.label,
      policySigner: signer.policySigner,
      builderId: builderId(statement),
      attestationFrom: bound.from,
    };
  } catch (err) {
    const check = err instanceof CheckFailure ? err.check : 'entry';
    const cause = err instanceof CheckFailure ? err.inner : err;
    const code = cause instanceof GateError ? cause.code : 'INTERNAL';
    return { ...base, status: 'failed', check, code, reason: errorMessage(cause) };
  }
}
