/**
 * The real peers beside rekor-gate (issue 23): on the real Rekor v1 (rekor-server on Trillian and MariaDB) and a
 * real docker-registry, both behind one loopback delay proxy each with the same injected latency, the same images
 * attested by the real cosign, verified by whole processes:
 *   - rekor-gate: `node dist/rekor-gate.js verify --image-digest D --image-url R --rekor-url U --rekor-public-key ...`
 *   - rekor-cli: `rekor-cli search --sha D` then `rekor-cli get --uuid U` per entry found (the flow users script today)
 *   - cosign v2 and v3: `cosign verify-attestation --key ... --type slsaprovenance R@D`
 * for N = 1, 10, 100 intoto entries (cosign v2 `attest --rekor-entry-type=intoto`, N times on one image), a dsse
 * entry (cosign v2's default) and cosign v3 bundle referrers. A peer that cannot do a case is reported with its
 * own output. Skipped, saying what is missing, when scripts/real-stack/install.sh has not been run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OciClient } from '../src/registry/client.ts';
import { parseImageRef } from '../src/registry/reference.ts';
import { pushImage } from '../test/fixtures/oci-content.ts';
import { registryAvailable, startRegistry } from '../test/fixtures/registry.ts';
import { CHAINS_BUILDER } from '../test/fixtures/world.ts';
import { cosign, cosignKeyPair, provenancePredicate } from '../test/real-stack/cosign.ts';
import { startDelayProxy } from '../test/real-stack/delay-proxy.ts';
import { startRekorV1 } from '../test/real-stack/rekor-v1.ts';
import { missingTools, skipReason, toolPath, toolVersion } from '../test/real-stack/tools.ts';
import { CLI } from './options.ts';
import { cleanEnv, node, runProcess, type ProcResult } from './process.ts';

export const PEERS = ['rekor-gate', 'rekor-cli', 'cosign v2', 'cosign v3'] as const;
export type Peer = (typeof PEERS)[number];
/** Wall times of the runs, or why the peer cannot do the case (its own output, capped). */
export type PeerCell = { ms: number[]; requests: number } | { cannot: string };
export type PeerCase = { label: string; n: number; cells: Record<Peer, PeerCell> };
export type PeersResult = { latencyMs: number; runs: number; versions: Record<string, string>; cases: PeerCase[] } | { skipped: string };

const START = '2020-01-01T00:00:00Z';
const cap = (s: string): string => {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > 300 ? `${t.slice(0, 300)}…` : t;
};

type Attested = { label: string; n: number; digest: string; repo: string; bundle?: boolean };

export async function peersRun(latencyMs: number, runs: number, sizes: readonly number[], log: (line: string) => void): Promise<PeersResult> {
  const missing = missingTools(['mariadb', 'trillian-log-server', 'trillian-log-signer', 'rekor-server', 'rekor-cli', 'cosign2']);
  if (missing.length > 0) return { skipped: skipReason(missing) };
  const noV3 = missingTools(['cosign3']).length > 0 ? skipReason(missingTools(['cosign3'])) : undefined;
  if (!registryAvailable()) return { skipped: 'Debian\'s docker-registry is not installed (apt-get install -y docker-registry)' };
  const home = mkdtempSync(path.join(os.tmpdir(), 'rekor-gate-bench-peers-'));
  const rekor = await startRekorV1();
  const reg = await startRegistry();
  const client = new OciClient({ retries: 0 });
  const proxies: { stop(): Promise<void> }[] = [];
  try {
    const keys = await cosignKeyPair('cosign2', home, path.join(home, 'keys'));
    const trustedRoot = path.join(home, 'trusted_root.json');
    const signingConfig = path.join(home, 'signing_config.json');
    if (!noV3) {
      await cosign('cosign3', ['trusted-root', 'create', '--rekor', `url=${rekor.url},public-key=${rekor.publicKeyPath},start-time=${START}`, '--out', trustedRoot], { home });
      await cosign('cosign3', ['signing-config', 'create', '--rekor', `url=${rekor.url},api-version=1,start-time=${START},operator=bench`, '--rekor-config', 'ANY', '--out', signingConfig], { home });
    }
    const v2env = { SIGSTORE_REKOR_PUBLIC_KEY: rekor.publicKeyPath };

    const attested: Attested[] = [];
    const attest = async (label: string, n: number, how: (ref: string) => Promise<unknown>, bundle = false): Promise<void> => {
      const repo = `bench/${label.replace(/[^a-z0-9]+/g, '-')}-${n}`;
      const image = await pushImage(client, parseImageRef(`${reg.host}/${repo}:v`), 'v', `${label}-${n}-${Date.now()}`);
      log(`peers: ${label}, N=${n}: ${n} x cosign attest`);
      for (let i = 0; i < n; i++) await how(`${reg.host}/${repo}@${image.digest}`);
      attested.push({ label, n, digest: image.digest, repo, bundle });
    };
    const v2attest = (type: string) => (ref: string) =>
      cosign('cosign2', ['attest', '--key', keys.key, '--type', 'slsaprovenance', '--predicate', provenancePredicate(home, CHAINS_BUILDER), '--rekor-url', rekor.url, `--rekor-entry-type=${type}`, ref], { home, env: v2env });
    for (const n of sizes) await attest('cosign v2 intoto 0.0.1 (.att)', n, v2attest('intoto'));
    await attest('cosign v2 dsse 0.0.1 (.att)', 1, v2attest('dsse'));
    if (!noV3) {
      await attest('cosign v3 bundle referrer (dsse 0.0.1)', 1, (ref) =>
        cosign('cosign3', ['attest', '--key', keys.key, '--type', 'slsaprovenance', '--predicate', provenancePredicate(home, CHAINS_BUILDER), '--trusted-root', trustedRoot, '--signing-config', signingConfig, ref], { home }),
        true,
      );
    }

    const rekorProxy = await startDelayProxy(rekor.url, latencyMs);
    const regProxy = await startDelayProxy(reg.url, latencyMs);
    proxies.push(rekorProxy, regProxy);
    const peerEnv = (extra: Record<string, string> = {}) => cleanEnv({ TUF_ROOT: path.join(home, 'tuf'), ...extra });

    const rekorGate = (a: Attested) =>
      runProcess([node, CLI, 'verify', '--image-digest', a.digest, '--image-url', `${regProxy.host}/${a.repo}@${a.digest}`, '--rekor-url', rekorProxy.url, '--rekor-public-key', rekor.publicKeyPath, '--key', keys.pub, '--timeout', '30'], { env: peerEnv(), timed: false });
    const rekorCli = async (a: Attested): Promise<ProcResult> => {
      const t0 = performance.now();
      const s = await runProcess([toolPath('rekor-cli'), 'search', '--sha', a.digest, '--rekor_server', rekorProxy.url], { env: peerEnv(), timed: false });
      if (s.code !== 0) return s;
      const uuids = s.stdout.split(/\s+/).filter((x) => /^[0-9a-f]{64}([0-9a-f]{16})?$/.test(x));
      let out = '';
      for (const u of uuids) {
        const g = await runProcess([toolPath('rekor-cli'), 'get', '--uuid', u, '--rekor_server', rekorProxy.url, '--format', 'json'], { env: peerEnv(), timed: false });
        if (g.code !== 0) return { ...g, wallMs: performance.now() - t0 };
        out += g.stdout;
      }
      return { code: uuids.length === 0 ? 1 : 0, stdout: out, stderr: s.stderr, wallMs: performance.now() - t0 };
    };
    const cosignVerify = (version: 'cosign2' | 'cosign3') => (a: Attested) =>
      runProcess(
        [
          toolPath(version), 'verify-attestation', '--key', keys.pub, '--type', 'slsaprovenance',
          // cosign v2 reads a bundle referrer only with a trusted root ("trusted root is required when using new bundle format")
          ...(version === 'cosign3' || a.bundle ? ['--trusted-root', trustedRoot] : ['--rekor-url', rekorProxy.url]),
          `${regProxy.host}/${a.repo}@${a.digest}`,
        ],
        { env: peerEnv(version === 'cosign2' ? v2env : {}), timed: false },
      );
    /** What the peer's run shows it could not do: a failed exit, or (rekor-cli) entries without the attestation. */
    const refusal = (peer: Peer, r: ProcResult, a: Attested): string | undefined => {
      if (r.code !== 0) return `exit ${r.code}: ${cap(r.stderr || r.stdout)}`;
      if (peer === 'rekor-cli' && !/"Attestation":\s*"[^"]/.test(r.stdout)) {
        return `found ${a.n} entr${a.n === 1 ? 'y' : 'ies'} but no attestation in them (the envelope is only in the registry): ${cap(r.stdout)}`;
      }
      return undefined;
    };
    const runners: Record<Peer, (a: Attested) => Promise<ProcResult>> = { 'rekor-gate': rekorGate, 'rekor-cli': rekorCli, 'cosign v2': cosignVerify('cosign2'), 'cosign v3': cosignVerify('cosign3') };

    const cases: PeerCase[] = [];
    for (const a of attested) {
      const cells = {} as Record<Peer, PeerCell>;
      for (const peer of PEERS) {
        log(`peers: ${a.label}, N=${a.n}: ${peer} x${runs}`);
        const ms: number[] = [];
        let cannot: string | undefined;
        const before = rekorProxy.requests + regProxy.requests;
        if (peer === 'cosign v3' && noV3) cannot = noV3;
        for (let i = 0; i < runs && cannot === undefined; i++) {
          const r = await runners[peer](a);
          cannot = refusal(peer, r, a);
          ms.push(r.wallMs);
        }
        cells[peer] = cannot !== undefined ? { cannot } : { ms, requests: Math.round((rekorProxy.requests + regProxy.requests - before) / runs) };
      }
      cases.push({ label: a.label, n: a.n, cells });
    }
    const versions = { 'rekor-server': toolVersion('rekor-server'), 'rekor-cli': toolVersion('rekor-cli'), 'cosign v2': toolVersion('cosign2'), 'cosign v3': toolVersion('cosign3'), trillian: toolVersion('trillian-log-server') };
    return { latencyMs, runs, versions, cases };
  } finally {
    for (const p of proxies) await p.stop();
    await client.close();
    await reg.stop();
    await rekor.stop();
    rmSync(home, { recursive: true, force: true });
  }
}
