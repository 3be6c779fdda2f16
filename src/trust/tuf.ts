// The trusted root through a Sigstore TUF repository (the public-good one, or a private mirror given by
// --tuf-mirror and --tuf-root), imported only when it is needed: a run given --trusted-root never loads @sigstore/tuf.
import { readFileSync } from 'node:fs';
import { DEFAULT_MIRROR_URL, initTUF, TUFError } from '@sigstore/tuf';
import { Metadata, MetadataKind } from '@tufjs/models';
import { errorMessage, GateError } from '../errors.ts';
import { trustExtraCaInGlobalFetch } from '../net/global-fetch.ts';

const TRUSTED_ROOT_TARGET = 'trusted_root.json';

// Not DownloadLengthMismatchError: more bytes than the signed metadata allows is a bad mirror, not an unreachable
// one. (The minified bundle hid this: its class names never matched; the readable one keeps them.)
const DOWNLOAD_ERRORS = new Set(['DownloadError', 'DownloadHTTPError']);

export type TufOptions = {
  /** The TUF repository; default the public-good one (DEFAULT_MIRROR_URL). Already checked (https, or http to loopback). */
  readonly mirrorUrl?: string;
  /** The repository's initial root.json (its TUF root of trust); default @sigstore/tuf's embedded public-good root. */
  readonly rootPath?: string;
  readonly cacheDir?: string;
  /** Use cached metadata while it is fresh (forceCache). */
  readonly offline: boolean;
  /** Per request. Default @sigstore/tuf's (5 s). */
  readonly timeoutMs?: number;
  /** An extra CA (PEM) for TLS to the repository (--ca-cert, the trust directory's ca.crt), besides the default store. */
  readonly caCertPem?: string;
  /** How messages name the mirror, its root and an offline run (index.ts's TrustInputNames). */
  readonly names: { readonly tufMirror: string; readonly tufRoot: string; readonly offline: string };
};

/** What to give instead of TUF (the caller words it). */
const INSTEAD = { hint: { give: 'trusted-root-file' } } as const;

/** Sorts a @sigstore/tuf / tuf-js failure: the cache (BAD_TRUST_ROOT), the network (NETWORK), or the metadata (BAD_TRUST_ROOT). */
function tufFailure(err: unknown, source: string, mirror: string, o: TufOptions): GateError {
  const root = err instanceof TUFError && err.cause ? err.cause : err;
  const messages: string[] = [];
  for (let e: unknown = err; e !== undefined && messages.length < 4; e = e instanceof Error ? e.cause : undefined) {
    messages.push(errorMessage(e));
  }
  const detail = messages.join(': ');
  const cache = o.cacheDir ? ` (cache ${o.cacheDir})` : '';
  if (err instanceof TUFError && err.code === 'TUF_INIT_CACHE_ERROR' && !o.rootPath && mirror !== DEFAULT_MIRROR_URL) {
    // @sigstore/tuf has an initial root only for the public-good repository.
    return new GateError('USAGE', `${o.names.tufMirror} ${mirror}: no TUF root is known for this repository${cache}`, { cause: err, hint: { give: 'tuf-initial-root' } });
  }
  const fsError = root instanceof Error && typeof (root as { path?: unknown }).path === 'string';
  if (fsError || (err instanceof TUFError && (err.code === 'TUF_INIT_CACHE_ERROR' || err.code === 'TUF_READ_TARGET_ERROR'))) {
    return new GateError('BAD_TRUST_ROOT', `${source}: the TUF cache${cache} is unusable: ${detail}`, { cause: err, hint: { give: 'other-tuf-cache' } });
  }
  const name = root instanceof Error ? root.constructor.name : '';
  // The global fetch fails with TypeError('fetch failed') (the cause says why), and times out with a DOMException
  // named TimeoutError; other TypeErrors come from reading the metadata.
  const fetchFailed = root instanceof TypeError && root.message === 'fetch failed';
  const timedOut = root instanceof Error && (root.name === 'TimeoutError' || root.name === 'AbortError');
  if (fetchFailed || timedOut || DOWNLOAD_ERRORS.has(name)) {
    return new GateError(
      'NETWORK',
      o.offline
        ? `${o.names.offline}: the TUF repository ${mirror} could not be reached and no fresh TUF metadata is cached${cache} (${detail})`
        : `the TUF repository ${mirror} could not be reached for the trusted root${cache} (${detail})`,
      { cause: err, ...INSTEAD },
    );
  }
  return new GateError('BAD_TRUST_ROOT', `${source}${cache}: the TUF metadata does not verify: ${detail}`, { cause: err, ...INSTEAD });
}

/** The TUF root must be TUF root metadata (read by @tufjs/models); its signatures are tuf-js's to check. */
function checkTufRoot(file: string, name: string): void {
  const what = `${name} ${file}`;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new GateError('BAD_TRUST_ROOT', `${what} cannot be read: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    // JSON.parse's message quotes the file: never echo it.
    throw new GateError('BAD_TRUST_ROOT', `${what} is not JSON (a TUF root.json is expected)`, { cause: err });
  }
  try {
    Metadata.fromJSON(MetadataKind.Root, json as Parameters<typeof Metadata.fromJSON>[1]);
  } catch (err) {
    throw new GateError('BAD_TRUST_ROOT', `${what} is not TUF root metadata: ${errorMessage(err)}`, { cause: err });
  }
}

/**
 * trusted_root.json from a Sigstore TUF repository (@sigstore/tuf verifies the TUF metadata from the root of
 * trust onwards), as its text. With `rootPath`, every run starts again from that root (forceInit): a root cached
 * by an earlier run is never trusted more than the file the user names.
 */
export async function fetchTufTrustedRoot(o: TufOptions): Promise<{ text: string; source: string }> {
  const mirror = o.mirrorUrl ?? DEFAULT_MIRROR_URL;
  const source = `TUF ${mirror}${o.rootPath ? ` (${o.names.tufRoot} ${o.rootPath})` : ''}`;
  if (o.rootPath) checkTufRoot(o.rootPath, o.names.tufRoot);
  // tuf-js downloads with the global fetch (net/global-fetch.ts sets what it trusts).
  if (o.caCertPem !== undefined) trustExtraCaInGlobalFetch(o.caCertPem);
  try {
    const tuf = await initTUF({
      mirrorURL: mirror,
      ...(o.rootPath ? { rootPath: o.rootPath, forceInit: true } : {}),
      ...(o.cacheDir ? { cachePath: o.cacheDir } : {}),
      ...(o.timeoutMs ? { timeout: o.timeoutMs } : {}),
      forceCache: o.offline,
    });
    return { text: await tuf.getTarget(TRUSTED_ROOT_TARGET), source };
  } catch (err) {
    throw tufFailure(err, source, mirror, o);
  }
}
