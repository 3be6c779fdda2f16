import { crypto as sigcrypto, json as sigjson } from '@sigstore/core';
import { GateError } from '../errors.ts';
import { parseImageRef, repositoryName } from '../registry/reference.ts';
import type { CandidateOutcome, Verdict } from '../verify/types.ts';
import { validateVsa } from './schema.ts';

export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
export const VSA_PREDICATE_TYPE = 'https://slsa.dev/verification_summary/v1';
/** The policy URI used when the policy came from command-line flags rather than a policy file. */
export const FLAGS_POLICY_URI = 'rekor-gate:flags';

export type VsaPolicyRef = { readonly uri: string; readonly sha256: string };

export type BuildVsaOptions = {
  /** The verifier's identity (a URI), e.g. `https://github.com/acme/rekor-gate`. */
  readonly verifierId: string;
  /** Reported as `verifier.version['rekor-gate']`. */
  readonly verifierVersion: string;
  readonly timeVerified: Date;
  /** An RFC 3986 URI naming the verified image, e.g. from `imageResourceUri()`. */
  readonly resourceUri: string;
  /** The policy file (Policy.source) or `flagsPolicy(...)`; without it the policy is `{ uri: 'rekor-gate:flags' }`. */
  readonly policy?: VsaPolicyRef;
  /** Levels to claim when the verdict passed (e.g. `SLSA_BUILD_LEVEL_2`); a failed verdict always reports `['FAILED']`. */
  readonly verifiedLevels?: readonly string[];
  /** The log URL of an entry; defaults to `<verdict.rekorUrl>/api/v1/log/entries/<uuid>` (as the Rekor client builds it). */
  readonly entryUrl?: (uuid: string) => string;
};

export type ResourceDescriptor = {
  name?: string;
  uri?: string;
  digest?: Record<string, string>;
};

export type VsaPredicate = {
  verifier: { id: string; version: Record<string, string> };
  timeVerified: string;
  resourceUri: string;
  policy: ResourceDescriptor;
  inputAttestations: ResourceDescriptor[];
  verificationResult: 'PASSED' | 'FAILED';
  verifiedLevels: string[];
};

export type VsaStatement = {
  _type: typeof IN_TOTO_STATEMENT_V1;
  subject: { name: string; digest: { sha256: string } }[];
  predicateType: typeof VSA_PREDICATE_TYPE;
  predicate: VsaPredicate;
};

const IMAGE_DIGEST_RE = /^sha256:([0-9a-f]{64})$/;
const UUID_RE = /^(?:[0-9a-f]{16})?[0-9a-f]{64}$/;

/**
 * A flag-built policy as a VSA policy reference: `rekor-gate:flags` and the sha256 of the RFC 8785
 * canonical JSON of whatever describes the flags (the caller decides what goes in it; never secrets).
 */
export function flagsPolicy(flags: unknown): VsaPolicyRef {
  const canonical = sigjson.canonicalize(flags);
  return { uri: FLAGS_POLICY_URI, sha256: sigcrypto.digest('sha256', Buffer.from(canonical, 'utf8')).toString('hex') };
}

/**
 * An image as a package URL (purl-spec `oci` type): `pkg:oci/<name>@sha256%3A<hex>?repository_url=<host>/<repo>[&tag=<tag>]`.
 * Hand-written: no dependency builds purls.
 */
export function imageResourceUri(imageRef: string, imageDigest: string): string {
  const m = IMAGE_DIGEST_RE.exec(imageDigest);
  if (!m) throw new GateError('BAD_DIGEST', `VSA: image digest "${imageDigest.slice(0, 100)}" is not sha256:<64 lower-case hex>`);
  const ref = parseImageRef(imageRef);
  const name = ref.repository.slice(ref.repository.lastIndexOf('/') + 1);
  const q = (v: string) => encodeURIComponent(v).replace(/%2F/g, '/').replace(/%3A/g, ':');
  let uri = `pkg:oci/${encodeURIComponent(name)}@sha256%3A${m[1]}?repository_url=${q(repositoryName(ref))}`;
  if (ref.tag !== undefined) uri += `&tag=${q(ref.tag)}`;
  return uri;
}

/** `host/repo` of an image reference (as cosign names a subject), or the reference as given when it does not parse. */
function imageName(imageUrl: string): string {
  try {
    return repositoryName(parseImageRef(imageUrl));
  } catch {
    return imageUrl;
  }
}

function defaultEntryUrl(rekorUrl: string): (uuid: string) => string {
  let base = rekorUrl;
  try {
    base = new URL(rekorUrl).href;
  } catch {
    // left as given; the schema check names it if it is not a URI
  }
  base = base.replace(/\/+$/, '');
  return (uuid) => `${base}/api/v1/log/entries/${uuid}`;
}

function inputAttestation(c: CandidateOutcome, entryUrl: (uuid: string) => string): ResourceDescriptor {
  const uuid = c.uuid.toLowerCase();
  if (!UUID_RE.test(uuid)) {
    throw new GateError('INTERNAL', `VSA: passing entry "${c.uuid.slice(0, 100)}" is not a Rekor entry UUID (64 or 80 hex)`);
  }
  // The entry UUID ends with the RFC 6962 leaf hash (sha256 of 0x00 || canonical body): the entry's content digest.
  return { name: uuid, uri: entryUrl(uuid), digest: { sha256: uuid.slice(-64) } };
}

/** Log order (log index, then UUID): the same verdict always yields the same list whatever order candidates were found in. */
function byLogOrder(a: CandidateOutcome, b: CandidateOutcome): number {
  const ia = a.logIndex ?? Number.MAX_SAFE_INTEGER;
  const ib = b.logIndex ?? Number.MAX_SAFE_INTEGER;
  if (ia !== ib) return ia - ib;
  return a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0;
}

/**
 * A SLSA Verification Summary Attestation (v1) for a verdict, as an in-toto Statement v1.
 * Keys are inserted in a fixed order, so `JSON.stringify` of the result is deterministic.
 * The result is checked against schemas/vsa/vsa-v1.schema.json; a bad option (a verifier id or resource URI that
 * is not a URI, a level starting with `SLSA_` that is not a level) -> GateError USAGE.
 */
export function buildVsa(verdict: Verdict, opts: BuildVsaOptions): VsaStatement {
  const m = IMAGE_DIGEST_RE.exec(verdict.imageDigest);
  if (!m) throw new GateError('BAD_DIGEST', `VSA: image digest "${verdict.imageDigest.slice(0, 100)}" is not sha256:<64 lower-case hex>`);
  if (Number.isNaN(opts.timeVerified.getTime())) throw new GateError('USAGE', 'VSA: the verification time is not a valid date');

  const entryUrl = opts.entryUrl ?? defaultEntryUrl(verdict.rekorUrl);
  const accepted = verdict.accepted;
  const urlOf = (uuid: string) => (accepted && accepted.uuid.toLowerCase() === uuid ? accepted.entryUrl : entryUrl(uuid));
  const inputAttestations = verdict.candidates
    .filter((c) => c.status === 'passed')
    .sort(byLogOrder)
    .map((c) => inputAttestation(c, urlOf));

  const policy: ResourceDescriptor = opts.policy
    ? { uri: opts.policy.uri, digest: { sha256: opts.policy.sha256.toLowerCase() } }
    : { uri: FLAGS_POLICY_URI };

  const verifiedLevels = verdict.verified ? [...(opts.verifiedLevels ?? [])] : ['FAILED'];
  const subjectName = verdict.imageUrl ? imageName(verdict.imageUrl) : opts.resourceUri;

  const statement: VsaStatement = {
    _type: IN_TOTO_STATEMENT_V1,
    subject: [{ name: subjectName, digest: { sha256: m[1] as string } }],
    predicateType: VSA_PREDICATE_TYPE,
    predicate: {
      verifier: { id: opts.verifierId, version: { 'rekor-gate': opts.verifierVersion } },
      timeVerified: opts.timeVerified.toISOString(),
      resourceUri: opts.resourceUri,
      policy,
      inputAttestations,
      verificationResult: verdict.verified ? 'PASSED' : 'FAILED',
      verifiedLevels,
    },
  };
  const err = validateVsa(statement);
  if (err) throw new GateError('USAGE', `VSA for ${verdict.imageDigest}: the statement does not satisfy the SLSA VSA v1 schema: ${err}`);
  return statement;
}
