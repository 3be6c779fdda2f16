import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import schema from '../../schemas/policy.schema.json' with { type: 'json' };
import { GateError } from '../errors.ts';
import { lazyGuard } from '../schema/validator.ts';
import { parseTrustedKeys } from '../trust/public-keys.ts';
import { exact, regexp, type Matcher } from './matcher.ts';
import type { TrustedKey } from '../trust/public-keys.ts';
import type { KeylessSigner, Policy, PredicateCheck } from './policy.ts';
import { compileProvenanceRules, type ProvenanceRulesDoc, type StatementRule } from './provenance/rules.ts';
import type { ConditionDoc } from './cel/conditions.ts';

/** The policy file's shape once it passed schemas/policy.schema.json. */
type KeylessDoc = { identity?: string; identityRegexp?: string; issuer?: string; issuerRegexp?: string };
type SignerDoc = { name?: string; key?: string; keyPath?: string; keyless?: KeylessDoc };
type PolicyDoc = {
  apiVersion: string;
  kind: string;
  spec: {
    signers?: SignerDoc[];
    predicateTypes?: string[];
    builderIds?: string[];
    predicateSchema?: Record<string, unknown>;
    maxAge?: string;
    minSigners?: number;
    signature?: { required?: boolean };
    provenance?: ProvenanceRulesDoc;
    conditions?: ConditionDoc[];
  };
};

/** The policy file's JSON Schema (what `rekor-gate policy schema` prints). A copy: callers may mutate it. */
export function policySchema(): object {
  return structuredClone(schema) as object;
}

// verbose: errors carry their parentSchema and data, which the messages below use.
const policyValidator = lazyGuard<PolicyDoc>('policy', schema, { options: { allErrors: true, verbose: true } });
const validator = (): typeof policyValidator => policyValidator;

/** Where a thing sits in the file, for messages: `file:line:col`. */
type Locator = (pointer: string) => string;

function decodePointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function escapeSegment(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}

function rangeStart(node: unknown): number | undefined {
  const r = (node as { range?: readonly number[] } | null | undefined)?.range;
  return r?.[0];
}

/**
 * The offset of the YAML node at a JSON pointer: for a map entry its key (the line `keyless:`),
 * for a sequence item the item. Walks as deep as the document goes.
 */
function offsetOf(doc: Document, pointer: string): number {
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? 0;
  for (const seg of decodePointer(pointer)) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === seg);
      if (!pair) break;
      offset = rangeStart(pair.key) ?? offset;
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(seg)];
      if (item === undefined) break;
      offset = rangeStart(item) ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset;
}

function quoteList(names: readonly string[], word: 'or' | 'and'): string {
  const q = names.map((n) => `'${n}'`);
  return q.length <= 1 ? (q[0] ?? '') : `${q.slice(0, -1).join(', ')} ${word} ${q[q.length - 1]}`;
}

/** `oneOf: [{required: [a]}, {required: [b]}]`: the names, when the oneOf is of that form. */
function exclusiveNames(parentSchema: unknown): string[] | undefined {
  const branches = (parentSchema as { oneOf?: unknown } | undefined)?.oneOf;
  if (!Array.isArray(branches)) return undefined;
  const names: string[] = [];
  for (const b of branches) {
    const req = (b as { required?: unknown }).required;
    if (!Array.isArray(req) || req.length !== 1 || Object.keys(b as object).length !== 1) return undefined;
    names.push(String(req[0]));
  }
  return names;
}

type Problem = { pointer: string; message: string; offset: number };

/** ajv errors -> one readable problem each, located in the file, in file order. */
function problems(errors: readonly ErrorObject[], doc: Document): Problem[] {
  const out: Problem[] = [];
  // errors inside the branches of a rewritten `oneOf` are covered by its message
  const covered = new Set<string>();
  for (const e of errors) {
    if (e.keyword !== 'oneOf') continue;
    const names = exclusiveNames(e.parentSchema);
    if (names) covered.add(`${e.schemaPath}/`);
  }
  for (const e of errors) {
    if ([...covered].some((p) => e.schemaPath.startsWith(p))) continue;
    let pointer = e.instancePath;
    let message = e.message ?? 'is invalid';
    let at = pointer;
    if (e.keyword === 'oneOf') {
      const names = exclusiveNames(e.parentSchema);
      if (names) {
        const data = (e.data ?? {}) as Record<string, unknown>;
        const present = names.filter((n) => n in data);
        message =
          present.length === 0
            ? `must have ${names.length === 2 ? 'either' : 'one of'} ${quoteList(names, 'or')}`
            : `must have only one of ${quoteList(names, 'or')} (has ${quoteList(present, 'and')})`;
      }
    } else if (e.keyword === 'additionalProperties') {
      const name = String((e.params as { additionalProperty?: unknown }).additionalProperty);
      const allowed = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      message = `unknown field '${name}'${allowed.length > 0 ? ` (allowed: ${allowed.join(', ')})` : ''}`;
      at = `${pointer}/${escapeSegment(name)}`;
    } else if (e.keyword === 'const') {
      message = `must be ${JSON.stringify((e.params as { allowedValue?: unknown }).allowedValue)}`;
    } else if (e.keyword === 'pattern' && pointer === '/spec/maxAge') {
      message = 'must be a duration such as 30d, 720h, 1d12h, 90m or 3600s';
    }
    pointer ||= '/';
    if (out.some((p) => p.pointer === pointer && p.message === message)) continue;
    out.push({ pointer, message, offset: offsetOf(doc, at) });
  }
  return out.sort((a, b) => a.offset - b.offset);
}

const DURATION = /^(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?$/;

/** `30d`, `720h`, `1d12h`, `90m`, `3600s` -> seconds; undefined when not a positive duration. */
function durationSeconds(text: string): number | undefined {
  const m = DURATION.exec(text);
  if (!m || text === '') return undefined;
  const [d, h, min, s] = [m[1], m[2], m[3], m[4]].map((v) => Number(v ?? 0)) as [number, number, number, number];
  const total = d * 86400 + h * 3600 + min * 60 + s;
  return total > 0 && Number.isSafeInteger(total) ? total : undefined;
}

/** Which JSON Schema dialect a predicateSchema asks for (draft-07 unless its `$schema` names 2019-09 or 2020-12). */
function predicateAjv(s: Record<string, unknown>): Ajv | Ajv2019 | Ajv2020 {
  const dialect = typeof s.$schema === 'string' ? s.$schema : '';
  const opts = { allErrors: true, strict: false };
  const ajv = dialect.includes('2020-12') ? new Ajv2020(opts) : dialect.includes('2019-09') ? new Ajv2019(opts) : new Ajv(opts);
  addFormats.default(ajv as Ajv);
  return ajv;
}

const MAX_PREDICATE_ERRORS = 3;

function compilePredicateSchema(s: Record<string, unknown>): PredicateCheck {
  const fn = predicateAjv(s).compile(s);
  return (predicate: unknown): string | undefined => {
    if (fn(predicate)) return undefined;
    const errs = fn.errors ?? [];
    const shown = errs.slice(0, MAX_PREDICATE_ERRORS).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
    if (errs.length > MAX_PREDICATE_ERRORS) shown.push(`and ${errs.length - MAX_PREDICATE_ERRORS} more`);
    return shown.join('; ') || 'is invalid';
  };
}

/**
 * Reads, parses (YAML or JSON), validates (schemas/policy.schema.json) and compiles a policy file.
 * Every problem is a BAD_POLICY GateError of the form `file:line:col: /json/pointer: what is wrong`.
 * Asynchronous only to load the CEL implementation when the policy has `conditions`.
 */
export async function loadPolicyFile(file: string): Promise<Policy> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new GateError('BAD_POLICY', `policy file ${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const abs = path.resolve(file);
  const text = bytes.toString('utf8');

  // JSON is YAML: one parser, so JSON files get lines too.
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const where = (offset: number): string => {
    const { line, col } = lineCounter.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  const syntax = doc.errors[0];
  if (syntax) {
    throw new GateError('BAD_POLICY', `${where(syntax.pos[0])}: YAML syntax error: ${syntax.message}`);
  }
  const locate: Locator = (pointer) => where(offsetOf(doc, pointer));
  const fail = (pointer: string, message: string): GateError => new GateError('BAD_POLICY', `${locate(pointer)}: ${pointer}: ${message}`);

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new GateError('BAD_POLICY', `${file}: ${(err as Error).message}`);
  }

  const validate = validator();
  if (!validate(data)) {
    const found = problems(validate.errors ?? [], doc);
    throw new GateError('BAD_POLICY', found.map((p) => `${where(p.offset)}: ${p.pointer}: ${p.message}`).join('\n') || `${file}: is invalid`);
  }
  const spec = data.spec;

  const keys: TrustedKey[] = [];
  const keyless: KeylessSigner[] = [];
  (spec.signers ?? []).forEach((s, i) => {
    const at = `/spec/signers/${i}`;
    const label = `${file} signers[${i}]${s.name ? ` (${s.name})` : ''}`;
    if (s.key !== undefined || s.keyPath !== undefined) {
      let pemText = s.key;
      const pointer = s.key !== undefined ? `${at}/key` : `${at}/keyPath`;
      if (pemText === undefined) {
        const keyFile = path.resolve(path.dirname(abs), s.keyPath as string);
        try {
          pemText = readFileSync(keyFile, 'utf8');
        } catch (err) {
          throw fail(pointer, `key file ${keyFile} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
      }
      try {
        keys.push(...parseTrustedKeys(pemText, label));
      } catch (err) {
        throw fail(pointer, (err as Error).message);
      }
      return;
    }
    const k = s.keyless as KeylessDoc;
    const matcher = (exactValue: string | undefined, re: string | undefined, name: string): Matcher => {
      if (exactValue !== undefined) return exact(exactValue);
      try {
        return regexp(re as string, `${name}Regexp`);
      } catch (err) {
        throw fail(`${at}/keyless/${name}Regexp`, (err as Error).message);
      }
    };
    keyless.push({
      identity: matcher(k.identity, k.identityRegexp, 'identity'),
      issuer: matcher(k.issuer, k.issuerRegexp, 'issuer'),
      label,
    });
  });

  let predicateSchema: PredicateCheck | undefined;
  if (spec.predicateSchema !== undefined) {
    try {
      predicateSchema = compilePredicateSchema(spec.predicateSchema);
    } catch (err) {
      throw fail('/spec/predicateSchema', `not a valid JSON Schema: ${(err as Error).message}`);
    }
  }

  let maxAgeSeconds: number | undefined;
  if (spec.maxAge !== undefined) {
    maxAgeSeconds = durationSeconds(spec.maxAge);
    if (maxAgeSeconds === undefined) throw fail('/spec/maxAge', `"${spec.maxAge}" must be a positive duration`);
  }

  const statementRules: StatementRule[] = [];
  if (spec.provenance !== undefined) {
    try {
      statementRules.push(...compileProvenanceRules(spec.provenance));
    } catch (err) {
      throw fail('/spec/provenance', (err as Error).message);
    }
  }
  if (spec.conditions !== undefined) {
    // The CEL implementation loads only for a policy that has conditions.
    const { compileConditions } = await import('./cel/conditions.ts');
    statementRules.push(...compileConditions(spec.conditions, (i, message) => fail(`/spec/conditions/${i}/expression`, message)));
  }

  return {
    keys,
    keyless,
    predicateTypes: spec.predicateTypes ?? [],
    ...(statementRules.length > 0 && { statementRules }),
    ...(spec.builderIds !== undefined && { builderIds: spec.builderIds }),
    ...(predicateSchema !== undefined && { predicateSchema }),
    ...(maxAgeSeconds !== undefined && { maxAgeSeconds }),
    ...(spec.minSigners !== undefined && { minSigners: spec.minSigners }),
    ...(spec.signature?.required === true && { requireSignature: true }),
    source: { uri: pathToFileURL(abs).href, sha256: createHash('sha256').update(bytes).digest('hex') },
  };
}
