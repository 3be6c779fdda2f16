/**
 * Runs the real verification pipeline in-process against a test world: the log's search finder over a
 * real HTTP client, trust from a trusted_root.json, no waiting.
 */
import { readFileSync } from 'node:fs';
import { parseImageDigest } from '../../src/digest.ts';
import { createHttp } from '../../src/net/http.ts';
import type { Hint } from '../../src/errors.ts';
import type { Policy } from '../../src/policy/policy.ts';
import { createRekorClient } from '../../src/rekor/client.ts';
import { trustFromTrustedRoot, type Trust } from '../../src/trust/index.ts';
import { rekorSearchFinder } from '../../src/verify/finders.ts';
import type { CandidateOutcome, Verdict } from '../../src/verify/types.ts';
import { verify } from '../../src/verify/verifier.ts';
import type { World } from '../fixtures/world.ts';

/** Trust from the world's trusted_root.json (or another parsed root). */
export function worldTrust(w: World, root?: unknown): Trust {
  const json = root ?? JSON.parse(readFileSync(w.trustedRootPath, 'utf8'));
  return trustFromTrustedRoot(json, root ? 'test trusted root' : `--trusted-root ${w.trustedRootPath}`);
}

export async function runPipeline(w: World, digest: string, policy: Policy, o: { trust?: Trust; advise?: (hint: Hint) => string } = {}): Promise<Verdict> {
  const http = createHttp({ timeoutMs: 5_000, retries: 0 });
  try {
    const rekor = createRekorClient(w.log.url, http);
    const d = parseImageDigest(digest);
    return await verify(
      { digest: d, rekorUrl: w.log.url, policy, trust: o.trust ?? worldTrust(w), waitSeconds: 0 },
      {
        finders: [rekorSearchFinder(rekor, d)],
        entryUrl: (uuid) => rekor.entryUrl(uuid),
        progress: () => {},
        sleep: async () => {},
        now: () => Date.now(),
        ...(o.advise ? { advise: o.advise } : {}),
      },
    );
  } finally {
    await http.close();
  }
}

/** The one candidate of a verdict (fails the test when there are several or none). */
export function only(v: Verdict): CandidateOutcome {
  if (v.candidates.length !== 1) throw new Error(`expected exactly one candidate, got ${v.candidates.length}: ${JSON.stringify(v.candidates)}`);
  return v.candidates[0] as CandidateOutcome;
}
