import { dsse } from '@sigstore/core';
import { parseEnvelope, IN_TOTO_PAYLOAD_TYPE } from '../attest/envelope.ts';
import { checkSubject, checkVsa, parseStatement, type Statement } from '../attest/statement.ts';
import type { ImageDigest } from '../digest.ts';
import { GateError, errorMessage } from '../errors.ts';
import type { TrustedKey } from '../trust/public-keys.ts';
import { verifyWithKey } from '../trust/signature.ts';
import { MEDIA_TYPES, type OciClient } from '../registry/client.ts';
import { repositoryName, type RepositoryRef } from '../registry/reference.ts';
import { listReferrers, MAX_REFERRERS, newestReferrers } from '../registry/referrers.ts';
import type { Descriptor } from '../registry/schemas.ts';
import { capped } from '../text.ts';
import type { CandidateOutcome, Verdict } from '../verify/types.ts';
import { isVsaReferrer } from './referrer.ts';

/** What a later gate accepts a verification summary on: its signer, the policy it names, its age. */
export type VsaAcceptOptions = {
  readonly keys: readonly TrustedKey[];
  readonly policyUri: string;
  /** The policy's digest the summary must name too (lower-case hex sha256); none: the URI alone. */
  readonly policyDigest?: string | undefined;
  /** The oldest `timeVerified` accepted, in seconds before `now`; none: any age. */
  readonly maxAgeSeconds?: number;
  /** Unix seconds. */
  readonly now: number;
};

export type VsaFound = { readonly location: string; readonly statement: Statement; readonly signer: string; readonly timeVerified: number };

/** The checks on one summary's envelope bytes; throws a GateError naming the first that failed. */
export function acceptVsaEnvelope(bytes: Buffer, digest: ImageDigest, o: VsaAcceptOptions, where: string): VsaFound {
  const env = parseEnvelope(bytes, where);
  if (env.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new GateError('ATTESTATION_BINDING', `${where}: payload type ${capped(env.payloadType)} is not ${IN_TOTO_PAYLOAD_TYPE}`);
  }
  const payload = Buffer.from(env.payload, 'base64');
  const pae = dsse.preAuthEncoding(env.payloadType, payload);
  const signer = o.keys.find((k) => env.signatures.some((s) => verifyWithKey(pae, k.key, Buffer.from(s.sig, 'base64'))));
  if (!signer) {
    throw new GateError('SIGNER_UNTRUSTED', `${where}: no signature verifies with a key summaries are accepted from (${o.keys.map((k) => k.fingerprint.slice(0, 16)).join(', ')})`);
  }
  const st = parseStatement(payload, where);
  checkSubject(st, digest, where);
  if (st.predicateType !== 'https://slsa.dev/verification_summary/v1' && st.predicateType !== 'https://slsa.dev/verification_summary/v0.2') {
    throw new GateError('PREDICATE_TYPE', `${where}: predicate type ${capped(st.predicateType)} is not a verification summary`);
  }
  checkVsa(st, digest, { policyUri: o.policyUri, policyDigest: o.policyDigest }, where);
  const p = st.predicate ?? {};
  const stamp = typeof p['timeVerified'] === 'string' ? Date.parse(p['timeVerified']) : Number.NaN;
  if (Number.isNaN(stamp)) throw new GateError('POLICY', `${where}: the summary has no readable timeVerified`);
  const timeVerified = Math.floor(stamp / 1000);
  if (timeVerified > o.now + 300) throw new GateError('POLICY', `${where}: verified at ${new Date(stamp).toISOString()}, in the future`);
  if (o.maxAgeSeconds !== undefined && o.now - timeVerified > o.maxAgeSeconds) {
    throw new GateError(
      'POLICY',
      `${where}: verified ${Math.round((o.now - timeVerified) / 3600)}h ago (${new Date(stamp).toISOString()}), older than the maximum age of ${Math.round(o.maxAgeSeconds / 3600)}h`,
    );
  }
  return { location: where, statement: st, signer: signer.label, timeVerified };
}

/** A summary referrer's envelope: the referrer must be an image manifest, and its DSSE layer (wherever it is) is read. */
export async function readSummaryEnvelope(client: OciClient, repo: RepositoryRef, d: Descriptor, where: string): Promise<Buffer> {
  const m = await client.getManifest(repo, d.digest);
  if (m.kind !== 'manifest') throw new GateError('REGISTRY_MALFORMED', `${where}: an index, not a manifest`);
  const layer = m.manifest.layers.find((l) => l.mediaType === MEDIA_TYPES.dsseEnvelope);
  if (!layer) throw new GateError('REGISTRY_MALFORMED', `${where}: no ${MEDIA_TYPES.dsseEnvelope} layer`);
  return client.getBlob(repo, layer.digest, { expectedSize: layer.size });
}

/**
 * Looks for a summary of `digest` among its referrers that passes every check of `acceptVsaEnvelope`. Returns the
 * newest accepted one, and why each other one was not (one bad referrer fails alone).
 */
export async function findAcceptedVsa(
  client: OciClient,
  repo: RepositoryRef,
  digest: ImageDigest,
  o: VsaAcceptOptions,
): Promise<{ accepted?: VsaFound; rejected: CandidateOutcome[] }> {
  const { descriptors } = await listReferrers(client, repo, digest.value);
  const rejected: CandidateOutcome[] = [];
  for (const d of newestReferrers(descriptors.filter(isVsaReferrer), MAX_REFERRERS)) {
    const where = `summary ${repositoryName(repo)}@${d.digest}`;
    try {
      const found = acceptVsaEnvelope(await readSummaryEnvelope(client, repo, d, where), digest, o, where);
      return { accepted: found, rejected };
    } catch (err) {
      const code = err instanceof GateError ? err.code : 'ENTRY_MALFORMED';
      rejected.push({ uuid: d.digest, sources: ['vsa'], status: 'failed', check: 'statement', code, reason: capped(errorMessage(err), 1024), registryLocation: where });
    }
  }
  return { rejected };
}

/** The verdict of a run that accepted a summary: what the report and results show (found via: vsa). */
export function vsaVerdict(digest: ImageDigest, imageUrl: string, found: VsaFound, rejected: readonly CandidateOutcome[]): Verdict {
  const location = found.location.replace(/^summary /, '');
  const accepted = {
    uuid: location.slice(location.lastIndexOf('@') + 1),
    integratedTime: found.timeVerified,
    kind: 'verification summary',
    sources: ['vsa'] as const,
    status: 'passed' as const,
    predicateType: capped(found.statement.predicateType),
    signer: capped(found.signer),
    attestationFrom: 'registry' as const,
    registryLocation: location,
    entryUrl: '',
  };
  return { verified: true, imageDigest: digest.value, imageUrl, rekorUrl: '', accepted, candidates: [accepted, ...rejected], polls: 0, warnings: [] };
}
