import { crypto as sigcrypto } from '@sigstore/core';
import type { ImageDigest } from '../digest.ts';
import { GateError, errorMessage } from '../errors.ts';
import { checkReferenceNamesDigest, fetchRegistryEvidence, parseImageRef, type EvidenceOptions, type RegistryEvidence } from '../registry/index.ts';
import { ANNOTATION_BUNDLE } from '../registry/cosign-layout.ts';
import type { RekorClient } from '../rekor/client.ts';
import { leafHashHex } from '../rekor/entry.ts';
import type { LogEntryAnon } from '../rekor/types.ts';
import { parseBundle } from '../bundle/index.ts';
import { bundleAsLogEntry } from './bundle-entry.ts';
import type { Candidate, CandidateSource, RegistryCopy } from './candidate.ts';
import type { CandidateFinder } from './verifier.ts';

export type RegistryFinderOptions = {
  readonly imageUrl: string;
  readonly digest: ImageDigest;
  /** The log, to fetch the entries the registry names; absent with --offline (entries verified from their SET/proof). */
  readonly rekor?: RekorClient;
  readonly registry: EvidenceOptions;
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
  const fromLog = new Map<string, Candidate>();

  /** The entry a registry copy points to, from the log (by its leaf hash); with --offline, the registry's copy. */
  async function pointTo(logged: LogEntryAnon, source: CandidateSource, envelope: RegistryCopy): Promise<Candidate> {
    const leaf = leafOf(logged.body);
    if (!o.rekor) return { kind: 'entry', uuid: leaf, entry: logged, sources: [source], envelope };
    let found = fromLog.get(leaf);
    if (!found) {
      try {
        const r = await o.rekor.getByUUID(leaf);
        found = { kind: 'entry', uuid: r.uuid, entry: r.entry, sources: [] };
      } catch (err) {
        if (!(err instanceof GateError && err.status === 404)) throw err;
        const error = new GateError('TLOG_ENTRY_NOT_FOUND', `entry ${leaf} (log index ${logged.logIndex}), named by ${envelope.location}: the log does not serve it (${errorMessage(err)})`);
        found = { kind: 'failed', uuid: leaf, logIndex: logged.logIndex, error, sources: [] };
      }
      fromLog.set(leaf, found);
    }
    return { ...found, sources: [source], envelope } as Candidate;
  }

  async function fromEvidence(ev: RegistryEvidence): Promise<Candidate> {
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
    const evidence = await fetchRegistryEvidence(ref, o.digest, o.registry, note);
    const out: Candidate[] = [];
    for (const ev of evidence) out.push(await fromEvidence(ev));
    return out;
  };
}
