import { parseImageDigest, type ImageDigest } from '../digest.ts';
import { GateError } from '../errors.ts';
import type { PlatformChoice } from '../registry/platforms.ts';
import type { ImageOutcome, Subject } from '../verify/many.ts';
import { splitList } from './inputs.ts';
import { readCaCert, resolveTrustFiles } from './log-flags.ts';
import { registryCaps } from './memory.ts';
import type { VerifyArgs } from './options.ts';
import { timeoutMsOf } from './timeouts.ts';
import { runMany, singleSubjectFlags, type Plan } from './images-command.ts';
import { VERSION } from './version.ts';

const PLATFORM = /^[a-z0-9._-]{1,64}\/[a-z0-9._-]{1,64}(?:\/[a-z0-9._-]{1,64})?$/;

/** `--platforms all` or `os/arch[/variant],...`. */
export function parsePlatforms(text: string): PlatformChoice {
  // Lower-cased, as containerd's platforms.Parse reads a specifier.
  const names = [...new Set(splitList([text]).map((n) => n.toLowerCase()))];
  if (names.length === 1 && names[0] === 'all') return { all: true };
  if (names.length === 0) throw new GateError('USAGE', '--platforms is empty: give all, or os/arch names such as linux/amd64,linux/arm64');
  for (const n of names) {
    if (!PLATFORM.test(n)) throw new GateError('USAGE', `--platforms: "${n.slice(0, 100)}" is not all or os/arch[/variant] (such as linux/arm64/v8)`);
    if (n === 'unknown/unknown') throw new GateError('USAGE', '--platforms: unknown/unknown names BuildKit\'s attestation manifests, not a platform');
  }
  return { all: false, names };
}

function checkFlags(args: VerifyArgs): void {
  if (!args.imageUrl || !args.imageDigest) throw new GateError('USAGE', '--platforms needs --image-url and --image-digest: the index is read from the registry');
  const given = singleSubjectFlags(args);
  if (given.length > 0) throw new GateError('USAGE', `--platforms verifies the index and its platform manifests: not with ${given.join(', ')}`);
}

/** The index itself, then each platform asked for; a platform the index lacks is a known failure naming it. */
async function planOf(args: VerifyArgs, digest: ImageDigest, choice: PlatformChoice, signal: AbortSignal): Promise<Plan> {
  const { checkReferenceNamesDigest, loadDockerConfigFromEnv, OciClient, parseImageRef, repositoryName } = await import('../registry/index.ts');
  const { readPlatforms, selectPlatforms } = await import('../registry/platforms.ts');
  const imageUrl = args.imageUrl as string;
  const ref = parseImageRef(imageUrl);
  const client = new OciClient({
    dockerConfig: await loadDockerConfigFromEnv(process.env),
    ...registryCaps(),
    timeoutMs: timeoutMsOf(args.timeout),
    signal,
    ca: readCaCert(resolveTrustFiles(args).caCert),
    userAgent: `rekor-gate/${VERSION}`,
  });
  let read: Awaited<ReturnType<typeof readPlatforms>>;
  try {
    // The index is read by its digest; the reference given (a tag, deployed later) must name that index.
    await checkReferenceNamesDigest(ref, imageUrl, digest, { client });
    read = await readPlatforms(client, ref, digest);
  } finally {
    await client.close();
  }
  const name = repositoryName(ref);
  const missing = (platform: string, why: string): ImageOutcome => ({ imageUrl: name, imageDigest: '', label: platform, status: 'error', code: 'PLATFORM_MISSING', reason: why });
  if (read.kind === 'manifest') {
    // Not an index: the image itself is what there is; a named platform cannot be found in it.
    const known = choice.all ? [] : choice.names.map((p) => missing(p, `${imageUrl} (${digest.value}) is an image manifest, not an index: it lists no platform ${p}`));
    return { subjects: [{ imageUrl, digest }], known };
  }
  const { selected, missing: lacking } = selectPlatforms(read.platforms, choice);
  const listed = read.platforms.map((p) => p.platform).join(', ') || 'none';
  const subjects: Subject[] = [{ imageUrl, digest, label: 'index' }];
  const known: ImageOutcome[] = lacking.map((p) => missing(p, `the index ${digest.value} lists no platform ${p} (it lists: ${listed})`));
  for (const p of selected) {
    let d: ImageDigest;
    try {
      d = parseImageDigest(p.digest);
    } catch {
      known.push({ imageUrl: name, imageDigest: '', label: p.platform, status: 'error', code: 'REGISTRY_MALFORMED', reason: `the index names ${p.platform} by a digest that is not sha256` });
      continue;
    }
    subjects.push({ imageUrl: `${name}@${d.value}`, digest: d, label: p.platform });
  }
  return { subjects, known };
}

/** `rekor-gate verify --platforms`: the index's own attestation and each platform manifest's, concurrently. */
export function runVerifyPlatforms(args: VerifyArgs & { platforms: string }): Promise<number> {
  return runMany(args, async (signal) => {
    checkFlags(args);
    const choice = parsePlatforms(args.platforms);
    return planOf(args, parseImageDigest(args.imageDigest as string, '--image-digest'), choice, signal);
  });
}
