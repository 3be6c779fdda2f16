// Kyverno's attestation conditions: `all`/`any` of {key, operator, value, message}, JMESPath in `{{ }}` over the
// predicate, Kyverno's operators with their coercions (kyverno pkg/engine/variables/operator/*.go and
// pkg/engine/internal/utils.go EvaluateConditions at 111e07bbecc66abfde36ab99969af22d7a961003).
import { compile, search, type JSONValue } from '@jmespath-community/jmespath';
import { GateError } from '../errors.ts';
import { capped } from '../text.ts';
import { wildcardMatch } from './images.ts';

export type ConditionDoc = { key?: unknown; operator?: string; value?: unknown; message?: string };
export type AnyAllDoc = { any?: ConditionDoc[]; all?: ConditionDoc[] };

export const OPERATORS = [
  'Equal', 'Equals', 'NotEqual', 'NotEquals', 'In', 'AnyIn', 'AllIn', 'NotIn', 'AnyNotIn', 'AllNotIn',
  'GreaterThanOrEquals', 'GreaterThan', 'LessThanOrEquals', 'LessThan',
  'DurationGreaterThanOrEquals', 'DurationGreaterThan', 'DurationLessThanOrEquals', 'DurationLessThan',
] as const;
type Operator = (typeof OPERATORS)[number];

const VARIABLE = /\{\{\s*(.*?)\s*\}\}/g;
const WHOLE = /^\{\{\s*(.*?)\s*\}\}$/;

/** Every JMESPath expression in a condition's key or value (strings, nested in lists and maps). */
function expressions(v: unknown): string[] {
  if (typeof v === 'string') return [...v.matchAll(VARIABLE)].map((m) => m[1] as string);
  if (Array.isArray(v)) return v.flatMap(expressions);
  if (v && typeof v === 'object') return Object.values(v).flatMap(expressions);
  return [];
}

/** The names of the functions an expression calls (the AST's Function nodes). */
function functionsOf(node: unknown, out: Set<string> = new Set()): Set<string> {
  if (Array.isArray(node)) for (const n of node) functionsOf(n, out);
  else if (node && typeof node === 'object') {
    const n = node as { type?: string; name?: string };
    if (n.type === 'Function' && typeof n.name === 'string') out.add(n.name);
    for (const v of Object.values(node)) if (v && typeof v === 'object') functionsOf(v, out);
  }
  return out;
}

/** JMESPath's built-in functions, the ones rekor-gate evaluates (Kyverno's own custom functions are refused). */
const BUILTIN = new Set([
  'abs', 'avg', 'ceil', 'contains', 'ends_with', 'floor', 'join', 'keys', 'length', 'map', 'max', 'max_by', 'merge',
  'min', 'min_by', 'not_null', 'reverse', 'sort', 'sort_by', 'starts_with', 'sum', 'to_array', 'to_number',
  'to_string', 'type', 'values',
]);

/** Checks a condition's expressions at load: syntax, and only functions rekor-gate implements. Throws a message. */
function checkExpressions(c: ConditionDoc, where: string): void {
  for (const e of [...expressions(c.key), ...expressions(c.value)]) {
    let ast: unknown;
    try {
      ast = compile(e);
    } catch (err) {
      throw new GateError('BAD_POLICY', `${where}: {{ ${capped(e)} }} is not a JMESPath expression: ${capped((err as Error).message)}`);
    }
    for (const f of functionsOf(ast)) {
      if (!BUILTIN.has(f)) throw new GateError('BAD_POLICY', `${where}: {{ ${capped(e)} }} calls ${f}(), a Kyverno JMESPath function rekor-gate does not implement (it evaluates JMESPath's built-in functions only)`);
    }
  }
}

class Unresolved extends Error {}

/** `{{ expr }}` substituted over the predicate: the whole string typed as the result, embedded ones as text. */
function substitute(v: unknown, predicate: JSONValue): unknown {
  if (typeof v === 'string') {
    const whole = WHOLE.exec(v);
    const run = (e: string): JSONValue => {
      const r = search(predicate, e);
      if (r === null || r === undefined) throw new Unresolved(`{{ ${e} }} resolves to nothing in the predicate`);
      return r;
    };
    if (whole && !(whole[1] as string).includes('}}')) return run(whole[1] as string);
    return v.replace(VARIABLE, (_, e: string) => {
      const r = run(e);
      return typeof r === 'string' ? r : JSON.stringify(r);
    });
  }
  if (Array.isArray(v)) return v.map((x) => substitute(x, predicate));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substitute(x, predicate)]));
  return v;
}

/** Go's time.ParseDuration ("1h30m", "90s", "1.5h"), in seconds; undefined when not one. */
function goDuration(s: string): number | undefined {
  const m = /^([+-])?((?:[0-9]*\.?[0-9]+(?:ns|us|µs|ms|s|m|h))+)$/.exec(s);
  if (!m) return s === '0' ? 0 : undefined;
  const unit: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  let total = 0;
  for (const part of (m[2] as string).matchAll(/([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)/g)) total += Number(part[1]) * (unit[part[2] as string] as number);
  return m[1] === '-' ? -total : total;
}

/** Durations on both sides (a number is seconds), as Kyverno's parseDuration requires one string at least. */
function durations(key: unknown, value: unknown): [number, number] | undefined {
  const d = (x: unknown): number | undefined => (typeof x === 'number' ? x : typeof x === 'string' ? goDuration(x) : undefined);
  if (typeof key !== 'string' && typeof value !== 'string') return undefined;
  const a = d(key);
  const b = d(value);
  return a !== undefined && b !== undefined ? [a, b] : undefined;
}

const numberOf = (x: unknown): number | undefined => (typeof x === 'number' ? x : typeof x === 'string' && x.trim() !== '' && Number.isFinite(Number(x)) ? Number(x) : undefined);

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  return v;
}

/** Equals (equal.go): by the key's type; a string key: durations, else the value's glob over the key. */
function equals(key: unknown, value: unknown): boolean {
  if (typeof key === 'boolean') return value === key;
  if (typeof key === 'number') {
    const v = numberOf(value);
    return v !== undefined && v === key;
  }
  if (typeof key === 'string') {
    const d = durations(key, value);
    if (d) return d[0] === d[1];
    return typeof value === 'string' && wildcardMatch(value, key);
  }
  if (key && typeof key === 'object') return value !== null && typeof value === 'object' && Array.isArray(key) === Array.isArray(value) && deepEqual(key, value);
  return false;
}

const text = (x: unknown): string => (typeof x === 'string' ? x : JSON.stringify(x));

/** The values a set operator's value stands for (a list, or a string: itself as a glob, or a JSON list). */
function valueSet(value: unknown): { globs: string[]; exact: string[] } | undefined {
  if (Array.isArray(value)) return { globs: value.map(text), exact: [] };
  if (typeof value === 'string') {
    let list: string[] = [];
    try {
      const parsed: unknown = JSON.parse(value);
      if (Array.isArray(parsed)) list = parsed.map(text);
    } catch {
      list = [value];
    }
    return { globs: [value], exact: list };
  }
  return undefined;
}

/** Whether one key element is in the value (anyin.go anyKeyExistsInArray): a glob either way, or exact in a JSON list. */
function inSet(k: string, set: { globs: string[]; exact: string[] }, bothWays: boolean): boolean {
  return set.globs.some((g) => wildcardMatch(g, k) || (bothWays && wildcardMatch(k, g))) || set.exact.includes(k);
}

function keys(key: unknown): string[] | undefined {
  if (Array.isArray(key)) return key.map(text);
  if (['string', 'number', 'boolean'].includes(typeof key)) return [text(key)];
  return undefined;
}

function setOperator(op: Operator, key: unknown, value: unknown): boolean {
  const set = valueSet(value);
  const ks = keys(key);
  if (!set || !ks) return false;
  const bothWays = Array.isArray(value);
  const hits = ks.map((k) => inSet(k, set, bothWays));
  switch (op) {
    case 'AnyIn':
      return hits.some(Boolean);
    case 'In':
    case 'AllIn':
      return hits.every(Boolean);
    case 'NotIn':
    case 'AllNotIn':
      return hits.every((h) => !h);
    case 'AnyNotIn':
      return hits.some((h) => !h);
    default:
      return false;
  }
}

function compare(op: string, a: number, b: number): boolean {
  if (op.endsWith('GreaterThanOrEquals')) return a >= b;
  if (op.endsWith('GreaterThan')) return a > b;
  if (op.endsWith('LessThanOrEquals')) return a <= b;
  return a < b;
}

/** One operator applied (numeric.go: numbers, numeric strings, durations; duration.go: durations only). */
export function applyOperator(op: Operator, key: unknown, value: unknown): boolean {
  switch (op) {
    case 'Equal':
    case 'Equals':
      return equals(key, value);
    case 'NotEqual':
    case 'NotEquals':
      return !equals(key, value);
    case 'In':
    case 'AnyIn':
    case 'AllIn':
    case 'NotIn':
    case 'AnyNotIn':
    case 'AllNotIn':
      return setOperator(op, key, value);
    default: {
      if (op.startsWith('Duration')) {
        const d = durations(key, value) ?? (typeof key === 'number' && typeof value === 'number' ? [key, value] : undefined);
        return d !== undefined && compare(op, d[0], d[1]);
      }
      const a = numberOf(key);
      const b = numberOf(value);
      if (a !== undefined && b !== undefined) return compare(op, a, b);
      const d = durations(key, value);
      return d !== undefined && compare(op, d[0], d[1]);
    }
  }
}

/**
 * The conditions (every AnyAll block holds: all of its `all`, at least one of its `any`) compiled into a
 * predicate check: undefined when they hold, else why not (the condition's message, or key, operator and value).
 */
export function compileConditions(blocks: readonly AnyAllDoc[], where: string): (predicate: unknown) => string | undefined {
  blocks.forEach((b, i) =>
    [...(b.all ?? []), ...(b.any ?? [])].forEach((c) => {
      const at = `${where}.conditions[${i}]`;
      if (!OPERATORS.includes(c.operator as Operator)) throw new GateError('BAD_POLICY', `${at}: operator ${capped(String(c.operator))} is not a Kyverno condition operator (${OPERATORS.join(', ')})`);
      checkExpressions(c, at);
    }),
  );
  const holds = (c: ConditionDoc, predicate: JSONValue): string | undefined => {
    let key: unknown;
    let value: unknown;
    try {
      key = substitute(c.key, predicate);
      value = substitute(c.value, predicate);
    } catch (err) {
      if (err instanceof Unresolved) return `${c.message ? `${c.message}: ` : ''}${err.message}`;
      return `${capped(text(c.key))} could not be evaluated: ${capped((err as Error).message)}`;
    }
    if (applyOperator(c.operator as Operator, key, value)) return undefined;
    return c.message ? capped(c.message) : `${capped(text(c.key))} (${capped(text(key))}) ${c.operator} ${capped(text(value))} does not hold`;
  };
  return (predicate) => {
    const p = (predicate ?? {}) as JSONValue;
    for (const [i, b] of blocks.entries()) {
      for (const c of b.all ?? []) {
        const why = holds(c, p);
        if (why) return `conditions[${i}].all: ${why}`;
      }
      if (b.any && b.any.length > 0) {
        const whys = b.any.map((c) => holds(c, p));
        if (whys.every((w) => w !== undefined)) return `conditions[${i}].any: none holds (${whys.join('; ')})`;
      }
    }
    return undefined;
  };
}
