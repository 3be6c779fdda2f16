import type { ImageDigest } from '../digest.ts';
import type { ErrorCode } from '../errors.ts';
import type { CandidateSource } from './candidate.ts';

export type { CandidateSource } from './candidate.ts';

/** The checks, in the order they run. A candidate's failure names the first that failed. */
export type CheckName = 'entry' | 'log' | 'attestation' | 'statement' | 'signer' | 'signature' | 'payload';

export type CandidateOutcome = {
  /** `signature`: an image signature (a `.sig` layer, a cosign 3 or Chains signature bundle), judged apart; else an attestation. */
  readonly role?: 'signature';
  readonly uuid: string;
  readonly logIndex?: number;
  readonly integratedTime?: number;
  readonly kind?: string;
  readonly sources: readonly CandidateSource[];
  readonly status: 'passed' | 'failed' | 'skipped';
  readonly check?: CheckName;
  readonly code?: ErrorCode;
  readonly reason?: string;
  readonly predicateType?: string;
  readonly signer?: string;
  /** The policy signer it satisfied (distinct ones count toward minSigners). */
  readonly policySigner?: string;
  readonly builderId?: string;
  readonly attestationFrom?: 'log' | 'registry';
  /**
   * Who checked the attestation's DSSE signature: `gate` (this run, over the envelope), or `log` (an intoto 0.0.1
   * payload from the log's storage, whose signature only the log checked, at upload: its key holder is trusted).
   */
  readonly signatureCheckedBy?: 'gate' | 'log';
  readonly registryLocation?: string;
  /** The URL that fetches the entry from its log, when the log has one (Rekor v2 entries have none: ''). */
  readonly entryUrl?: string;
};

/**
 * One requirement of an admission policy, as judged: a Kyverno verifyImages entry's attestor or attestation, or
 * an ImageValidatingPolicy's validations (`rule` '', `entry` where in its spec: `spec.validations[0]`).
 */
export type AdmissionOutcome = {
  /** `<kind>/<name>` of the policy. */
  readonly policy: string;
  readonly rule: string;
  /** `verifyImages[i]` */
  readonly entry: string;
  /** Within the entry, the attestor (`.attestors[0].entries[1].keys`) or attestation (`.attestations[0]... (type)`) judged. */
  readonly at: string;
  readonly requirement: 'signature' | 'attestation' | 'validation';
  readonly passed: boolean;
  readonly uuid?: string;
  /** The signer; for an ImageValidatingPolicy that passed, the evidence verified (`signature by chains, ...`). */
  readonly signer?: string;
  /** Why it failed: the runs' reason, naming the candidates' checks. */
  readonly reason?: string;
};

export type Verdict = {
  readonly verified: boolean;
  readonly imageDigest: string;
  readonly imageUrl?: string;
  readonly rekorUrl: string;
  /** The newest passing candidate. */
  readonly accepted?: CandidateOutcome & { readonly entryUrl: string };
  readonly candidates: readonly CandidateOutcome[];
  /** Why nothing passed (when not verified). */
  readonly reason?: string;
  readonly polls: number;
  readonly warnings: readonly string[];
  /**
   * With a summary written (--vsa, --vsa-push): the policy it records, `uri` and `digest` (sha256:<hex>), for a later
   * gate to pin; a URI alone names a path, not what the policy held.
   */
  readonly summaryPolicy?: { readonly uri: string; readonly digest: string };
  /** With an image signature required: the newest passing one, or why none passed (the candidates are in `candidates`). */
  readonly signature?: { readonly accepted?: CandidateOutcome; readonly reason?: string };
  /** With an admission policy (--kyverno-policy): each requirement of the rules that apply, and the rules skipped. */
  readonly admission?: { readonly verified: boolean; readonly outcomes: readonly AdmissionOutcome[]; readonly skipped: readonly string[] };
};

/** One image of a run over several (`REF@sha256:…`, as Chains' IMAGES result lists them). */
export type Subject = { readonly imageUrl: string; readonly digest: ImageDigest; /** `index` or `os/arch` for an index's parts. */ readonly label?: string };

/**
 * What became of one image: its verdict, or the error that stopped it (`unreachable`: the log or registry
 * could not be reached, exit 3; `error`: anything else, such as a tag naming another digest, exit 1).
 */
export type ImageOutcome = { readonly imageUrl: string; readonly imageDigest: string; readonly label?: string } & (
  | { readonly status: 'verified' | 'failed'; readonly verdict: Verdict }
  | { readonly status: 'unreachable' | 'error'; readonly code: string; readonly reason: string }
);

/** The verdict over several images: verified only when every one is. */
export type ManyVerdict = {
  readonly verified: boolean;
  readonly total: number;
  readonly passed: number;
  readonly failed: number;
  readonly unreachable: number;
  readonly images: readonly ImageOutcome[];
};
