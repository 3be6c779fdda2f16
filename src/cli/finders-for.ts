// Where a run's candidates come from: the log's search (or the one entry named), and the registry with --image-url.
import type { ImageDigest } from '../digest.ts';
import { GateError } from '../errors.ts';
import type { Policy } from '../policy/policy.ts';
import { lookupFinder, rekorSearchFinder, sameEntryAs } from '../verify/finders.ts';
import type { CandidateFinder } from '../verify/verifier.ts';
import { parseEntryUrl, parseLogIndex } from './entry-url.ts';
import { registryCaps } from './memory.ts';
import type { VerifyArgs } from './options.ts';
import type { LogSession } from './session.ts';
import { VERSION } from './version.ts';

/**
 * Where candidates come from: the search (`search` when it has already started), or the one entry named; plus
 * the registry with --image-url.
 */
export async function findersFor(
  args: VerifyArgs,
  policy: Policy | undefined,
  s: LogSession,
  digest: ImageDigest,
  signal: AbortSignal,
  search?: CandidateFinder,
): Promise<{ finders: CandidateFinder[]; entryUrl: (uuid: string) => string }> {
  if (args.offline && (args.logIndex !== undefined || args.entryUrl !== undefined)) {
    throw new GateError('USAGE', '--offline cannot fetch --log-index or --entry-url from the log');
  }
  let rekor = s.rekor;
  let lookup: CandidateFinder | undefined;
  if (args.entryUrl !== undefined) {
    const named = parseEntryUrl(args.entryUrl, s.rekorUrl, s.trust);
    rekor = s.clientFor(named.rekorUrl);
    lookup = lookupFinder(rekor, named, 'entry-url');
  } else if (args.logIndex !== undefined) {
    lookup = lookupFinder(rekor, { logIndex: parseLogIndex(args.logIndex, '--log-index') }, 'log-index');
  }
  const registry: CandidateFinder[] = [];
  if (args.imageUrl) {
    // The registry side (OCI client, its schemas) is imported only when there is a registry to read.
    const { loadDockerConfigFromEnv } = await import('../registry/index.ts');
    const { registryFinder } = await import('../verify/registry-finder.ts');
    registry.push(
      await registryFinder({
        imageUrl: args.imageUrl,
        digest,
        rekor: args.offline ? undefined : rekor,
        signatures: policy?.requireSignature === true,
        registry: { dockerConfig: await loadDockerConfigFromEnv(process.env), ...registryCaps(), timeoutMs: s.timeoutMs, signal, dispatcher: s.pool, userAgent: `rekor-gate/${VERSION}` },
      }),
    );
  }
  const entryUrl = (uuid: string) => rekor.entryUrl(uuid);
  if (lookup) return { finders: [sameEntryAs(lookup, registry)], entryUrl };
  const finders = args.offline ? registry : [search ?? rekorSearchFinder(rekor, digest), ...registry];
  if (finders.length === 0) throw new GateError('USAGE', '--offline needs --image-url: without the log, only the registry can name entries');
  return { finders, entryUrl };
}

