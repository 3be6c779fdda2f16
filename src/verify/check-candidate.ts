import { crypto as sigcrypto } from '@sigstore/core';
import { IN_TOTO_PAYLOAD_TYPE } from '../attest/envelope.ts';
import { GateError } from '../errors.ts';
import type { LoggedSigner } from '../key/keys.ts';
import { parseLoggedCertificate } from '../key/signer.ts';
import { checkSigner, type AcceptedSigner } from './signer.ts';
import { decodeEntry } from '../rekor/entry.ts';
import { checkLogVouches } from './log-step.ts';
import { bindAttestation, verifyDsseSignature, type BoundAttestation, type RegistryEnvelope } from './attestation.ts';
import type { SupportedBody } from './bodies.ts';
import { checkBundleCandidate } from './check-bundle.ts';
import { checkCostlyRules, CheckFailure, checkStatement, failedOutcome, foundBy, roleOf, shownFields, step, type CheckContext } from './steps.ts';
import { checkSignatureCandidate } from './check-signature.ts';
import { locationOf, type Candidate, type EntryCandidate } from './candidate.ts';
import type { CandidateOutcome } from './types.ts';
import { capped } from '../text.ts';

export type { CheckContext } from './steps.ts';

const ATTESTATION_KINDS: ReadonlySet<string> = new Set(['intoto 0.0.1', 'intoto 0.0.2', 'dsse 0.0.1']);

function keyOf(signer: LoggedSigner, where: string): sigcrypto.KeyObject {
  if (signer.kind === 'key') return signer.key;
  return sigcrypto.createPublicKey(parseLoggedCertificate(signer.der, where).publicKey);
}

type Entry = ReturnType<typeof decodeEntry>;

/** 1. entry: the ID is the leaf hash of the body, the body fits its kind's schema. */
function checkEntry(c: EntryCandidate): Entry {
  return step('entry', () => decodeEntry(c.uuid, c.entry));
}

const bodyOf = (entry: Entry): SupportedBody => ({ kind: entry.kind, apiVersion: entry.apiVersion, spec: entry.spec }) as SupportedBody;

/**
 * One copy of the attestation (the registry's, or the log's when `copy` is undefined) bound as step 3 binds it: to
 * the body by its hashes, then every DSSE signature it carries verified with the key the log recorded.
 */
function bindCopy(entry: Entry, copy: RegistryEnvelope | undefined, where: string): BoundAttestation {
  const b = bindAttestation(bodyOf(entry), entry.attestation, copy, where);
  for (const s of b.signatures) {
    if (s.sig && !verifyDsseSignature(b.payloadType ?? IN_TOTO_PAYLOAD_TYPE, b.payload, s.sig, keyOf(s.signer, where))) {
      throw new GateError('ATTESTATION_SIGNATURE', `${where}: a DSSE signature does not verify over the envelope with the key the log recorded`);
    }
  }
  return b;
}

/**
 * The attestation bound to the body, in step 3's order: the registry's copy when it binds, else the log's (both
 * bound to the same body, so the same statement); undefined when neither binds. The log's copy and the registry's
 * exact bytes are bound whole by their hashes; a re-encoded copy (a bundle referrer's) only by its hashes and its
 * signatures, whose payload type no hash covers: it counts only once its signatures verify, as in step 3, else
 * the log's copy stands in (anyone who can push a referrer could otherwise veto an entry with another payload type).
 */
function boundEarly(c: EntryCandidate, entry: Entry, where: string): BoundAttestation | undefined {
  for (const copy of c.envelope ? [c.envelope, undefined] : [undefined]) {
    try {
      return copy && !copy.exact ? bindCopy(entry, copy, where) : bindAttestation(bodyOf(entry), entry.attestation, copy, where);
    } catch {
      // the next copy
    }
  }
  return undefined;
}

/**
 * Cheap rejections, before the costly checks (the log's signature, proof and checkpoint; the DSSE signatures):
 * an attestation bound to the body by its hash whose statement is not about this image (Rekor indexes material
 * digests too) or that the policy refuses, or whose every signer is a key the policy does not trust, fails here
 * with the reason its statement or signer check gives. Nothing passes here: a candidate still needs every step.
 */
function cheapRejections(c: EntryCandidate, entry: Entry, ctx: CheckContext, where: string): Judged | undefined {
  const bound = boundEarly(c, entry, where);
  if (!bound) return undefined; // the attestation step reports why, in its turn
  const statement = checkStatementOf(c, bound, entry, ctx, where);
  if (bound.signatures.every((s) => s.signer.kind === 'key')) checkSignerOf(bound, entry, ctx, where);
  return { bound, statement };
}

type Judged = { readonly bound: BoundAttestation; readonly statement: ReturnType<typeof checkStatement> };

/** The statement judged early stands when step 3 bound the same payload (same bytes, same type). */
function sameStatement(early: Judged | undefined, bound: BoundAttestation): ReturnType<typeof checkStatement> | undefined {
  if (!early || early.bound.payloadType !== bound.payloadType || !early.bound.payload.equals(bound.payload)) return undefined;
  return early.statement;
}

/** Whether every signature of the attestation was checked here, or (intoto 0.0.1 from the log) only by the log at upload. */
const checkedBy = (b: BoundAttestation): 'gate' | 'log' => (b.signatures.every((s) => s.sig !== undefined) ? 'gate' : 'log');

/**
 * 3. attestation: bound to the body (the log's copy, or the registry's), every DSSE signature verified. An intoto
 * 0.0.1 payload from the log comes with no signature to check: the log checked it at upload, and whoever holds the
 * log's key could mint such an entry; the registry's envelope, when the run has it, is checked instead, and
 * `requireEnvelope` refuses a candidate without one.
 */
function checkAttestation(c: EntryCandidate, entry: Entry, ctx: CheckContext, where: string): BoundAttestation {
  return step('attestation', () => {
    const bound = bindEither(c, entry, where);
    if (ctx.policy.requireEnvelope && checkedBy(bound) === 'log') {
      throw new GateError(
        'ATTESTATION_MISSING',
        `${where}: an intoto 0.0.1 entry whose signature is only vouched for by the log (it keeps the payload, not the envelope), and the run has no envelope from the registry to check it`,
        { hint: { give: 'image-reference' } },
      );
    }
    return bound;
  });
}

function bindEither(c: EntryCandidate, entry: Entry, where: string): BoundAttestation {
  if (!c.envelope) return bindCopy(entry, undefined, where);
  try {
    return bindCopy(entry, c.envelope, where);
  } catch (err) {
    // A registry copy that is not the one the log signed never passes; but it does not veto the log's own copy of
    // the attestation, when the log holds one (anyone who can push to the registry could). The exact bytes the body
    // records by hash are the ones uploaded, though: a signature of theirs that does not verify contradicts the log,
    // which vouched for it, and the log's copy cannot stand in.
    const contradicted = c.envelope.exact && err instanceof GateError && err.code === 'ATTESTATION_SIGNATURE';
    if (!entry.attestation || contradicted) throw err;
    return bindCopy(entry, undefined, where);
  }
}

/** 4. statement: an in-toto statement about the image, of an allowed predicate type, within the policy's rules. */
function checkStatementOf(c: EntryCandidate, bound: BoundAttestation, entry: Entry, ctx: CheckContext, where: string): ReturnType<typeof checkStatement> {
  return step('statement', () => {
    if (bound.payloadType !== undefined && bound.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
      throw new GateError('STATEMENT_MALFORMED', `${where}: payload type ${capped(bound.payloadType)} is not ${IN_TOTO_PAYLOAD_TYPE}`);
    }
    return checkStatement(bound.payload, entry.integratedTime, ctx, where, foundBy(c));
  });
}

/** 5. signer: one of the logged signers is one the policy trusts, judged at the integrated time. */
function checkSignerOf(bound: BoundAttestation, entry: Entry, ctx: CheckContext, where: string): AcceptedSigner {
  return step('signer', () => {
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
    if (!accepted) throw firstError;
    return accepted;
  });
}

/**
 * Judges one candidate with every check; the first that fails rejects it.
 * entry (ID = leaf hash, schema) -> log (SET, proof, checkpoint) -> attestation (binding, DSSE signatures)
 * -> statement (subject, predicate type, policy rules) -> signer (policy); an attestation bound to the body that
 * its statement or its key signers already reject fails before the log's and the DSSE signatures are checked.
 */
export function checkCandidate(c: Candidate, ctx: CheckContext): CandidateOutcome {
  switch (c.kind) {
    case 'bundle':
      return checkBundleCandidate(c, ctx);
    // An outcome's log index -1 reads "no log entry" (report/render.ts).
    case 'failed':
      return failedOutcome({ uuid: c.uuid, logIndex: c.logIndex ?? -1, sources: [...c.sources], registryLocation: locationOf(c) }, new CheckFailure('log', c.error), ctx.advise);
    case 'envelope':
      return failedOutcome({ uuid: `envelope:${c.hash}`, logIndex: -1, sources: [...c.sources], registryLocation: c.envelope.location }, new CheckFailure('log', c.unproven), ctx.advise);
    case 'entry':
      return checkEntryCandidate(c, ctx);
    case 'signature':
      return checkSignatureCandidate(c, ctx);
  }
}

function checkEntryCandidate(c: EntryCandidate, ctx: CheckContext): CandidateOutcome {
  const base = {
    uuid: c.uuid,
    logIndex: c.entry.logIndex,
    integratedTime: c.entry.integratedTime,
    sources: [...c.sources],
    registryLocation: c.envelope?.location,
  };
  // a log index that is not a number is the entry check's to refuse; it must not break the message first
  const where = `entry ${c.uuid} (log index ${typeof c.entry.logIndex === 'number' ? c.entry.logIndex : 'not a number'})`;
  let kind: string | undefined;
  try {
    const entry = checkEntry(c);
    kind = capped(`${entry.kind} ${entry.apiVersion}`);
    if (!entry.supported || !ATTESTATION_KINDS.has(kind)) {
      const reason = entry.unsupportedReason ?? `kind ${kind} carries no attestation (supported: ${[...ATTESTATION_KINDS].join(', ')})`;
      return { ...base, kind, status: 'skipped', check: 'entry', code: 'ENTRY_UNSUPPORTED_KIND', reason: `${where}: ${reason}` };
    }
    const early = cheapRejections(c, entry, ctx, where);
    checkLogVouches(entry, ctx, where);
    const bound = checkAttestation(c, entry, ctx, where);
    const statement = sameStatement(early, bound) ?? checkStatementOf(c, bound, entry, ctx, where);
    const signer = checkSignerOf(bound, entry, ctx, where);
    checkCostlyRules(statement, ctx, where);
    return {
      ...base,
      kind,
      status: 'passed',
      ...shownFields(statement, signer.label),
      ...roleOf(statement),
      policySigner: signer.policySigner,
      attestationFrom: bound.from,
      signatureCheckedBy: checkedBy(bound),
    };
  } catch (err) {
    return failedOutcome(kind ? { ...base, kind } : base, err, ctx.advise);
  }
}
