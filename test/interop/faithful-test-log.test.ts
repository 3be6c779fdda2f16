import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestLog, type TestLog } from '../fixtures/rekor-log/index.ts';
import { generateSigner, serializeEnvelope, signDsse } from '../fixtures/signers.ts';
import { slsaV02Statement, statementPayload } from '../fixtures/statements.ts';
import { randomDigest } from '../fixtures/world.ts';
import { startRekorV1 } from '../real-stack/rekor-v1.ts';
import { describeWithTools, useStack } from '../real-stack/suite.ts';

/**
 * Keeps the project's fast test log (test/fixtures/rekor-log) faithful to the real rekor-server: the same
 * requests go to both (create a dsse 0.0.1 and an intoto 0.0.1 entry and again as duplicates, search by
 * sha256, retrieve by entry ID and by log index, get by 80- and 64-hex ID and by log index, log info, and the
 * errors the client meets), and their status codes, the headers the client reads and the shapes of the JSON
 * answers (keys and value types; hex strings by length; map keys that are entry IDs as such) must agree.
 * Differences found and fixed in the test log: a create's answer carries no attestation (rekor-server stores it
 * and attaches it only on reads); log info has `inactiveShards: null`.
 */
type Answer = { status: number; headers: Record<string, string>; shape: unknown };

const HEADERS = ['content-type', 'location', 'etag', 'retry-after'];
const HEX = /^[0-9a-f]+$/;

/** The JSON's shape: object keys (entry IDs generalised) with value shapes, arrays by their first item, hex by length. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length === 0 ? [] : [shape(v[0])];
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [HEX.test(k) && k.length >= 64 ? `<entry ID ${k.length}>` : k, shape((v as Record<string, unknown>)[k])]),
    );
  }
  if (typeof v === 'string' && /^[0-9]+$/.test(v)) return 'decimal string'; // a tree ID: its length varies
  if (typeof v === 'string' && HEX.test(v) && v.length >= 16) return `hex${v.length}`;
  return v === null ? 'null' : typeof v;
}

async function askFor(base: string, method: string, path: string, body?: unknown, ids: string[] = []): Promise<{ answer: Answer; parsed: unknown }> {
  const res = await fetch(base + path, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  let parsed: unknown = text === '' ? '' : text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: its shape is "string"
  }
  const headers: Record<string, string> = {};
  for (const h of HEADERS) {
    let v = res.headers.get(h);
    if (v === null) continue;
    for (const id of ids) v = v.replaceAll(id, '<id>');
    headers[h] = h === 'content-type' ? v.split(';')[0]!.trim() : h === 'location' ? v.replace(/[0-9a-f]{64,80}/, '<id>') : h === 'etag' ? `hex${v.replaceAll('"', '').length}` : v;
  }
  return { answer: { status: res.status, headers, shape: shape(parsed) }, parsed };
}

const ask = async (...a: Parameters<typeof askFor>): Promise<Answer> => (await askFor(...a)).answer;

describeWithTools(['mariadb', 'trillian-log-server', 'trillian-log-signer', 'rekor-server'])('the test log answers as the real Rekor v1 does', () => {
  const real = useStack(startRekorV1);
  let fake: TestLog;
  beforeAll(async () => {
    fake = await startTestLog();
  });
  afterAll(async () => fake?.close());

  const signer = generateSigner('ecdsa-p256');
  const image = randomDigest();
  const st = slsaV02Statement({ subjects: [{ name: 'registry.test/app', digest: { sha256: image.hex } }], builderId: 'https://tekton.dev/chains/v2' });
  const dsseEnv = serializeEnvelope(signDsse(signer, statementPayload(st)));
  const intotoEnv = serializeEnvelope(signDsse(signer, statementPayload({ ...st, predicate: { ...(st.predicate as object), buildType: 'intoto' } })));
  const pem64 = Buffer.from(signer.publicKeyPem).toString('base64');
  const dsse = { apiVersion: '0.0.1', kind: 'dsse', spec: { proposedContent: { envelope: dsseEnv, verifiers: [pem64] } } };
  const intoto = { apiVersion: '0.0.1', kind: 'intoto', spec: { content: { envelope: intotoEnv }, publicKey: pem64 } };

  /** Sends the same request sequence to a log; the answers by step name. */
  async function script(base: string): Promise<Record<string, Answer>> {
    const out: Record<string, Answer> = {};
    const created = await askFor(base, 'POST', '/api/v1/log/entries', dsse);
    const createdBody = created.parsed as Record<string, { logIndex: number }>;
    const uuid = Object.keys(createdBody)[0] ?? '';
    const logIndex = Object.values(createdBody)[0]?.logIndex ?? -1;
    out['create dsse 0.0.1'] = created.answer;
    out['create dsse 0.0.1 again (duplicate)'] = await ask(base, 'POST', '/api/v1/log/entries', dsse, [uuid]);
    out['create intoto 0.0.1'] = await ask(base, 'POST', '/api/v1/log/entries', intoto);
    out['create a malformed entry'] = await ask(base, 'POST', '/api/v1/log/entries', { kind: 'dsse', apiVersion: '0.0.1', spec: {} });
    out['search by sha256'] = await ask(base, 'POST', '/api/v1/index/retrieve', { hash: `sha256:${image.hex}` });
    out['search by an unknown sha256'] = await ask(base, 'POST', '/api/v1/index/retrieve', { hash: `sha256:${'0'.repeat(64)}` });
    out['retrieve by entry ID'] = await ask(base, 'POST', '/api/v1/log/entries/retrieve', { entryUUIDs: [uuid] });
    out['retrieve by log index'] = await ask(base, 'POST', '/api/v1/log/entries/retrieve', { logIndexes: [logIndex] });
    out['get by 80-hex entry ID'] = await ask(base, 'GET', `/api/v1/log/entries/${uuid}`);
    out['get by 64-hex entry ID'] = await ask(base, 'GET', `/api/v1/log/entries/${uuid.slice(-64)}`);
    out['get by log index'] = await ask(base, 'GET', `/api/v1/log/entries?logIndex=${logIndex}`);
    out['get an unknown entry ID'] = await ask(base, 'GET', `/api/v1/log/entries/${'ab'.repeat(32)}`);
    out['get a log index past the end'] = await ask(base, 'GET', '/api/v1/log/entries?logIndex=999999999');
    out['get a negative log index'] = await ask(base, 'GET', '/api/v1/log/entries?logIndex=-1');
    out['get a malformed entry ID'] = await ask(base, 'GET', '/api/v1/log/entries/xyz');
    out['log info'] = await ask(base, 'GET', '/api/v1/log');
    out['public key'] = await ask(base, 'GET', '/api/v1/log/publicKey');
    return out;
  }

  it('answers every request with the same status, client-read headers and JSON shape', async () => {
    const want = await script(real().url);
    const got = await script(fake.url);
    const differences = Object.keys(want).filter((k) => JSON.stringify(want[k]) !== JSON.stringify(got[k]));
    expect(
      differences.map((k) => ({ step: k, realRekor: want[k], testLog: got[k] })),
      'the test log differs from rekor-server',
    ).toEqual([]);
  });
});
