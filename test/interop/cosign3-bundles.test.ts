import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseImageRef } from '../../src/registry/reference.ts';
import { pushImage } from '../fixtures/oci-content.ts';
import { useRegistry } from '../fixtures/registry.ts';
import { CHAINS_BUILDER, jsonVerdict, runCli } from '../fixtures/world.ts';
import { cosign, cosignKeyPair, provenancePredicate } from '../real-stack/cosign.ts';
import { startRekorV1 } from '../real-stack/rekor-v1.ts';
import { startRekorV2 } from '../real-stack/rekor-v2.ts';
import { describeWithTools, useStack } from '../real-stack/suite.ts';
import { startTsa } from '../real-stack/tsa.ts';
import { changePayloadByte, copyImage, pushReferrerTwin, referrerBundles, swapSignatures, type Bundle } from '../real-stack/twins.ts';

/**
 * cosign v3's new bundle format: `cosign attest --key` writes a Sigstore bundle v0.3 as an OCI referrer of the
 * image (docker-registry 2.8 has no referrers API: the referrers tag schema), logged in the real Rekor v1
 * (rekor-server) or the real Rekor v2 (rekor-tiles POSIX, with the real timestamp authority giving the signing
 * time). cosign 3 is given its trust offline: --trusted-root and --signing-config, made by
 * `cosign trusted-root create` and `cosign signing-config create`. rekor-gate verifies each genuine bundle and
 * rejects its tampered twins, naming the check.
 *
 * A Rekor v2 log is trusted with its checkpoint origin (`origin=` in the --rekor spec): cosign then writes the
 * log's ID as rekor-tiles gives it, SHA-256 over the origin, a newline, 0x01 and the raw Ed25519 key (C2SP
 * signed-note key hash; rekor-tiles v2.3.0 pkg/note/note.go KeyHash, cosign v3.1.3 cmd/cosign/cli/trustedroot
 * getCheckpointID). Without it the ID is the SHA-256 of the key's DER, no entry matches, and cosign refuses its
 * own upload: "not enough verified log entries from transparency log: 0 < 1" (sigstore-go v1.2.2
 * pkg/verify/tlog.go skips an entry whose log ID the trusted root lacks).
 */
const START = '2020-01-01T00:00:00Z';
const tools = ['cosign3'] as const;

type Log = {
  readonly name: string;
  readonly tools: Parameters<typeof describeWithTools>[0];
  /**
   * The check that refuses a bundle whose envelope was altered (a payload byte, another bundle's signature). A
   * Rekor v1 entry's body is in the bundle and proven as logged; then the envelope fails its signature. A Rekor v2
   * bundle's entry body is rebuilt from its envelope (dsse v0.0.2 holds the payload's digest and the signatures),
   * so a changed payload byte fails the log check with the body's digest mismatch (ATTESTATION_BINDING), and a
   * swapped signature fails it first on the timestamp authority's token, which is over the signature (TIMESTAMP).
   */
  readonly tamperedEnvelopeCheck: 'attestation' | 'log';
  /** Starts the log (and a TSA where it needs one); returns the trust and signing flags for cosign, rekor-gate's flags. */
  readonly start: () => Promise<{ trustArgs: string[]; signingArgs: string[]; gateArgs: string[]; stop(keep?: boolean): Promise<void> }>;
};

const LOGS: Log[] = [
  {
    name: 'Rekor v1 (rekor-server)',
    tools: ['mariadb', 'trillian-log-server', 'trillian-log-signer', 'rekor-server', ...tools],
    tamperedEnvelopeCheck: 'attestation',
    start: async () => {
      const r = await startRekorV1();
      return {
        trustArgs: ['--rekor', `url=${r.url},public-key=${r.publicKeyPath},start-time=${START}`],
        signingArgs: ['--rekor', `url=${r.url},api-version=1,start-time=${START},operator=rekor-gate-test`, '--rekor-config', 'ANY'],
        gateArgs: ['--rekor-url', r.url],
        stop: r.stop,
      };
    },
  },
  {
    name: 'Rekor v2 (rekor-tiles POSIX) with the timestamp authority',
    tools: ['rekor-tiles', 'timestamp-server', ...tools],
    tamperedEnvelopeCheck: 'log',
    start: async () => {
      const tsa = await startTsa();
      const r = await startRekorV2().catch(async (e: unknown) => {
        await tsa.stop(true);
        throw e;
      });
      return {
        trustArgs: [
          '--rekor', `url=${r.url},public-key=${r.publicKeyPath},start-time=${START},origin=${r.origin}`,
          '--tsa', `url=${tsa.url},certificate-chain=${tsa.chainPath},start-time=${START}`,
        ],
        signingArgs: [
          '--rekor', `url=${r.url},api-version=2,start-time=${START},operator=rekor-gate-test`, '--rekor-config', 'ANY',
          '--tsa', `url=${tsa.url},api-version=1,start-time=${START},operator=rekor-gate-test`, '--tsa-config', 'ANY',
        ],
        gateArgs: ['--offline'],
        stop: async (keep) => {
          await r.stop(keep);
          await tsa.stop(keep);
        },
      };
    },
  },
];

for (const log of LOGS) {
  describeWithTools(log.tools, { registry: `cosign v3 interop, ${log.name}` })(`cosign v3 bundles in the real ${log.name}, verified by rekor-gate`, () => {
    const stack = useStack(log.start);
    const oci = useRegistry();
    let home = '';
    let keys = { key: '', pub: '' };
    let trustedRoot = '';
    const images: { digest: string; ref: string }[] = [];
    let firstImage = { digest: '', ref: '' };

    beforeAll(async () => {
      home = mkdtempSync(path.join(os.tmpdir(), 'rekor-gate-cosign3-'));
      keys = await cosignKeyPair('cosign3', home, path.join(home, 'keys'));
      trustedRoot = path.join(home, 'trusted_root.json');
      const signingConfig = path.join(home, 'signing_config.json');
      await cosign('cosign3', ['trusted-root', 'create', ...stack().trustArgs, '--out', trustedRoot], { home });
      await cosign('cosign3', ['signing-config', 'create', ...stack().signingArgs, '--out', signingConfig], { home });
      // The log's first entry (logIndex 0, which cosign's protobuf JSON leaves out of the bundle)
      const first = await pushImage(oci.client, parseImageRef(`${oci.reg.host}/interop/cosign3-first:v`), 'v', `first-${Date.now()}`);
      await cosign('cosign3', ['attest', '--key', keys.key, '--type', 'slsaprovenance', '--predicate', provenancePredicate(home, CHAINS_BUILDER), '--trusted-root', trustedRoot, '--signing-config', signingConfig, `${oci.reg.host}/interop/cosign3-first@${first.digest}`], { home });
      firstImage = { digest: first.digest, ref: `${oci.reg.host}/interop/cosign3-first@${first.digest}` };
      for (const n of [1, 2]) {
        const repo = `interop/cosign3-${n}`;
        const image = await pushImage(oci.client, parseImageRef(`${oci.reg.host}/${repo}:v`), 'v', `cosign3-${n}-${Date.now()}`);
        const ref = `${oci.reg.host}/${repo}@${image.digest}`;
        await cosign('cosign3', ['attest', '--key', keys.key, '--type', 'slsaprovenance', '--predicate', provenancePredicate(home, CHAINS_BUILDER), '--trusted-root', trustedRoot, '--signing-config', signingConfig, ref], { home });
        images.push({ digest: image.digest, ref });
      }
    }, 300_000);
    afterAll(() => rmSync(home, { recursive: true, force: true }));

    const verify = (digest: string, ref: string) =>
      runCli(['verify', '--image-digest', digest, '--image-url', ref, ...stack().gateArgs, '--trusted-root', trustedRoot, '--key', keys.pub, '--output', 'json', '--timeout', '10']);

    it('verifies the genuine bundle referrer', async () => {
      const a = images[0]!;
      const r = await verify(a.digest, a.ref);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(jsonVerdict(r).accepted?.sources).toContain('referrer-bundle');
      expect(jsonVerdict(r).accepted).toMatchObject({ status: 'passed', predicateType: 'https://slsa.dev/provenance/v0.2', builderId: CHAINS_BUILDER });
    });

    /** A copy of image `a` in a twin repository with its bundles altered, verified there. */
    async function verifyTwin(name: string, alter: (b: Bundle) => Bundle) {
      const a = images[0]!;
      const to = `${oci.reg.host}/twins/cosign3-${name}`;
      await copyImage(oci.client, parseImageRef(a.ref), parseImageRef(to), a.digest);
      await pushReferrerTwin(oci.client, parseImageRef(to), a.digest, (await referrerBundles(oci.client, parseImageRef(a.ref), a.digest)).map(alter));
      return verify(a.digest, `${to}@${a.digest}`);
    }

    it("verifies the bundle of the log's first entry (logIndex 0, left out of the bundle's JSON as protobuf does)", async () => {
      const r = await verify(firstImage.digest, firstImage.ref);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(jsonVerdict(r).accepted?.sources).toContain('referrer-bundle');
    });

    it('rejects the bundle with one payload byte changed', async () => {
      const r = await verifyTwin('payload-byte', (b) => ({ ...b, dsseEnvelope: changePayloadByte(b.dsseEnvelope!) }));
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(jsonVerdict(r).candidates.map((c) => c.check), r.stdout).toContain(log.tamperedEnvelopeCheck);
    });

    it("rejects the bundle carrying another bundle's signature", async () => {
      const b = images[1]!;
      const other = (await referrerBundles(oci.client, parseImageRef(b.ref), b.digest))[0]!.dsseEnvelope!;
      const r = await verifyTwin('swapped-sig', (x) => ({ ...x, dsseEnvelope: swapSignatures(other)(x.dsseEnvelope!) }));
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(jsonVerdict(r).candidates.map((c) => c.check), r.stdout).toContain(log.tamperedEnvelopeCheck);
    });

    it("rejects the bundle attached to another image's digest", async () => {
      const a = images[0]!;
      const repo = `${oci.reg.host}/twins/cosign3-other-digest`;
      const other = await pushImage(oci.client, parseImageRef(`${repo}:x`), 'x', `cosign3-other-${Date.now()}`);
      await pushReferrerTwin(oci.client, parseImageRef(repo), other.digest, await referrerBundles(oci.client, parseImageRef(a.ref), a.digest));
      const r = await verify(other.digest, `${repo}@${other.digest}`);
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(jsonVerdict(r).candidates.map((c) => c.check)).toContain('statement');
    });
  });
}
