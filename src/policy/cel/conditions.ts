import type { GateError } from '../../errors.ts';
import type { RuleInput, StatementRule } from '../provenance/rules.ts';
import { checkExpression } from './expression.ts';
import { evaluateConditions } from './sandbox.ts';

/** A policy file's `conditions` entry. */
export type ConditionDoc = { readonly expression: string; readonly message?: string };

/** What a statement may hold for conditions to be evaluated over it (beyond: the conditions fail, saying so). */
export const INPUT_LIMITS = { maxValues: 200_000, maxListLength: 10_000, maxStringLength: 1 << 20, maxDepth: 64 } as const;

/**
 * JSON as CEL sees it: whole numbers become CEL ints (bigint), as Kubernetes' CEL reads JSON integers; other
 * numbers doubles. Counts what it converts: a statement past INPUT_LIMITS is refused with what it exceeds.
 */
export function celInput(value: unknown): unknown {
  let values = 0;
  const convert = (v: unknown, depth: number): unknown => {
    if (++values > INPUT_LIMITS.maxValues) throw new RangeError(`holds more than ${INPUT_LIMITS.maxValues} values`);
    if (depth > INPUT_LIMITS.maxDepth) throw new RangeError(`nests deeper than ${INPUT_LIMITS.maxDepth}`);
    if (typeof v === 'number') return Number.isSafeInteger(v) ? BigInt(v) : v;
    if (typeof v === 'string') {
      if (v.length > INPUT_LIMITS.maxStringLength) throw new RangeError(`holds a string longer than ${INPUT_LIMITS.maxStringLength} characters`);
      return v;
    }
    if (Array.isArray(v)) {
      if (v.length > INPUT_LIMITS.maxListLength) throw new RangeError(`holds a list longer than ${INPUT_LIMITS.maxListLength}`);
      return v.map((x) => convert(x, depth + 1));
    }
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = convert(x, depth + 1);
      return out;
    }
    return v;
  };
  return convert(value, 0);
}

/**
 * The conditions, checked now (syntax, size, depth, known functions: `fail(index, message)` makes the usage
 * error), as one statement rule evaluated in the CEL sandbox. Costly: the verifier runs it only on a candidate
 * whose signatures and signer already passed.
 */
export function compileConditions(docs: readonly ConditionDoc[], fail: (index: number, message: string) => GateError): StatementRule[] {
  docs.forEach((d, i) => {
    const wrong = checkExpression(d.expression);
    if (wrong) throw fail(i, `CEL expression ${JSON.stringify(d.expression.length > 200 ? `${d.expression.slice(0, 200)}…` : d.expression)} ${wrong}`);
  });
  const expressions = docs.map((d) => d.expression);
  const label = (i: number): string => `condition ${i + 1}${docs[i]?.message ? ` (${docs[i]?.message})` : ` ${JSON.stringify(docs[i]?.expression)}`}`;
  return [
    {
      name: 'CEL conditions',
      costly: true,
      check: (st: RuleInput): string[] => {
        let bindings: Record<string, unknown>;
        try {
          const statement = celInput(st) as Record<string, unknown>;
          bindings = { statement, predicate: statement.predicate ?? {}, subject: statement.subject ?? [] };
        } catch (err) {
          return [`the statement cannot be evaluated: it ${(err as Error).message}`];
        }
        let results;
        try {
          results = evaluateConditions(expressions, bindings);
        } catch (err) {
          return [(err as Error).message];
        }
        return results.flatMap((r, i) => ('error' in r ? [`${label(i)}: evaluation error: ${r.error}`] : r.value ? [] : [`${label(i)} is false`]));
      },
    },
  ];
}
