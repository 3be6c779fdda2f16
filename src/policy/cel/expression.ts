import { celEnv, parse } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';

/**
 * CEL expressions of a policy, checked when the policy loads (the CEL implementation is @bufbuild/cel, a CEL
 * interpreter: it parses the expression to an AST and walks it; nothing is compiled to JavaScript).
 * Bounds a policy cannot exceed: the expression's length, its AST's size and depth, and the functions it calls
 * (every one must exist, so a typo is a usage error when the policy loads, not a failure at each image).
 */

export const LIMITS = {
  /** Characters of one expression (the policy schema says the same). */
  maxLength: 4096,
  /** Nodes of its AST (macros count as what they expand to). */
  maxNodes: 2000,
  /** Nesting of its AST. */
  maxDepth: 50,
} as const;

/** Calls the planner handles itself (logic, conditional, index), not looked up as functions. */
const BUILT_IN = new Set(['_&&_', '_||_', '_?_:_', '@not_strictly_false', '_[_]', '_[?_]', '_?._']);

/** The functions an expression may call: the CEL standard library and the strings extension. */
export function celFunctions(): typeof strings {
  return strings;
}

type Expr = ReturnType<typeof parse>['expr'];

/** The AST's children of one node. */
function children(e: NonNullable<Expr>): (Expr | undefined)[] {
  const k = e.exprKind;
  switch (k.case) {
    case 'selectExpr':
      return [k.value.operand];
    case 'callExpr':
      return [k.value.target, ...k.value.args];
    case 'listExpr':
      return k.value.elements;
    case 'structExpr':
      return k.value.entries.flatMap((en) => [en.keyKind.case === 'mapKey' ? en.keyKind.value : undefined, en.value]);
    case 'comprehensionExpr':
      return [k.value.iterRange, k.value.accuInit, k.value.loopCondition, k.value.loopStep, k.value.result];
    default:
      return [];
  }
}

/**
 * Parses and checks one expression: syntax, size, depth, and that every function it calls exists.
 * Returns what is wrong, or undefined.
 */
export function checkExpression(source: string, more: ReadonlySet<string> = new Set()): string | undefined {
  if (source.length > LIMITS.maxLength) return `is ${source.length} characters long, more than ${LIMITS.maxLength}`;
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(source);
  } catch (err) {
    return `is not valid CEL: ${(err as Error).message}`;
  }
  const env = celEnv({ funcs: celFunctions() });
  let nodes = 0;
  const unknownCalls = new Set<string>();
  // An explicit stack, not recursion: the depth is what is being bounded.
  const stack: [Expr | undefined, number][] = [[parsed.expr, 1]];
  while (stack.length > 0) {
    const [e, depth] = stack.pop() as [Expr | undefined, number];
    if (!e) continue;
    nodes++;
    if (nodes > LIMITS.maxNodes) return `has more than ${LIMITS.maxNodes} nodes`;
    if (depth > LIMITS.maxDepth) return `nests deeper than ${LIMITS.maxDepth}`;
    if (e.exprKind.case === 'callExpr') {
      const fn = e.exprKind.value.function;
      if (!BUILT_IN.has(fn) && !more.has(fn) && env.funcs.find(fn) === undefined) unknownCalls.add(fn);
    }
    for (const c of children(e)) stack.push([c, depth + 1]);
  }
  if (unknownCalls.size > 0) return `calls ${[...unknownCalls].map((f) => `'${f}'`).join(', ')}, which CEL does not define (standard library and strings extension)`;
  return undefined;
}
