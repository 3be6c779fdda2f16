import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pushBlob, pushManifest } from '../../src/registry/push.ts';
import { parseImageRef } from '../../src/registry/reference.ts';
import { pushImage } from '../fixtures/oci-content.ts';
import { useRegistry } from '../fixtures/registry.ts';
import { CHAINS_BUILDER, jsonVerdict, runCli } from '../fixtures/world.ts';
import { cosign, cosignKeyPair, provenancePredicate } from '../real-stack/cosign.ts';
import { startRekorV1 } from '../real-stack/rekor-v1.ts';
import { startRewriteProxy } from '../real-stack/rewrite-proxy.ts';
import { describeWithTools, useStack } from '../real-stack/suite.ts';
import { attEnvelopes, changePayloadByte, copyImage, pushAttTwin, swapSignatures, type AttLayer } from '../real-stack/twins.ts';

/**
 * The real producer against the real log: cosign v2 (`attest --key`, the way Tekton Chains signs through cosign's
 * libraries) writes intoto 0.0.1 entries (`--rekor-entry-type=intoto`, Chains up to v0.28) and dsse 0.0.1 entries
 * (the default) into rekor-server v1.5.x, and the `.att` tag into Debian's docker-registry. cosign is given the
 * log's key offline (SIGSTORE_REKOR_PUBLIC_KEY). rekor-gate verifies each genuine attestation and rejects its
 * tampered twins, naming the check.
 */
const suite = describeWithTools(['mariadb', 'trillian-log-server', 'trillian-log-signer', 'rekor-server', 'cosign2'], { registry: 'cosign v2 interop' });

type Attested = { digest: string; ref: string; repo: string };
type LoggedEntry = { body: string; attestation?: { data?: string } } & Record<string, unknown>;

suite('cosign v2 attest into the real Rekor v1, verified by rekor-gate', () => {
  const rekor = useStack(startRekorV1);
  const oci = useRegistry();
  let home = '';
  let keys = { key: '', pub: '' };
  const attested: Record<'intoto' | 'dsse', Attested[]> = { intoto: [], dsse: [] };

  beforeAll(async () => {
    home = mkdtempSync(path.join(os.tmpdir(), 'rekor-gate-cosign2-'));
    keys = await cosignKeyPair('cosign2', home, path.join(home, 'keys'));
    const env = { SIGSTORE_REKOR_PUBLIC_KEY: rekor().publicKeyPath };
    for (const type of ['intoto', 'dsse'] as const) {
      for (const n of [1, 2]) {
        const repo = `interop/cosign2-${type}`;
        const image = await pushImage(oci.client, parseImageRef(`${oci.reg.host}/${repo}:${n}`), String(n), `${type}-${n}-${Date.now()}`);
        const ref = `${oci.reg.host}/${repo}@${image.digest}`;
        await cosign('cosign2', ['attest', '--key', keys.key, '--type', 'slsaprovenance', '--predicate', provenancePredicate(home, CHAINS_BUILDER), '--rekor-url', rekor().url, `--rekor-entry-type=${type}`, ref], { home, env });
        attested[type].push({ digest: image.digest, ref, repo });
      }
    }
  }, 300_000);
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  const verify = (digest: string, ref: string, more: string[] = []) =>
    runCli(['verify', '--image-digest', digest, '--image-url', ref, '--rekor-url', rekor().url, '--rekor-public-key', rekor().publicKeyPath, '--key', keys.pub, '--output', 'json', '--timeout', '10', ...more]);

  /** A copy of attested image `a` in another repository, its `.att` altered by `alter`. */
  async function twin(a: Attested, name: string, alter: (l: AttLayer) => AttLayer): Promise<string> {
    const from = parseImageRef(a.ref);
    const to = parseImageRef(`${oci.reg.host}/twins/${name}@${a.digest}`);
    await copyImage(oci.client, from, to, a.digest);
    await pushAttTwin(oci.client, to, a.digest, (await attEnvelopes(oci.client, from, a.digest)).map(alter));
    return `${oci.reg.host}/twins/${name}@${a.digest}`;
  }

  for (const type of ['intoto', 'dsse'] as const) {
    const kind = `${type} 0.0.1`;
    it(`verifies a genuine ${kind} attestation`, async () => {
      const a = attested[type][0]!;
      const r = await verify(a.digest, a.ref);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const v = jsonVerdict(r);
      expect(v.accepted).toMatchObject({ status: 'passed', kind, predicateType: 'https://slsa.dev/provenance/v0.2', builderId: CHAINS_BUILDER });
      expect(v.accepted?.signer).toMatch(/^sha256:[0-9a-f]{64}$/);
    });

    it(`rejects ${kind}: its attestation attached to another image's digest`, async () => {
      const a = attested[type][0]!;
      // an image never attested, in a twin repository whose .att tag for it holds a's genuine attestation
      const repo = `twins/${type}-other-digest`;
      const other = await pushImage(oci.client, parseImageRef(`${oci.reg.host}/${repo}:x`), 'x', `other-${type}-${Date.now()}`);
      await pushAttTwin(oci.client, parseImageRef(`${oci.reg.host}/${repo}`), other.digest, await attEnvelopes(oci.client, parseImageRef(a.ref), a.digest));
      const r = await verify(other.digest, `${oci.reg.host}/${repo}@${other.digest}`);
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(jsonVerdict(r).candidates.map((c) => c.check)).toContain('statement');
    });
  }

  it('rejects a dsse 0.0.1 attestation whose registry envelope has one payload byte changed', async () => {
    const a = attested.dsse[0]!;
    const r = await verify(a.digest, await twin(a, 'dsse-payload-byte', (l) => ({ ...l, envelope: changePayloadByte(l.envelope) })));
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(jsonVerdict(r).candidates.map((c) => c.check)).toContain('attestation');
  });

  it("rejects a dsse 0.0.1 attestation whose registry envelope carries another envelope's signature", async () => {
    const [a, b] = attested.dsse as [Attested, Attested];
    const other = (await attEnvelopes(oci.client, parseImageRef(b.ref), b.digest))[0]!.envelope;
    const r = await verify(a.digest, await twin(a, 'dsse-swapped-sig', (l) => ({ ...l, envelope: swapSignatures(other)(l.envelope) })));
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(jsonVerdict(r).candidates.map((c) => c.check)).toContain('attestation');
  });

  it('cosign sign writes the image signature (.sig tag, hashedrekord entry) the image-signature checks will read', async () => {
    const a = attested.dsse[1]!;
    await cosign('cosign2', ['sign', '--key', keys.key, '--rekor-url', rekor().url, a.ref], { home, env: { SIGSTORE_REKOR_PUBLIC_KEY: rekor().publicKeyPath } });
    const sig = await oci.client.getManifest(parseImageRef(a.ref), `${a.digest.replace(':', '-')}.sig`);
    if (sig.kind !== 'manifest') throw new Error('the .sig tag names an index');
    // hashedrekord is indexed by the signed payload's digest (the .sig layer), not by the image's
    const payload = sig.manifest.layers[0]?.digest ?? '';
    const search = await fetch(`${rekor().url}/api/v1/index/retrieve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ hash: payload }) });
    const uuids = (await search.json()) as string[];
    const got = await fetch(`${rekor().url}/api/v1/log/entries/retrieve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ entryUUIDs: uuids }) });
    const kinds = ((await got.json()) as Record<string, { body: string }>[]).flatMap((m) => Object.values(m)).map((e) => (JSON.parse(Buffer.from(e.body, 'base64').toString('utf8')) as { kind: string }).kind);
    expect(kinds).toContain('hashedrekord');
  });

  it('verifies the cosign sign image signature with --require-signature', async () => {
    const a = attested.dsse[1]!; // signed by the test above
    const r = await verify(a.digest, a.ref, ['--require-signature']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it("rejects --require-signature when the image's .sig tag holds another image's signature", async () => {
    const [a, signed] = attested.dsse as [Attested, Attested];
    // a (attested, never signed) copied with its .att into a twin repository, whose .sig tag for it is signed's
    const to = `${oci.reg.host}/twins/dsse-other-signature`;
    await copyImage(oci.client, parseImageRef(a.ref), parseImageRef(to), a.digest);
    await pushAttTwin(oci.client, parseImageRef(to), a.digest, await attEnvelopes(oci.client, parseImageRef(a.ref), a.digest));
    const sig = await oci.client.getManifest(parseImageRef(signed.ref), `${signed.digest.replace(':', '-')}.sig`);
    if (sig.kind !== 'manifest') throw new Error('the .sig tag names an index');
    for (const d of [sig.manifest.config, ...sig.manifest.layers]) await pushBlob(oci.client, parseImageRef(to), await oci.client.getBlob(parseImageRef(signed.ref), d.digest), d.mediaType);
    await pushManifest(oci.client, parseImageRef(to), sig.bytes, sig.mediaType, `${a.digest.replace(':', '-')}.sig`);
    const r = await verify(a.digest, `${to}@${a.digest}`, ['--require-signature']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/signature/i);
  });

  /** Every entry the log answers with, altered by `alter` on its way (the log, or a machine in the middle, lying). */
  async function verifyThroughLyingLog(a: Attested, alter: (e: LoggedEntry) => LoggedEntry) {
    const proxy = await startRewriteProxy(rekor().url, (_path, body) => {
      const each = (m: Record<string, LoggedEntry>) => Object.fromEntries(Object.entries(m).map(([k, e]) => [k, alter(e)]));
      if (Array.isArray(body)) return body.map((x: unknown) => (x !== null && typeof x === 'object' && !Array.isArray(x) ? each(x as Record<string, LoggedEntry>) : x));
      return body !== null && typeof body === 'object' && 'body' in Object.values(body)[0] ? each(body as Record<string, LoggedEntry>) : body;
    });
    try {
      // no --image-url: the log's copy is the only one (a genuine registry copy would be taken instead, rightly)
      return await runCli(['verify', '--image-digest', a.digest, '--rekor-url', proxy.url, '--rekor-public-key', rekor().publicKeyPath, '--key', keys.pub, '--output', 'json', '--timeout', '10']);
    } finally {
      await proxy.stop();
    }
  }

  it('rejects an intoto 0.0.1 attestation the log answers with one payload byte changed', async () => {
    // rekor-server keeps an intoto 0.0.1 entry's payload (the statement) as its attestation
    const r = await verifyThroughLyingLog(attested.intoto[0]!, (e) => {
      if (!e.attestation?.data) return e;
      const payload = Buffer.from(e.attestation.data, 'base64');
      const at = payload.indexOf('tekton.dev');
      payload[at] = 0x54; // 't' -> 'T'
      return { ...e, attestation: { data: payload.toString('base64') } };
    });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(jsonVerdict(r).candidates.map((c) => c.check)).toContain('attestation');
  });

  it("rejects an intoto 0.0.1 entry the log answers with another entry's body (another signature's hashes and key)", async () => {
    const [a, b] = attested.intoto as [Attested, Attested];
    const uuids = (await (await fetch(`${rekor().url}/api/v1/index/retrieve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ hash: b.digest }) })).json()) as string[];
    const other = Object.values(((await (await fetch(`${rekor().url}/api/v1/log/entries/${uuids[0]}`)).json()) as Record<string, LoggedEntry>))[0]!;
    const r = await verifyThroughLyingLog(a, (e) => ({ ...e, body: other.body }));
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(jsonVerdict(r).candidates.map((c) => c.check)).toContain('entry');
  });

  it('keeps to the log when the registry copy of an intoto 0.0.1 attestation is altered (the log holds it)', async () => {
    const a = attested.intoto[0]!;
    const r = await verify(a.digest, await twin(a, 'intoto-payload-byte', (l) => ({ ...l, envelope: changePayloadByte(l.envelope) })));
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });
});
