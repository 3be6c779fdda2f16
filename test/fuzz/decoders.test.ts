/**
 * Property-based tests (fast-check) over every decoder that reads what a peer sends (issue 15, point 8):
 * Rekor entries and bodies, search and retrieve answers, DSSE envelopes and statements, OCI manifests,
 * indexes and referrers, cosign annotations, Sigstore bundles, WWW-Authenticate headers and policy files.
 * The property: any input ends in a result or a GateError with a stable code, never another error.
 * (Hangs and unbounded memory would show as the test's own timeout; inputs are bounded in size.)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fc, it } from '@fast-check/vitest';
import { MockAgent } from 'undici';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { parseEnvelope } from '../../src/attest/envelope.ts';
import { parseStatement } from '../../src/attest/statement.ts';
import { parseBundle, verifySigstoreBundle } from '../../src/bundle/index.ts';
import { parseImageDigest } from '../../src/digest.ts';
import type { Http } from '../../src/net/http.ts';
import { loadPolicyFile } from '../../src/policy/file.ts';
import { parseWwwAuthenticate } from '../../src/registry/auth.ts';
import { OciClient } from '../../src/registry/client.ts';
import { fetchAttTagEvidence, parseCosignBundle } from '../../src/registry/cosign-layout.ts';
import { fetchReferrerBundles, listReferrers } from '../../src/registry/referrers.ts';
import { createRekorClient } from '../../src/rekor/client.ts';
import { decodeEntry } from '../../src/rekor/entry.ts';
import type { LogEntryAnon } from '../../src/rekor/types.ts';
import { dsseBundleV03 } from '../fixtures/bundle-json.ts';
import { corpusDir, hasTestData } from '../fixtures/test-data.ts';
import { cosignBundleAnnotation, keylessSigner, logDsseV001, logIntotoV001, provenance, randomDigest, startWorld, type World } from '../fixtures/world.ts';
import { worldTrust } from '../verify/pipeline.ts';
import { RUNS, anyJson, byteChange, hostileText, mutateByte, verdictOrGateError, verdictOrGateErrorAsync } from './fuzz.ts';

let w: World;
let sample: { uuid: string; entry: LogEntryAnon; envelope: Buffer; statement: Buffer; annotation: Buffer };
let dir: string;
/** Seeds of the bundle fuzzing: a v0.3 DSSE bundle of the test log, and recorded real ones when GATE_TEST_DATA is set. */
const bundles: Buffer[] = [];
beforeAll(async () => {
  w = await startWorld();
  const d = randomDigest();
  const logged = logIntotoV001(w, provenance(d.value));
  const entry = w.log.logEntry(logged.uuid)?.[logged.uuid] as LogEntryAnon;
  sample = {
    uuid: logged.uuid,
    entry,
    envelope: Buffer.from(logged.envelopeText),
    statement: Buffer.from(logged.envelope.payload, 'base64'),
    annotation: Buffer.from(cosignBundleAnnotation(w, logged.uuid)),
  };
  dir = mkdtempSync(path.join(tmpdir(), 'rekor-gate-fuzz-'));
  const keyless = await keylessSigner(w);
  const dsse = logDsseV001(w, provenance(d.value), { signer: keyless.signer, certificatePem: keyless.certificatePem });
  const dsseEntry = w.log.logEntry(dsse.uuid)?.[dsse.uuid] as LogEntryAnon;
  bundles.push(Buffer.from(JSON.stringify(dsseBundleV03(dsseEntry, keyless.leaf.der, dsse.envelope))));
  if (hasTestData) {
    for (const f of ['sigstore-js__bundleV03-dsse.json', 'sigstore-java__bundle.dsse.v0.3.json', 'sigstore-js__bundleV01-dsse-with-proof.json']) {
      bundles.push(readFileSync(corpusDir('bundles', f)));
    }
  }
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await w.close();
});

const parsed = (b: Buffer): unknown => {
  try {
    return JSON.parse(b.toString('utf8'));
  } catch {
    return b.toString('utf8');
  }
};

describe('Rekor entries, bodies and API answers', () => {
  it.prop([fc.constant(0).chain(() => hostileText([Buffer.from(JSON.stringify(sample.entry))]))], { numRuns: RUNS })(
    'decodeEntry: any entry JSON',
    (bytes) => {
      verdictOrGateError(() => decodeEntry(sample.uuid, parsed(bytes) as LogEntryAnon));
    },
  );

  it.prop([fc.constant(0).chain(() => hostileText([Buffer.from(sample.entry.body, 'base64')]))], { numRuns: RUNS })(
    'decodeEntry: any body (base64 of anything, nested deep included)',
    (body) => {
      verdictOrGateError(() => decodeEntry(sample.uuid, { ...sample.entry, body: body.toString('base64') }));
    },
  );

  /** A log client whose every answer is `value`. */
  const answering = (value: unknown): Http => ({
    json: async <T>() => value as T,
    request: async () => ({ status: 200, headers: {}, body: Buffer.from(JSON.stringify(value) ?? '') }),
    close: async () => {},
  });

  it.prop([fc.constant(0).chain(() => hostileText([Buffer.from(JSON.stringify([sample.uuid])), Buffer.from(JSON.stringify([{ [sample.uuid]: sample.entry }]))]))], { numRuns: RUNS })(
    'search, retrieve, get: any answer',
    async (bytes) => {
      const rekor = createRekorClient('http://127.0.0.1:9', answering(parsed(bytes)));
      await verdictOrGateErrorAsync(() => rekor.searchByDigest(parseImageDigest(`sha256:${'a'.repeat(64)}`)));
      await verdictOrGateErrorAsync(() => rekor.retrieveByUUIDs([sample.uuid]));
      await verdictOrGateErrorAsync(() => rekor.getByLogIndex(1));
      await verdictOrGateErrorAsync(() => rekor.getByUUID(sample.uuid));
    },
  );
});

describe('DSSE envelopes and in-toto statements', () => {
  it.prop([fc.constant(0).chain(() => hostileText([sample.envelope]))], { numRuns: RUNS })('parseEnvelope: any bytes', (bytes) => {
    verdictOrGateError(() => parseEnvelope(bytes, 'fuzz'));
  });

  it.prop([fc.constant(0).chain(() => hostileText([sample.statement]))], { numRuns: RUNS })('parseStatement: any payload', (bytes) => {
    verdictOrGateError(() => parseStatement(bytes, 'fuzz'));
  });
});

describe('cosign annotations and Sigstore bundles', () => {
  it.prop([fc.constant(0).chain(() => hostileText([sample.annotation]))], { numRuns: RUNS })('parseCosignBundle: any annotation text', (bytes) => {
    verdictOrGateError(() => parseCosignBundle(bytes.toString('utf8'), 'fuzz'));
  });

  it.prop([fc.constant(0).chain(() => hostileText(bundles))], { numRuns: RUNS })('parseBundle and verifySigstoreBundle: any bundle JSON', (bytes) => {
    const json = parsed(bytes);
    verdictOrGateError(() => parseBundle(json, 'fuzz'));
    verdictOrGateError(() => verifySigstoreBundle(json, worldTrust(w)));
  });
});

describe('WWW-Authenticate headers', () => {
  const samples = ['Bearer realm="https://auth.example/token",service="registry",scope="repository:a/b:pull"', 'Basic realm="x"', 'Bearer realm=x, Basic realm="y"'];
  it.prop([fc.array(fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 }), fc.constantFrom(...samples), fc.tuple(fc.constantFrom(...samples), byteChange).map(([s, c]) => mutateByte(Buffer.from(s), c.at, c.delta).toString('latin1'))), { maxLength: 4 })], { numRuns: RUNS })(
    'parseWwwAuthenticate: any header values',
    (values) => {
      const got = verdictOrGateError(() => parseWwwAuthenticate(values));
      if (Array.isArray(got)) for (const c of got) expect(typeof c.scheme).toBe('string');
    },
  );
});

describe('policy files', () => {
  const valid = Buffer.from(
    'apiVersion: rekor-gate.dev/v1alpha1\nkind: Policy\nspec:\n  signers:\n    - keyless:\n        identity: https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main\n        issuer: https://token.actions.githubusercontent.com\n  predicateTypes: [https://slsa.dev/provenance/v0.2]\n  maxAge: 30d\n',
  );
  let n = 0;
  it.prop([fc.constant(0).chain(() => hostileText([valid]))], { numRuns: Math.ceil(RUNS / 3) })('loadPolicyFile: any file content', async (bytes) => {
    const file = path.join(dir, `policy-${n++}.yaml`);
    writeFileSync(file, bytes);
    await verdictOrGateErrorAsync(() => loadPolicyFile(file));
  });
});

describe('OCI manifests, indexes, referrers and .att layouts (from a mock registry)', () => {
  const digest = parseImageDigest(`sha256:${'b'.repeat(64)}`);
  const repo = { registry: 'registry.example', repository: 'app' };
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: `sha256:${'4'.repeat(64)}`, size: 2 },
    layers: [{ mediaType: 'application/vnd.dsse.envelope.v1+json', digest: `sha256:${'5'.repeat(64)}`, size: 10 }],
    subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digest.value, size: 10 },
  }));
  const index = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'6'.repeat(64)}`, size: 10, artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json' }],
  }));

  it.prop([fc.constant(0).chain(() => hostileText([manifest, index])), fc.constantFrom('application/vnd.oci.image.manifest.v1+json', 'application/vnd.oci.image.index.v1+json', 'application/json', 'text/html')], { numRuns: RUNS })(
    'manifests by tag, referrers lists, .att layouts: any registry answer',
    async (bytes, contentType) => {
      const agent = new MockAgent();
      agent.disableNetConnect();
      agent
        .get('https://registry.example')
        .intercept({ path: () => true, method: 'GET' })
        .reply(200, bytes, { headers: { 'content-type': contentType, 'content-length': String(bytes.length) } })
        .persist();
      const client = new OciClient({ dispatcher: agent, retries: 0, timeoutMs: 2000 });
      try {
        await verdictOrGateErrorAsync(() => client.tryGetManifest(repo, 'v1'));
        await verdictOrGateErrorAsync(() => listReferrers(client, repo, digest.value));
        await verdictOrGateErrorAsync(() => fetchReferrerBundles(client, repo, digest));
        await verdictOrGateErrorAsync(() => fetchAttTagEvidence(client, repo, digest));
      } finally {
        await client.close();
        await agent.close();
      }
    },
  );

  it.prop([anyJson], { numRuns: RUNS })('a referrers index of any JSON shape', async (value) => {
    const body = Buffer.from(JSON.stringify(value) ?? 'null');
    const agent = new MockAgent();
    agent.disableNetConnect();
    agent.get('https://registry.example').intercept({ path: () => true, method: 'GET' }).reply(200, body, { headers: { 'content-type': 'application/vnd.oci.image.index.v1+json' } }).persist();
    const client = new OciClient({ dispatcher: agent, retries: 0, timeoutMs: 2000 });
    try {
      await verdictOrGateErrorAsync(() => fetchReferrerBundles(client, repo, digest));
    } finally {
      await agent.close();
    }
  });
});
