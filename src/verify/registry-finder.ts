import { crypto as sigcrypto } from '@sigstore/core';
import type { ImageDigest } from '../digest.ts';
import { GateError, errorMessage } from '../errors.ts';
import { checkReferenceNamesDigest, fetchRegistryEvidence, parseImageRef, type EvidenceOptions, type RegistryEvidence, type SigTagEvidence } from '../registry/index.ts';
import { ANNOTATION_BUNDLE } from '../registry/cosign-layout.ts';
import type { RekorClient } from '../rekor/client.ts';
import { leafHashHex } from '../rekor/entry.ts';
import type { LogEntryAnon } from '../rekor/types.ts';
import { parseBundle } from '../bundle/index.ts';
import { bundleAsLogEntry, bundleAsSignature } from './bundle-entry.ts';
import type { SignatureLayer } from '../signature/hashedrekord.ts';
import type { Candidate, CandidateSource, RegistryCopy } from './candidate.ts';
import type { CandidateFinder } from './verifier.ts';

export type RegistryFinderOptions = {
  readonly imageUrl: string;
  readonly digest: ImageDigest;
  /** The log, to fetch the entries the registry names; absent with --offline (entries verified from their SET/proof). */
  readonly rekor?: RekorClient;
  readonly registry: EvidenceOptions;
  /** Read the image's signatures too (the `.sig` tag); bundle referrers are read in any case. */
  readonly signatures?: boolean;
};

const leafOf = (bodyB64: string): string => leafHashHex(Buffer.from(bodyB64, 'base64'));

/** Why an .att layer with no readable log pointer, that no entry found in the log records, cannot pass. */
function noLogProof(location: string, envelopeHash: string, annotationError: GateError | undefined, offline: boolean): string {
  const why = annotationError
    ? `its ${ANNOTATION_BUNDLE} annotation cannot be read (${errorMessage(annotationError)})`
    : `its layer has no ${ANNOTATION_BUNDLE} annotation (the log's signed entry timestamp)`;
  const then = offline
    ? 'and, offline, the log is not asked for an entry that records it'
    : `and no entry the log's search found records it (envelope sha256 ${envelopeHash})`;
  return `${location}: the registry holds an attestation with no log proof: ${why}, ${then}`;
}

/**
 * Candidates from the registry beside the image: the cosign `.att` layers (Tekton Chains' default) and
 * Sigstore bundle referrers (cosign 3, Chains with the sigstore-bundle format). The registry only points
 * at log entries; each is then fetched from the log (by its leaf hash) and judged like any other.
 * First checks that --image-url names --image-digest.
 */
export async function registryFinder(o: RegistryFinderOptions): Promise<CandidateFinder> {
  const ref = parseImageRef(o.imageUrl);
  await checkReferenceNamesDigest(ref, o.imageUrl, o.digest, o.registry);
  const fromLog = new Map<string, { uuid: string; entry?: LogEntryAnon; error?: Error }>();

  /** The entry a registry copy points to, from the log by its leaf hash (once per run); with --offline, the registry's copy. */
  async function lookUp(logged: LogEntryAnon, location: string): Promise<{ uuid: string; entry?: LogEntryAnon; error?: Error }> {
    const leaf = leafOf(logged.body);
    if (!o.rekor) return { uuid: leaf, entry: logged };
    let found = fromLog.get(leaf);
    if (!found) {
      try {
        const r = await o.rekor.getByUUID(leaf);
        found = { uuid: r.uuid, entry: r.entry };
      } catch (err) {
        if (!(err instanceof GateError && err.status === 404)) throw err;
        found = { uuid: leaf, error: new GateError('TLOG_ENTRY_NOT_FOUND', `entry ${leaf} (log index ${logged.logIndex}), named by ${location}: the log does not serve it (${errorMessage(err)})`) };
      }
      fromLog.set(leaf, found);
    }
    return found;
  }

  async function pointTo(logged: LogEntryAnon, source: CandidateSource, envelope: RegistryCopy): Promise<Candidate> {
    const found = await lookUp(logged, envelope.location);
    if (found.entry) return { kind: 'entry', uuid: found.uuid, entry: found.entry, sources: [source], envelope };
    return { kind: 'failed', uuid: found.uuid, logIndex: logged.logIndex, error: found.error as Error, sources: [source], envelope };
  }

  /** An image signature and the entry it names (a `.sig` layer's bundle annotation, a signature bundle's entry). */
  async function signatureOf(logged: LogEntryAnon | undefined, layer: SignatureLayer, source: CandidateSource, location: string, unproven?: Error): Promise<Candidate> {
    if (!logged) return { kind: 'signature', uuid: location, layer, location, sources: [source], ...(unproven ? { error: unproven } : {}) };
    const found = await lookUp(logged, location);
    return { kind: 'signature', uuid: found.uuid, layer, location, sources: [source], ...(found.entry ? { entry: found.entry } : {}), ...(found.error ? { error: found.error } : {}) };
  }

  /** A `.sig` layer: its signature, the certificate beside it, the entry its bundle annotation names. */
  function fromSigLayer(ev: SigTagEvidence): Promise<Candidate> {
    const layer: SignatureLayer = { payload: ev.payload, signature: Buffer.from(ev.signature, 'base64'), ...(ev.certificatePem ? { certificatePem: ev.certificatePem } : {}) };
    if (!ev.cosignBundle) {
      const why = ev.annotationError ? `its ${ANNOTATION_BUNDLE} annotation cannot be read (${errorMessage(ev.annotationError)})` : `its layer has no ${ANNOTATION_BUNDLE} annotation (the log's signed entry timestamp)`;
      return signatureOf(undefined, layer, 'sig-tag', ev.location, new GateError('TLOG_ENTRY_NOT_FOUND', `${ev.location}: the registry holds an image signature with no log proof: ${why}`));
    }
    const p = ev.cosignBundle.Payload;
    const logged: LogEntryAnon = { body: p.body, integratedTime: p.integratedTime, logID: p.logID, logIndex: p.logIndex, verification: { signedEntryTimestamp: ev.cosignBundle.SignedEntryTimestamp } };
    return signatureOf(logged, layer, 'sig-tag', ev.location);
  }

  async function fromEvidence(ev: RegistryEvidence): Promise<Candidate> {
    if (ev.source === 'sig-tag') return fromSigLayer(ev);
    if (ev.source === 'att-tag') {
      const envelope: RegistryCopy = { bytes: ev.envelopeBytes, exact: true, location: ev.location };
      if (!ev.cosignBundle) {
        // No (readable) log pointer: the envelope may still belong to an entry the search found, by its hash;
        // if none records it, it fails as unproven (the registry holds an attestation with no log proof).
        const hash = sigcrypto.digest('sha256', ev.envelopeBytes).toString('hex');
        const unproven = new GateError('TLOG_ENTRY_NOT_FOUND', noLogProof(ev.location, hash, ev.annotationError, o.rekor === undefined));
        return { kind: 'envelope', hash, envelope, sources: ['att-tag'], unproven };
      }
      const p = ev.cosignBundle.Payload;
      const logged: LogEntryAnon = {
        body: p.body,
        integratedTime: p.integratedTime,
        logID: p.logID,
        logIndex: p.logIndex,
        verification: { signedEntryTimestamp: ev.cosignBundle.SignedEntryTimestamp },
      };
      return pointTo(logged, 'att-tag', envelope);
    }
    let bundle: ReturnType<typeof parseBundle>;
    try {
      bundle = parseBundle(ev.bundle, ev.location);
    } catch (err) {
      // One malformed referrer fails its own candidate, not the whole run.
      return { kind: 'failed', uuid: ev.location, error: err as Error, sources: ['referrer-bundle'], location: ev.location };
    }
    const asSignature = bundleAsSignature(bundle);
    if (asSignature) return signatureOf(asSignature.entry, asSignature.layer, 'referrer-bundle', ev.location);
    const asEntry = bundleAsLogEntry(bundle);
    if (asEntry) return pointTo(asEntry.entry, 'referrer-bundle', { bytes: asEntry.envelopeBytes, exact: false, location: ev.location });
    // A Rekor v2 entry has no UUID and no entry URL: it is named by its leaf hash.
    const t = bundle.verificationMaterial.tlogEntries[0];
    return {
      kind: 'bundle',
      uuid: t ? leafOf(Buffer.from(t.canonicalizedBody).toString('base64')) : ev.location,
      ...(t ? { logIndex: Number(t.logIndex) } : {}),
      bundle: ev.bundle,
      location: ev.location,
      sources: ['referrer-bundle'],
    };
  }

  return async (note) => {
    const evidence = await fetchRegistryEvidence(ref, o.digest, o.registry, note, { signatures: o.signatures === true });
    const out: Candidate[] = [];
    for (const ev of evidence) out.push(await fromEvidence(ev));
    return out;
  };
}
