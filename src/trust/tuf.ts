// The public-good trusted root through TUF, imported only when it is needed: a run given --trusted-root
// never loads @sigstore/tuf.
import { DEFAULT_MIRROR_URL, initTUF, TUFError } from '@sigstore/tuf';
import { errorMessage, GateError } from '../errors.ts';

const TRUSTED_ROOT_TARGET = 'trusted_root.json';

const DOWNLOAD_ERRORS = new Set(['DownloadError', 'DownloadHTTPError', 'DownloadLengthMismatchError']);

/** Sorts a @sigstore/tuf / tuf-js failure: the cache (BAD_TRUST_ROOT), the network (NETWORK), or the metadata (BAD_TRUST_ROOT). */
function tufFailure(err: unknown, source: string, tufCacheDir: string | undefined, offline: boolean): GateError {
  const root = err instanceof TUFError && err.cause ? err.cause : err;
  const messages: string[] = [];
  for (let e: unknown = err; e !== undefined && messages.length < 4; e = e instanceof Error ? e.cause : undefined) {
    messages.push(errorMessage(e));
  }
  const detail = messages.join(': ');
  const cache = tufCacheDir ? ` (cache ${tufCacheDir})` : '';
  const fsError = root instanceof Error && typeof (root as { path?: unknown }).path === 'string';
  if (fsError || (err instanceof TUFError && (err.code === 'TUF_INIT_CACHE_ERROR' || err.code === 'TUF_READ_TARGET_ERROR'))) {
    return new GateError('BAD_TRUST_ROOT', `${source}: the TUF cache${cache} is unusable: ${detail}; pass --tuf-cache-dir DIR or --trusted-root PATH`, {
      cause: err,
    });
  }
  const name = root instanceof Error ? root.constructor.name : '';
  if (root instanceof TypeError || DOWNLOAD_ERRORS.has(name)) {
    return new GateError(
      'NETWORK',
      offline
        ? `--offline: the TUF repository ${DEFAULT_MIRROR_URL} could not be reached and no fresh TUF metadata is cached${cache} (${detail}); pass --trusted-root PATH`
        : `the TUF repository ${DEFAULT_MIRROR_URL} could not be reached for the public-good trusted root${cache} (${detail}); pass --trusted-root PATH to verify without it`,
      { cause: err },
    );
  }
  return new GateError('BAD_TRUST_ROOT', `${source}${cache}: the TUF metadata does not verify: ${detail}; pass --trusted-root PATH`, { cause: err });
}

/** The public-good trusted_root.json through Sigstore's TUF repository (@sigstore/tuf verifies the TUF metadata). */
export async function fetchPublicGoodRoot(tufCacheDir: string | undefined, offline: boolean): Promise<{ json: unknown; source: string }> {
  const source = `TUF ${DEFAULT_MIRROR_URL}`;
  let text: string;
  try {
    const tuf = await initTUF({ ...(tufCacheDir ? { cachePath: tufCacheDir } : {}), forceCache: offline });
    text = await tuf.getTarget(TRUSTED_ROOT_TARGET);
  } catch (err) {
    throw tufFailure(err, source, tufCacheDir, offline);
  }
  try {
    return { json: JSON.parse(text), source };
  } catch (err) {
    throw new GateError('BAD_TRUST_ROOT', `${source}: ${TRUSTED_ROOT_TARGET} is not JSON`, { cause: err });
  }
}
