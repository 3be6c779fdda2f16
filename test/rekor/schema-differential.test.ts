/**
 * rekor-gate ships schemas of its own for Rekor's entry kinds (schemas/rekor) and for the API's LogEntry
 * (schemas/rekor-api). This test holds them to the schemas Rekor publishes ($GATE_TEST_DATA/spec/rekor, compiled
 * here with ajv): every entry body and LogEntry response of the recorded corpus, and mutations of each (a field
 * removed, a value of another type, an extra property, a bad base64 or hex encoding, an unknown enum value, an
 * empty list), must get the same verdict from both, except in the cases named below, where rekor-gate is
 * deliberately stricter or looser (docs/design.md says why).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type AnySchema, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';
import { expect, it } from 'vitest';
import YAML from 'yaml';
import { ENTRY_KIND_SCHEMAS } from '../../src/rekor/schemas.ts';
import { repoRoot } from '../fixtures/paths.ts';
import { corpusDir, describeWithTestData, specDir } from '../fixtures/test-data.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Kind = keyof typeof ENTRY_KIND_SCHEMAS;
const isObj = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Each kind's versions: Rekor's file for the version, and the wrapper file that takes any version. */
const UPSTREAM: Record<Kind, { wrapper: string; versions: Record<string, string> }> = {
  intoto: { wrapper: 'intoto_schema.json', versions: { '0.0.1': 'intoto_v0_0_1_schema.json', '0.0.2': 'intoto_v0_0_2_schema.json' } },
  dsse: { wrapper: 'dsse_schema.json', versions: { '0.0.1': 'dsse_v0_0_1_schema.json' } },
  hashedrekord: { wrapper: 'hashedrekord_schema.json', versions: { '0.0.1': 'hashedrekord_v0_0_1_schema.json' } },
};

function newAjv(): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: false });
  ajvFormats.default(ajv);
  ajv.addFormat('signedCheckpoint', true);
  return ajv;
}
const readJson = (file: string): Json => JSON.parse(readFileSync(file, 'utf8')) as Json;

type Validators = { name: string; upstream: ValidateFunction; ours: ValidateFunction; kind: Kind };

/** Upstream's version and wrapper schemas, and ours, per kind. */
function kindValidators(): Validators[] {
  const theirs = newAjv();
  for (const { wrapper, versions } of Object.values(UPSTREAM)) {
    const w = readJson(specDir('rekor', wrapper)) as { $id: string; oneOf: { $ref: string }[] };
    theirs.addSchema(w as AnySchema);
    // A wrapper names each version by a path relative to its own $id, which is not the $id the version file
    // declares: register each version under the URI the wrapper resolves.
    for (const [i, file] of Object.values(versions).entries()) {
      const v = readJson(specDir('rekor', file)) as Record<string, Json>;
      theirs.addSchema({ ...v, $id: new URL(w.oneOf[i]!.$ref, w.$id).href } as AnySchema);
    }
  }
  const ours = newAjv();
  const shipped = (f: string): AnySchema => readJson(path.join(repoRoot, 'schemas', 'rekor', f)) as AnySchema;
  for (const f of ['common.schema.json', 'intoto.schema.json', 'dsse.schema.json', 'hashedrekord.schema.json']) ours.addSchema(shipped(f));
  const out: Validators[] = [];
  for (const [kind, { wrapper, versions }] of Object.entries(UPSTREAM) as [Kind, (typeof UPSTREAM)[Kind]][]) {
    const w = readJson(specDir('rekor', wrapper)) as { $id: string; oneOf: { $ref: string }[] };
    const id = ENTRY_KIND_SCHEMAS[kind].$id;
    out.push({ name: `${kind} (any version)`, kind, upstream: theirs.getSchema(w.$id)!, ours: ours.getSchema(id)! });
    for (const [i, version] of Object.keys(versions).entries()) {
      out.push({
        name: `${kind} ${version}`,
        kind,
        upstream: theirs.getSchema(new URL(w.oneOf[i]!.$ref, w.$id).href)!,
        ours: ours.getSchema(`${id}#/definitions/v${version}`)!,
      });
    }
  }
  return out;
}

// ---- the recorded documents ----

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json')).map((f) => path.join(dir, f)).sort();
}

/** Every canonicalized body (base64) the corpus holds: entries, bundles' tlog entries, cosign annotations. */
function recordedBodies(): string[] {
  const bodies = new Set<string>();
  const visit = (v: Json): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (isObj(v)) {
      for (const [k, c] of Object.entries(v)) {
        if ((k === 'body' || k === 'canonicalizedBody') && typeof c === 'string') bodies.add(c);
        else if (k === 'dev.sigstore.cosign/bundle' && typeof c === 'string') visit(JSON.parse(c) as Json);
        else visit(c);
      }
    }
  };
  for (const f of files(corpusDir())) {
    try {
      visit(readJson(f));
    } catch {
      // a conformance case of malformed JSON: no body in it
    }
  }
  return [...bodies];
}

/** The decoded bodies of the kinds rekor-gate reads, by kind: their `spec`. */
function recordedSpecs(): { kind: Kind; apiVersion: string; spec: Json }[] {
  return recordedBodies().flatMap((b) => {
    const body = JSON.parse(Buffer.from(b, 'base64').toString('utf8')) as { kind: string; apiVersion: string; spec: Json };
    // Rekor v2's kinds (hashedrekord and dsse 0.0.2, in the conformance cases) are not Rekor v1 bodies.
    const known = Object.hasOwn(UPSTREAM, body.kind) && Object.hasOwn(UPSTREAM[body.kind as Kind].versions, body.apiVersion);
    return known ? [{ kind: body.kind as Kind, apiVersion: body.apiVersion, spec: body.spec }] : [];
  });
}

// ---- mutations ----

type Path = (string | number)[];
const get = (doc: Json, p: Path): Json => p.reduce<Json>((n, k) => (n as Record<string | number, Json>)[k] as Json, doc);

/** Every node's path, depth first. */
function paths(doc: Json, at: Path = []): Path[] {
  const out: Path[] = [at];
  if (Array.isArray(doc)) doc.forEach((c, i) => out.push(...paths(c, [...at, i])));
  else if (isObj(doc)) for (const [k, c] of Object.entries(doc)) out.push(...paths(c, [...at, k]));
  return out;
}

function replaced(doc: Json, p: Path, value: Json | undefined): Json {
  if (p.length === 0) return value ?? null;
  const copy = structuredClone(doc);
  const parent = get(copy, p.slice(0, -1)) as Record<string | number, Json>;
  const key = p.at(-1)!;
  if (value !== undefined) parent[key] = value;
  else if (Array.isArray(parent)) parent.splice(key as number, 1);
  else delete parent[key];
  return copy;
}

const HEX = /^[0-9a-fA-F]+$/;

/** What each node may be turned into, named. */
function variants(node: Json): [string, Json | undefined][] {
  const out: [string, Json | undefined][] = [['removed', undefined], ['null', null]];
  if (typeof node === 'string') {
    out.push(['a number', 1], ['an object', {}], ['empty', ''], ['bad base64', 'not base64!'], ['bad base64 padding', `${node}=`]);
    out.push(['one character short', node.slice(0, -1)], ['an unknown enum value', 'md5'], ['sha512', 'sha512'], ['sha384', 'sha384']);
    if (HEX.test(node)) out.push(['upper-case hex', node.toUpperCase()], ['not hex', `zz${node.slice(2)}`], ['hex too long', `${node}00`]);
  } else if (typeof node === 'number') {
    out.push(['negative', -1], ['fractional', 1.5], ['a string', String(node)], ['zero', 0]);
  } else if (typeof node === 'boolean') {
    out.push(['a string', String(node)]);
  } else if (Array.isArray(node)) {
    out.push(['empty', []], ['an object', {}], ['holding a number', [1]], ['holding an empty object', [{}]]);
  } else if (isObj(node)) {
    out.push(['with an extra property', { ...node, unexpected: 'x' }], ['empty', {}], ['an array', []], ['a string', 'x']);
  }
  return out;
}

function* mutations(doc: Json): Generator<{ label: string; doc: Json }> {
  yield { label: 'as recorded', doc };
  for (const p of paths(doc)) {
    for (const [what, value] of variants(get(doc, p))) {
      if (p.length === 0 && value === undefined) continue;
      yield { label: `/${p.join('/')} ${what}`, doc: replaced(doc, p, value) };
    }
  }
}

// ---- the deliberate differences ----

/**
 * STRICTER, "digest values are hex of the algorithm's length": Rekor's schemas let a digest `value` be any
 * string. rekor-gate's require what the log writes or accepts: the digests the server computes (intoto's
 * hash and payloadHash, dsse's envelopeHash and payloadHash) as 64 lower-case hex digits; a hashedrekord
 * artifact digest as hex of its algorithm's length. The name of the case, when `spec` breaks it.
 */
function breaksDigestRule(kind: Kind, spec: Json): string | undefined {
  if (!isObj(spec)) return undefined;
  const bad = (h: Json | undefined, re: RegExp): boolean => isObj(h) && typeof h['value'] === 'string' && !re.test(h['value']);
  const computed = /^[0-9a-f]{64}$/;
  const content = isObj(spec['content']) ? spec['content'] : {};
  const digests =
    kind === 'intoto'
      ? [content['hash'], content['payloadHash']]
      : kind === 'dsse'
        ? [spec['envelopeHash'], spec['payloadHash']]
        : [];
  if (digests.some((h) => bad(h, computed))) return 'digest values are hex of the algorithm length';
  if (kind === 'hashedrekord' && isObj(spec['data'])) {
    const h = spec['data']['hash'];
    const length = isObj(h) ? { sha256: 64, sha384: 96, sha512: 128 }[String(h['algorithm'])] : undefined;
    if (length !== undefined && bad(h, new RegExp(`^[0-9a-fA-F]{${length}}$`))) return 'digest values are hex of the algorithm length';
  }
  return undefined;
}

/**
 * Rekor's openapi.yaml LogEntry and InclusionProof, with the deliberate differences of ours applied, each named:
 * - DIFFERENT, "body is the base64 string the API serves": the definition says `body` is an object; the API sends
 *   the base64 of the canonical body (a string), which is what the leaf hash covers.
 * - LOOSER, "a proof may lack its checkpoint": the definition requires `checkpoint`; Rekor served proofs without
 *   one before checkpoints existed. Whether a proof is signed is the log verification's verdict, per entry.
 * - STRICTER, "attestation.data is a base64 string": the definition gives `data` a format but no type, so a
 *   number or an object passes it.
 */
const LOG_ENTRY_CASES = ['body is the base64 string the API serves', 'a proof may lack its checkpoint', 'attestation.data is a base64 string'] as const;
type LogEntryCase = (typeof LOG_ENTRY_CASES)[number];

function upstreamLogEntry(apply: readonly LogEntryCase[]): AnySchema {
  const openapi = YAML.parse(readFileSync(specDir('rekor', 'openapi.yaml'), 'utf8')) as { definitions: Record<string, any> };
  const definitions = structuredClone({ LogEntry: openapi.definitions['LogEntry'], InclusionProof: openapi.definitions['InclusionProof'] });
  const entry = definitions.LogEntry.additionalProperties.properties;
  if (apply.includes('body is the base64 string the API serves')) entry.body = { type: 'string', format: 'byte' };
  if (apply.includes('a proof may lack its checkpoint')) {
    definitions.InclusionProof.required = definitions.InclusionProof.required.filter((n: string) => n !== 'checkpoint');
  }
  if (apply.includes('attestation.data is a base64 string')) entry.attestation.properties.data = { type: 'string', format: 'byte' };
  return { definitions, $ref: '#/definitions/LogEntry' };
}

const oursLogEntry = (): ValidateFunction => newAjv().compile(readJson(path.join(repoRoot, 'schemas', 'rekor-api', 'log-entry.schema.json')) as AnySchema);

describeWithTestData(import.meta.url, "Rekor's published schemas (spec/rekor) and the recorded entries (corpus/)", 'our Rekor schemas judge as Rekor\'s do', () => {
  it('every recorded entry body, and every mutation of it, gets the same verdict from ours and Rekor\'s (but for the named stricter case)', () => {
    const specs = recordedSpecs();
    const kinds = new Set(specs.map((s) => `${s.kind} ${s.apiVersion}`));
    expect([...kinds].sort()).toEqual(['dsse 0.0.1', 'hashedrekord 0.0.1', 'intoto 0.0.1', 'intoto 0.0.2']);
    const validators = kindValidators();
    const disagreements: string[] = [];
    const counts = { checked: 0, accepted: 0, rejected: 0, deliberate: 0 };
    const seen = new Set<string>();
    for (const { kind, apiVersion, spec } of specs) {
      for (const { label, doc } of mutations(spec)) {
        const key = JSON.stringify(doc);
        if (seen.has(key)) continue;
        seen.add(key);
        // Every validator sees every document: a body of one version must fail the other's as Rekor's does.
        for (const v of validators) {
          const theirs = v.upstream(doc);
          const ours = v.ours(doc);
          const stricter = breaksDigestRule(v.kind, doc);
          const expected = theirs && stricter === undefined;
          counts.checked++;
          if (ours) counts.accepted++;
          else counts.rejected++;
          if (theirs && !ours && stricter) counts.deliberate++;
          if (ours !== expected) disagreements.push(`${v.name} on ${kind} ${apiVersion} ${label}: ours ${ours}, Rekor's ${theirs}${stricter ? ` (${stricter})` : ''}`);
        }
      }
    }
    expect(disagreements.slice(0, 20)).toEqual([]);
    // Both verdicts, and the stricter case, occur: the mutations reach the checks.
    expect(counts.checked).toBeGreaterThan(5000);
    expect(counts.accepted).toBeGreaterThan(200);
    expect(counts.rejected).toBeGreaterThan(2000);
    expect(counts.deliberate).toBeGreaterThan(20);
  });

  it('every recorded LogEntry response, and every mutation of it, gets the verdict of openapi.yaml with the named differences', () => {
    const theirs = newAjv().compile(upstreamLogEntry(LOG_ENTRY_CASES));
    const ours = oursLogEntry();
    const disagreements: string[] = [];
    let checked = 0;
    let accepted = 0;
    for (const f of files(corpusDir('entries'))) {
      for (const { label, doc } of mutations(readJson(f))) {
        checked++;
        if (ours(doc)) accepted++;
        if (ours(doc) !== theirs(doc)) disagreements.push(`${path.basename(f)} ${label}: ours ${ours(doc)}, Rekor's ${theirs(doc)}`);
      }
    }
    expect(disagreements.slice(0, 20)).toEqual([]);
    expect(checked).toBeGreaterThan(1000);
    expect(accepted).toBeGreaterThan(100);
  });

  it.each(LOG_ENTRY_CASES)('the LogEntry difference "%s" is real: without it, Rekor\'s definition judges otherwise', (name) => {
    const without = newAjv().compile(upstreamLogEntry(LOG_ENTRY_CASES.filter((c) => c !== name)));
    const ours = oursLogEntry();
    const [file] = files(corpusDir('entries')).filter((f) => f.includes('with-attestation'));
    const doc = readJson(file!) as Record<string, Record<string, any>>;
    const entry = Object.values(doc)[0]!;
    if (name === 'a proof may lack its checkpoint') {
      entry['verification'].inclusionProof = { logIndex: 0, rootHash: '00'.repeat(32), treeSize: 1, hashes: [] };
    }
    if (name === 'attestation.data is a base64 string') entry['attestation'] = { data: 12 };
    expect(ours(doc)).toBe(name !== 'attestation.data is a base64 string');
    expect(without(doc)).toBe(!ours(doc));
  });
});
