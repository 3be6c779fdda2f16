// What the finders hand the verifier: a tagged union, one variant per thing a source can name.
import type { LogEntryAnon } from '../rekor/types.ts';
import type { SignatureLayer } from '../signature/hashedrekord.ts';

/** Where a candidate entry was found; `vsa`: a signed verification summary referrer, taken only when asked for (never by verify()). */
export type CandidateSource = 'rekor-search' | 'att-tag' | 'sig-tag' | 'referrer-bundle' | 'log-index' | 'entry-url' | 'vsa';

/** A DSSE envelope the registry holds beside the image. */
export type RegistryCopy = {
  readonly bytes: Buffer;
  /**
   * True when these are the exact uploaded bytes (a cosign .att layer); false when re-encoded from a Sigstore
   * bundle, whose bytes need not equal what was uploaded.
   */
  readonly exact: boolean;
  /** Where in the registry it was found. */
  readonly location: string;
};

/** A log entry to judge, with the registry's copy of its envelope when there is one (it may stand in for the log's). */
export type EntryCandidate = {
  readonly kind: 'entry';
  /** The entry ID as the log (or the registry) named it. */
  readonly uuid: string;
  readonly entry: LogEntryAnon;
  readonly sources: readonly CandidateSource[];
  readonly envelope?: RegistryCopy;
};

/** A Sigstore bundle (a Rekor v2 entry) that only @sigstore/verify can judge whole. */
export type BundleCandidate = {
  readonly kind: 'bundle';
  /** The leaf hash of its entry (a Rekor v2 entry has no UUID), or its registry location when it holds none. */
  readonly uuid: string;
  readonly logIndex?: number;
  readonly bundle: unknown;
  readonly location: string;
  readonly sources: readonly CandidateSource[];
};

/**
 * An .att layer that names no log entry (no readable cosign bundle annotation): not judged itself, it joins the
 * entry whose body records its hash; alone, it fails with `unproven`.
 */
export type EnvelopeCandidate = {
  readonly kind: 'envelope';
  /** sha256 (hex) of the envelope bytes. */
  readonly hash: string;
  readonly envelope: RegistryCopy;
  readonly sources: readonly CandidateSource[];
  readonly unproven: Error;
};

/** An entry a source named that could not be had (the log does not serve it, a referrer cannot be read): it fails with `error`. */
export type FailedCandidate = {
  readonly kind: 'failed';
  /** The entry ID named, or the registry location of what could not be read. */
  readonly uuid: string;
  readonly logIndex?: number;
  readonly error: Error;
  readonly sources: readonly CandidateSource[];
  readonly location?: string;
  /** The registry's envelope for the named entry: kept when the log's copy of the entry turns up from another source. */
  readonly envelope?: RegistryCopy;
};

/**
 * An image signature found beside the image (a `.sig` layer, or a bundle referrer whose envelope carries a
 * simple signing payload), with the hashedrekord entry it names: from the log, or with --offline the registry's
 * copy (its SET then vouches for it). `error`: the entry could not be had, and the candidate fails with it.
 */
export type SignatureCandidate = {
  readonly kind: 'signature';
  /** The entry's leaf hash (or its ID as the log named it); the layer's location when it names none. */
  readonly uuid: string;
  readonly entry?: LogEntryAnon;
  readonly error?: Error;
  readonly layer: SignatureLayer;
  readonly location: string;
  readonly sources: readonly CandidateSource[];
};

export type Candidate = EntryCandidate | BundleCandidate | EnvelopeCandidate | FailedCandidate | SignatureCandidate;

/** Where in the registry a candidate was found, if it was. */
export function locationOf(c: Candidate): string | undefined {
  if (c.kind === 'bundle' || c.kind === 'signature') return c.location;
  if (c.kind === 'failed') return c.location ?? c.envelope?.location;
  return c.envelope?.location;
}
