// The global fetch, which @sigstore/tuf (through tuf-js) downloads with, made to trust an extra CA. fetch takes no
// CA option, so undici's global dispatcher is the only way in. No other request of rekor-gate uses the global
// fetch (http.ts has its own agents).
import { Agent, setGlobalDispatcher } from './undici.ts';
import { tlsCaList } from './tls.ts';

/** From now on the global fetch trusts Node's default CAs plus `caCertPem`; certificates are always verified. */
export function trustExtraCaInGlobalFetch(caCertPem: string): void {
  setGlobalDispatcher(new Agent({ connect: { ca: tlsCaList(caCertPem), rejectUnauthorized: true } }));
}
