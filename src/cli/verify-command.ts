import { parseImageDigest, type ImageDigest } from '../digest.ts';
import { GateError, errorMessage, exitCodeFor } from '../errors.ts';
import { createHttp } from '../net/http.ts';
import { createRekorClient } from '../rekor/client.ts';
import { renderJson, renderText } from '../report/render.ts';
import { checkResultsDir, resultValues, writeResults } from '../tekton/results.ts';
import { loadDockerConfigFromEnv } from '../registry/index.ts';
import { loadTrust } from '../trust/index.ts';
import { registryFinder, rekorSearchFinder } from '../verify/finders.ts';
import type { CandidateFinder } from '../verify/verifier.ts';
import { verify } from '../verify/verifier.ts';
import { describe } from '../policy/matcher.ts';
import type { Policy } from '../policy/policy.ts';
import type { Verdict } from '../verify/types.ts';
import { buildVsa, flagsPolicy, imageResourceUri, readSigningKeyFile, signVsa, writeVsa } from '../vsa/index.ts';
import type { VerifyArgs } from './main.ts';
import { parseRekorUrl, policyFromFlags, readCaCert, resolveTrustFiles } from './inputs.ts';
import { VERSION } from './version.ts';

const stderr = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

function nonNegative(value: number, flag: string): number {
  if (!Number.isFinite(value) || value < 0) throw new GateError('USAGE', `--${flag} must be a number of seconds >= 0, got ${value}`);
  return value;
}

/** The policy as the VSA names it: the policy file, or a digest of the flag policy (no secrets: keys by fingerprint). */
function policyRef(policy: Policy) {
  return (
    policy.source ??
    flagsPolicy({
      keys: policy.keys.map((k) => k.fingerprint),
      keyless: policy.keyless.map((k) => ({ identity: describe(k.identity), issuer: describe(k.issuer) })),
      predicateTypes: policy.predicateTypes,
    })
  );
}

function writeSummary(file: string, verdict: Verdict, policy: Policy, verifierId: string, keyPem: string | undefined): void {
  const statement = buildVsa(verdict, {
    verifierId,
    verifierVersion: VERSION,
    timeVerified: new Date(),
    resourceUri: verdict.imageUrl ? imageResourceUri(verdict.imageUrl, verdict.imageDigest) : verdict.imageDigest,
    policy: policyRef(policy),
    entryUrl: (uuid) => (verdict.accepted?.uuid === uuid ? verdict.accepted.entryUrl : `${verdict.rekorUrl}/api/v1/log/entries/${uuid}`),
  });
  writeVsa(file, keyPem ? signVsa(statement, keyPem) : statement);
}

/** `rekor-gate verify`: inputs are parsed and checked here once, then handed down as typed values. */
export async function runVerify(args: VerifyArgs): Promise<number> {
  let digest: ImageDigest | undefined;
  const resultsDir = args.resultsDir;
  try {
    if (resultsDir) checkResultsDir(resultsDir);
    digest = parseImageDigest(args.imageDigest);
    const policy = policyFromFlags(args);
    const rekorUrl = parseRekorUrl(args.rekorUrl);
    const wait = nonNegative(args.wait, 'wait');
    const timeout = nonNegative(args.timeout, 'timeout');
    if (timeout === 0) throw new GateError('USAGE', '--timeout must be > 0');
    const files = resolveTrustFiles(args);
    const caCertPem = readCaCert(files.caCert);
    const vsaKeyPem = args.vsaKey ? readSigningKeyFile(args.vsaKey) : undefined;
    if (args.vsaKey && !args.vsa) throw new GateError('USAGE', '--vsa-key needs --vsa FILE');

    const trust = await loadTrust({
      trustedRootPath: files.trustedRoot,
      rekorPublicKeyPath: files.rekorPublicKey,
      tufCacheDir: args.tufCacheDir,
      offline: args.offline,
    });
    const http = createHttp({ timeoutMs: timeout * 1000, caCertPem, userAgent: `rekor-gate/${VERSION}` });
    try {
      const rekor = createRekorClient(rekorUrl, http);
      const finders: CandidateFinder[] = [];
      if (!args.offline) finders.push(rekorSearchFinder(rekor, digest));
      if (args.imageUrl) {
        const dockerConfig = await loadDockerConfigFromEnv(process.env);
        finders.push(
          await registryFinder({
            imageUrl: args.imageUrl,
            digest,
            rekor: args.offline ? undefined : rekor,
            registry: { dockerConfig, timeoutMs: timeout * 1000, ca: caCertPem, userAgent: `rekor-gate/${VERSION}` },
          }),
        );
      }
      if (finders.length === 0) throw new GateError('USAGE', '--offline needs --image-url: without the log, only the registry can name entries');
      const verdict = await verify(
        { digest, imageUrl: args.imageUrl, rekorUrl, policy, trust, waitSeconds: wait },
        {
          finders,
          entryUrl: (uuid) => rekor.entryUrl(uuid),
          progress: stderr,
          sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
          now: () => Date.now(),
        },
      );
      process.stdout.write(args.output === 'json' ? renderJson(verdict, VERSION) : renderText(verdict));
      if (resultsDir) writeResults(resultsDir, resultValues(verdict));
      if (args.vsa) writeSummary(args.vsa, verdict, policy, args.vsaVerifierId, vsaKeyPem);
      if (verdict.verified) return 0;
      return args.failOnUnverified ? 1 : 0;
    } finally {
      await http.close();
    }
  } catch (err) {
    const code = exitCodeFor(err);
    const tag = err instanceof GateError ? err.code : 'INTERNAL';
    stderr(`rekor-gate: ${code === 2 ? 'usage error' : 'error'} [${tag}]: ${errorMessage(err)}`);
    if (resultsDir && !(err instanceof GateError && err.code === 'BAD_RESULTS_DIR')) {
      try {
        writeResults(resultsDir, resultValues({ error: `[${tag}] ${errorMessage(err)}`, imageDigest: digest?.value }));
      } catch {
        // the directory was checked first; nothing more to do
      }
    }
    if (args.output === 'json') process.stdout.write(`${JSON.stringify({ tool: 'rekor-gate', version: VERSION, verified: false, error: { code: tag, message: errorMessage(err) } })}\n`);
    // Audit mode turns "not verified" and "could not reach" into success (VERIFIED=false); bad input still fails.
    if (!args.failOnUnverified && code !== 2) return 0;
    return code;
  }
}
