// --kyverno-policy: the cluster's Kyverno policy applied at the gate. Each attestor's entries are looked up in
// the log its rekor block names (a session per URL, opened here), with the same trust; the runs are verify()'s.
import type { ImageDigest } from '../digest.ts';
import { GateError } from '../errors.ts';
import type { AdmissionPolicy, LogChoice } from '../kyverno/index.ts';
import type { Policy } from '../policy/policy.ts';
import { trustFromRekorPublicKey } from '../trust/index.ts';
import { verifyAdmission, withAdmission } from '../verify/admission.ts';
import type { Verdict } from '../verify/types.ts';
import { verify } from '../verify/verifier.ts';
import { adviser } from './hints.ts';
import { parseRekorUrl } from './log-flags.ts';
import type { VerifyArgs } from './options.ts';
import { openLog, type LogSession } from './session.ts';
import { findersFor } from './finders-for.ts';

/** Loads the Kyverno policy (imported only when one is given). */
export async function loadAdmission(file: string, allowIgnoreTlog: boolean): Promise<AdmissionPolicy> {
  return (await import('../kyverno/index.ts')).loadKyvernoPolicy(file, { allowIgnoreTlog });
}

const progress = (line: string): void => {
  process.stderr.write(`${line.replace(/[\u0000-\u001f\u007f]/g, '?')}\n`);
};

/**
 * The admission policy's verdict, combined with the flags' own (`own`, when flags gave signers): every rule that
 * applies to --image-url must hold. `s` is the run's log (--rekor-url); an attestor naming another log gets its own.
 */
export async function admissionVerdict(
  args: VerifyArgs,
  ap: AdmissionPolicy,
  own: Verdict | undefined,
  flagPolicy: Policy | undefined,
  s: LogSession,
  digest: ImageDigest,
  wait: number,
  signal: AbortSignal,
): Promise<Verdict> {
  const imageUrl = args.imageUrl as string;
  const sessions = new Map<string, Promise<LogSession>>([[s.rekorUrl, Promise.resolve(s)]]);
  const sessionFor = (log: LogChoice | undefined): Promise<LogSession> => {
    // An attestor whose log is not checked (ignoreTlog, allowed by --kyverno-ignore-tlog) asks no log.
    if (!log || log.ignoreTlog) return Promise.resolve(s);
    let url: string;
    try {
      url = parseRekorUrl(log.url);
    } catch (err) {
      throw new GateError('USAGE', `the Kyverno policy's rekor.url ${log.url}: ${(err as Error).message}`);
    }
    let got = sessions.get(url);
    if (!got) {
      got = openLog({ ...args, rekorUrl: url }, { certificateAuthorities: true }, signal);
      sessions.set(url, got);
    }
    return got;
  };
  try {
    const adm = await verifyAdmission(ap, { ref: imageUrl, digest: digest.value }, flagPolicy, async (required, log) => {
      // --require-envelope is the run's, not a signer's: it holds for the policy's attestations too.
      const policy: Policy = args.requireEnvelope ? { ...required, requireEnvelope: true } : required;
      const session = await sessionFor(log);
      const trust = log?.publicKeyPem ? trustFromRekorPublicKey(log.publicKeyPem, session.trust, `the Kyverno policy's rekor.pubkey for ${session.rekorUrl}`) : session.trust;
      const { finders, entryUrl } = await findersFor(log?.ignoreTlog ? { ...args, offline: true } : args, policy, session, digest, signal);
      return verify(
        { digest, imageUrl, rekorUrl: session.rekorUrl, policy, trust, waitSeconds: wait },
        { finders, entryUrl, progress, sleep: (ms) => new Promise((r) => setTimeout(r, ms)), now: () => Date.now(), advise: adviser(args) },
      );
    });
    return withAdmission(own, adm, { imageDigest: digest.value, imageUrl, rekorUrl: s.rekorUrl });
  } finally {
    for (const [url, p] of sessions) if (url !== s.rekorUrl) await p.then((x) => x.close(), () => undefined);
  }
}
