import { readFileSync } from 'node:fs';
import type { ImageDigest } from '../digest.ts';
import { GateError } from '../errors.ts';
import { parseTrustedKeys } from '../trust/public-keys.ts';
import type { TrustedKey } from '../trust/public-keys.ts';
import type { OciClient, RegistryOptions } from '../registry/index.ts';
import type { Verdict } from '../verify/types.ts';
import { readCaCert, resolveTrustFiles, type TrustFlags } from './log-flags.ts';
import { registryCaps } from './memory.ts';
import { timeoutMsOf } from './timeouts.ts';
import { printable } from '../text.ts';
import { VERSION } from './version.ts';

/** The flags of the summary's round trip: pushed after a pass, accepted by a later gate. */
export type VsaFlowArgs = TrustFlags & {
  imageUrl?: string;
  timeout: number;
  vsaPush?: boolean;
  acceptVsaFrom?: string[];
  vsaPolicyUri?: string;
  vsaPolicyDigest?: string;
  maxAge?: string;
  offline?: boolean;
};

const DURATION = /^(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?$/;

/** `--max-age`: `30d`, `720h`, `1d12h`, `90m`, `3600s` -> seconds (as a policy file's maxAge). */
export function maxAgeSeconds(text: string): number {
  const m = DURATION.exec(text);
  const total = m && text !== '' ? [m[1], m[2], m[3], m[4]].map((v) => Number(v ?? 0)).reduce((a, v, i) => a + v * [86400, 3600, 60, 1][i]!, 0) : 0;
  if (!(total > 0) || !Number.isSafeInteger(total)) throw new GateError('USAGE', `--max-age "${text.slice(0, 40)}" must be a duration such as 30d, 720h, 1d12h, 90m or 3600s`);
  return total;
}

/** Checks the flags' combinations before any work is done (usage errors, exit 2). */
export function checkVsaFlags(a: VsaFlowArgs, signed: boolean): void {
  if (a.vsaPush && !signed) throw new GateError('USAGE', '--vsa-push needs --vsa-key: only a signed summary is attached to the image');
  if (a.vsaPush && !a.imageUrl) throw new GateError('USAGE', '--vsa-push needs --image-url: the summary is attached to the image in its registry');
  const accepting = (a.acceptVsaFrom?.length ?? 0) > 0;
  if (accepting && !a.vsaPolicyUri) throw new GateError('USAGE', '--accept-vsa-from needs --vsa-policy-uri: the policy the summary must have been made under');
  if (accepting && !a.imageUrl) throw new GateError('USAGE', '--accept-vsa-from needs --image-url: summaries are read from the image\'s registry');
  if (!accepting && (a.vsaPolicyUri !== undefined || a.vsaPolicyDigest !== undefined || a.maxAge !== undefined)) {
    throw new GateError('USAGE', '--vsa-policy-uri, --vsa-policy-digest and --max-age need --accept-vsa-from');
  }
  if (a.maxAge !== undefined) maxAgeSeconds(a.maxAge);
  if (a.vsaPolicyDigest !== undefined) policyDigestHex(a.vsaPolicyDigest);
}

const POLICY_DIGEST = /^sha256:([0-9a-f]{64})$/;

/** `--vsa-policy-digest sha256:<64 hex>` -> the hex. */
function policyDigestHex(text: string): string {
  const m = POLICY_DIGEST.exec(text.trim().toLowerCase());
  if (!m) throw new GateError('USAGE', `--vsa-policy-digest "${printable(text.slice(0, 80))}" must be sha256:<64 hex>, as the pushing gate reported it (VSA_POLICY_DIGEST)`);
  return m[1] as string;
}

/** The registry side is imported only when a summary is pushed or looked for. */
async function registry(a: VsaFlowArgs, signal: AbortSignal): Promise<{ client: OciClient } & Pick<typeof import('../registry/index.ts'), 'parseImageRef' | 'checkReferenceNamesDigest'>> {
  const { checkReferenceNamesDigest, loadDockerConfigFromEnv, OciClient, parseImageRef } = await import('../registry/index.ts');
  const opts: RegistryOptions = {
    dockerConfig: await loadDockerConfigFromEnv(process.env),
    ...registryCaps(),
    timeoutMs: timeoutMsOf(a.timeout),
    signal,
    ca: readCaCert(resolveTrustFiles(a).caCert),
    userAgent: `rekor-gate/${VERSION}`,
  };
  return { client: new OciClient(opts), parseImageRef, checkReferenceNamesDigest };
}

/** Each --accept-vsa-from is a PEM file, or PEM text itself (the Task's ACCEPT_VSA_FROM param). */
function acceptKeys(files: readonly string[]): TrustedKey[] {
  return files.flatMap((file, i) => {
    if (file.trimStart().startsWith('-----BEGIN')) return parseTrustedKeys(file, `--accept-vsa-from #${i + 1} (PEM text)`);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new GateError('BAD_KEY', `--accept-vsa-from ${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    return parseTrustedKeys(text, `--accept-vsa-from ${file}`);
  });
}

/**
 * With --accept-vsa-from: a summary among the image's referrers that passes (signer, PASSED, digest, policy, age)
 * gives the verdict. Without one: a gate with no other signer fails with why each summary was refused; a gate
 * with signers goes on to verify the attestations (undefined), the refusals noted on stderr.
 */
export async function acceptVsaVerdict(a: VsaFlowArgs, digest: ImageDigest, hasSigners: boolean, signal: AbortSignal): Promise<Verdict | undefined> {
  if (!a.acceptVsaFrom?.length || !a.imageUrl || !a.vsaPolicyUri) return undefined;
  const { findAcceptedVsa, vsaVerdict } = await import('../vsa/accept.ts');
  const keys = acceptKeys(a.acceptVsaFrom);
  const { client, parseImageRef, checkReferenceNamesDigest } = await registry(a, signal);
  try {
    const ref = parseImageRef(a.imageUrl);
    // The summaries found are of the digest; the reference, deployed later, must name it too.
    await checkReferenceNamesDigest(ref, a.imageUrl, digest, { client });
    const now = Math.floor(Date.now() / 1000);
    const policyDigest = a.vsaPolicyDigest !== undefined ? policyDigestHex(a.vsaPolicyDigest) : undefined;
    const opts = { keys, policyUri: a.vsaPolicyUri, policyDigest, now, ...(a.maxAge !== undefined ? { maxAgeSeconds: maxAgeSeconds(a.maxAge) } : {}) };
    const { accepted, rejected } = await findAcceptedVsa(client, ref, digest, opts);
    if (accepted) return vsaVerdict(digest, a.imageUrl, accepted, rejected);
    const why = rejected.length === 0 ? 'no verification summary refers to the image' : `none of ${rejected.length} verification summaries is acceptable`;
    if (!hasSigners) {
      return { verified: false, imageDigest: digest.value, imageUrl: a.imageUrl, rekorUrl: '', candidates: rejected, reason: `--accept-vsa-from: ${why}`, polls: 0, warnings: [] };
    }
    process.stderr.write(`${printable(`rekor-gate: --accept-vsa-from: ${why}; verifying the attestations`)}\n`);
    for (const r of rejected) process.stderr.write(`${printable(`  x ${r.reason ?? r.uuid}`)}\n`);
    return undefined;
  } finally {
    await client.close();
  }
}

/** --vsa-push: the signed summary attached to the image as a referrer (after a pass only). */
export async function pushSummary(a: VsaFlowArgs, digest: ImageDigest, envelope: object, signal: AbortSignal): Promise<void> {
  if (!a.imageUrl) return;
  const { pushVsaReferrer } = await import('../vsa/referrer.ts');
  const { client, parseImageRef } = await registry(a, signal);
  try {
    const repo = parseImageRef(a.imageUrl);
    const m = await client.getManifest(repo, digest.value);
    const subject = { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length };
    const pushed = await pushVsaReferrer(client, repo, subject, Buffer.from(JSON.stringify(envelope)), new Date());
    process.stderr.write(`${printable(`VSA attached to the image as referrer ${pushed.location} (${pushed.via === 'api' ? 'referrers API' : 'referrers tag schema'})`)}\n`);
  } finally {
    await client.close();
  }
}
