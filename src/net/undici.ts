// The one module that imports undici. It takes the connection pool (Agent), the request API and the global
// dispatcher from their own modules rather than from undici's index, which loads undici's whole public API
// (fetch, WebSocket, caches, mocks, proxies) on every run: 1.38 MB bundled that way, 0.74 MB this way, about
// 30 ms less before the first request (bench/where-time-goes.md). The types are undici's own (src/net/undici-lib.d.ts
// says which export of undici each module is).
import { setFlagsFromString } from 'node:v8';
import Agent from 'undici/lib/dispatcher/agent.js';
import apiRequest from 'undici/lib/api/api-request.js';
import { setGlobalDispatcher } from 'undici/lib/global.js';
import type { Dispatcher } from 'undici';

// undici parses HTTP/1.1 with llhttp compiled to WebAssembly. V8 recompiles a wasm function that has run long
// enough with its optimizing compiler on a background thread, and a process waits for that compile before it
// exits: about 100 ms at the end of every run, for code a short run never profits from. A tiering budget this
// large keeps llhttp on V8's baseline code. It is set here, once undici has loaded the Node built-ins it needs:
// V8 refuses the code cache of built-ins loaded after a flag changes, and the same flag given to node on the
// command line would cost that for all of them (bench/where-time-goes.md).
setFlagsFromString('--wasm-tiering-budget=1000000000');

export { Agent, setGlobalDispatcher };
export type { Dispatcher };

export type RequestOptions = Omit<Dispatcher.RequestOptions, 'origin' | 'path'> & { readonly dispatcher: Dispatcher };

/** undici's `request(url, options)` with the dispatcher always given: one request, its response (status, headers, body). */
export function request(url: string | URL, opts: RequestOptions): Promise<Dispatcher.ResponseData> {
  const { dispatcher, ...rest } = opts;
  const u = typeof url === 'string' ? new URL(url) : url;
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return Promise.reject(new TypeError(`not an http(s) URL: ${u.protocol}`));
  return apiRequest.call(dispatcher, { ...rest, origin: u.origin, path: `${u.pathname}${u.search}` });
}
