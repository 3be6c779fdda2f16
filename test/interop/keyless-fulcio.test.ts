import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseImageRef } from '../../src/registry/reference.ts';
import { pushImage } from '../fixtures/oci-content.ts';
import { useRegistry } from '../fixtures/registry.ts';
import { transparencyLogInstance, type TrustedRootJSON } from '../fixtures/trusted-root.ts';
import { CHAINS_BUILDER, jsonVerdict, runCli } from '../fixtures/world.ts';
import { cosign, provenancePredicate } from '../real-stack/cosign.ts';
import { startFulcio, type Fulcio } from '../real-stack/fulcio.ts';
import { startRekorV1, type RekorV1 } from '../real-stack/rekor-v1.ts';
import { describeWithTools, useStack } from '../real-stack/suite.ts';

/**
 * Keyless, as Tekton Chains signs with Fulcio: the real Fulcio (ephemeral CA, no CT log) issues cosign v2 a
 * certificate for an ID token of our OIDC issuer, and cosign v2 attests into the real Rekor v1. Without a CT log
 * the certificate carries no SCT: cosign is told with --insecure-skip-verify, rekor-gate by a trusted root that
 * lists no CT log (made by `cosign trusted-root create` with --fulcio and --rekor only). Given a root that lists
 * a CT log, rekor-gate refuses the same certificate for its missing SCT.
 */
const EMAIL = 'builder@rekor-gate.test';
const suite = describeWithTools(['mariadb', 'trillian-log-server', 'trillian-log-signer', 'rekor-server', 'fulcio', 'cosign2', 'cosign3'], { registry: 'keyless interop' });

suite('keyless: cosign v2 with the real Fulcio into the real Rekor v1', () => {
  const stack = useStack(async () => {
    const fulcio = await startFulcio();
    const rekor = await startRekorV1().catch(async (e: unknown) => {
      await fulcio.stop(true);
      throw e;
    });
    return { fulcio, rekor, stop: async (keep?: boolean) => (await rekor.stop(keep), await fulcio.stop(keep)) };
  });
  const oci = useRegistry();
  let home = '';
  let trustedRoot = '';
  let withCtLog = '';
  let image = { digest: '', ref: '' };
  const f = (): Fulcio => stack().fulcio;
  const r = (): RekorV1 => stack().rekor;

  beforeAll(async () => {
    home = mkdtempSync(path.join(os.tmpdir(), 'rekor-gate-keyless-'));
    trustedRoot = path.join(home, 'trusted_root.json');
    await cosign('cosign3', ['trusted-root', 'create', '--fulcio', `url=${f().url},certificate-chain=${f().chainPath}`, '--rekor', `url=${r().url},public-key=${r().publicKeyPath},start-time=2020-01-01T00:00:00Z`, '--out', trustedRoot], { home });
    const root = JSON.parse(readFileSync(trustedRoot, 'utf8')) as TrustedRootJSON;
    const ct = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    withCtLog = path.join(home, 'trusted_root-with-ct.json');
    writeFileSync(withCtLog, JSON.stringify({ ...root, ctlogs: [transparencyLogInstance('http://127.0.0.1:1/ct', ct)] }));
    const pushed = await pushImage(oci.client, parseImageRef(`${oci.reg.host}/interop/keyless:v`), 'v', `keyless-${Date.now()}`);
    image = { digest: pushed.digest, ref: `${oci.reg.host}/interop/keyless@${pushed.digest}` };
    // a file: cosign v2.6.5 took the token text for a path ("open <token>: file name too long")
    const token = path.join(home, 'id-token');
    writeFileSync(token, f().oidc.token({ email: EMAIL }));
    await cosign(
      'cosign2',
      ['attest', '--fulcio-url', f().url, '--identity-token', token, '--insecure-skip-verify', '--rekor-url', r().url, '--type', 'slsaprovenance', '--predicate', provenancePredicate(home, CHAINS_BUILDER), image.ref],
      { home, env: { SIGSTORE_ROOT_FILE: f().chainPath, SIGSTORE_REKOR_PUBLIC_KEY: r().publicKeyPath } },
    );
  }, 300_000);
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  const verify = (root: string) =>
    runCli(['verify', '--image-digest', image.digest, '--image-url', image.ref, '--rekor-url', r().url, '--trusted-root', root, '--certificate-identity', EMAIL, '--certificate-oidc-issuer', f().oidc.issuer, '--output', 'json', '--timeout', '10']);

  it('verifies the Fulcio-certified attestation when the trusted root lists no CT log', async () => {
    const out = await verify(trustedRoot);
    expect(out.code, out.stdout + out.stderr).toBe(0);
    expect(jsonVerdict(out).accepted).toMatchObject({ status: 'passed', kind: 'dsse 0.0.1', signer: EMAIL, builderId: CHAINS_BUILDER });
  });

  it('refuses the same certificate for its missing SCT when the trusted root lists a CT log', async () => {
    const out = await verify(withCtLog);
    expect(out.code, out.stdout + out.stderr).toBe(1);
    const c = jsonVerdict(out).candidates;
    expect(c.map((x) => x.check)).toContain('signer');
    expect(JSON.stringify(c)).toMatch(/SCT/i);
  });
});
