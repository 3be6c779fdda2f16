import { describe, exact, matches, regexp, type Matcher } from '../matcher.ts';
import { buildFacts, NEEDS_SLSA_TEKTON, SLSA_BUILD_TYPE, NotChainsProvenance, type BuildFacts, type TaskFact, type Values } from './facts.ts';
import { describeSource, matchSource, normalizeGitUrl, writtenPin, type SourcePattern } from './refs.ts';
import type { ParamValue } from './shapes.ts';

/**
 * The provenance rules of a policy file (docs/policy.md, "Provenance rules"): pure functions from a statement's
 * predicate to the failures found, each naming the rule, the Task or material, and the value found.
 */

export type SourceRule = readonly { readonly repository: string; readonly commits?: readonly string[] }[];
export type TrustedTasksRule = readonly SourcePattern[];
export type ValueRule = { readonly name: string; readonly value?: string; readonly pattern?: string; readonly task?: string };
export type RequiredTask = {
  readonly name?: string;
  readonly bundle?: string;
  readonly git?: string;
  readonly path?: string;
  readonly result?: { readonly name: string; readonly value?: string; readonly pattern?: string };
};
export type ProvenanceRulesDoc = {
  readonly source?: SourceRule;
  readonly trustedTasks?: TrustedTasksRule;
  readonly requiredTasks?: readonly RequiredTask[];
  readonly parameters?: { readonly forbidden?: readonly ValueRule[]; readonly required?: readonly ValueRule[] };
};

/** A statement as the rules see it. */
export type RuleInput = { readonly predicateType: string; readonly predicate?: unknown };

/** A compiled rule: its name, and what fails (empty: it holds). */
export type StatementRule = {
  readonly name: string;
  readonly check: (st: RuleInput) => readonly string[];
  /** Costly to judge (a CEL evaluation): judged only once the candidate's signatures and signer passed. */
  readonly costly?: boolean;
};

const MAX_SHOWN = 200;
const show = (v: ParamValue | undefined): string => {
  const text = v === undefined ? '(none)' : typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v);
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
};

/** A value as text, for matching: a string as is, an array or object as its JSON. */
const asText = (v: ParamValue): string => (typeof v === 'string' ? v : JSON.stringify(v));

/** `value` (exact) or `pattern` (RE2, unanchored): the matcher; neither: any value. */
function valueMatcher(r: { value?: string; pattern?: string }, at: string): Matcher | undefined {
  if (r.value !== undefined) return exact(r.value);
  if (r.pattern !== undefined) return regexp(r.pattern, `${at} pattern`);
  return undefined;
}

function sourceRule(rule: SourceRule): (f: BuildFacts) => string[] {
  return (f) => {
    if (f.sources.length === 0) {
      return [
        `no git source is recorded (${f.format} keeps it as ${f.format.startsWith('SLSA v0.2') ? 'a materials entry' : "a resolvedDependencies entry named 'inputs/result'"} git+<url>.git {sha1: commit}, from the CHAINS-GIT_URL and CHAINS-GIT_COMMIT params or results of the build)`,
      ];
    }
    const out: string[] = [];
    for (const s of f.sources) {
      const repo = rule.find((r) => normalizeGitUrl(r.repository) === normalizeGitUrl(s.uri));
      if (!repo) out.push(`material ${s.uri}: not one of the allowed repositories (${rule.map((r) => r.repository).join(', ')}); found ${describeSource(s)}`);
      else if (repo.commits && !repo.commits.includes(s.digest.sha1 ?? '')) out.push(`material ${s.uri}: commit ${s.digest.sha1 ?? '(none)'} is not one of the allowed commits of ${repo.repository}`);
    }
    return out;
  };
}

function trustedTasksRule(rule: TrustedTasksRule): (f: BuildFacts) => string[] {
  const allowed = rule.map((p) => ('bundle' in p ? `bundle ${p.bundle}` : `git ${p.git}${p.path ? ` under ${p.path}` : ''}`)).join(', ');
  return (f) => {
    const out: string[] = [];
    if (!f.allTasks.known) out.push(`cannot tell that every Task of the PipelineRun came from a trusted source: ${f.allTasks.why}`);
    for (const t of f.tasks) {
      if (t.written.known && t.written.value === 'inline') {
        out.push(`${t.label}: defined inline (taskSpec), not from a trusted source (allowed: ${allowed})`);
        continue;
      }
      if (!t.source) {
        out.push(`${t.label}: no resolved source is recorded (a Task referenced by name in the cluster?), not from a trusted source (allowed: ${allowed})`);
        continue;
      }
      const tries = rule.map((p) => matchSource(t, p));
      const hit = tries.find((m) => m.ok);
      if (!hit || !hit.ok) {
        const why = tries.map((m) => (m.ok ? '' : m.why)).filter((w) => !w.startsWith('not ')).join('; ');
        out.push(`${t.label}: from ${describeSource(t.source)}, not a trusted source (allowed: ${allowed})${why ? `: ${why}` : ''}`);
        continue;
      }
      if (hit.pinnedByPolicy) continue; // the resolved digest or commit is one the policy lists
      if (!t.written.known) {
        out.push(`${t.label}: from ${describeSource(t.source)}: cannot tell whether its reference was pinned: ${t.written.why}; or list the allowed digests/commits in the trusted entry`);
        continue;
      }
      const pin = writtenPin(t.written.value as Exclude<typeof t.written.value, 'inline'>);
      if (!pin.pinned) out.push(`${t.label}: referenced as ${pin.as}, not pinned by digest or commit`);
    }
    return out;
  };
}

function findTasks(f: BuildFacts, r: RequiredTask): { found: TaskFact[]; gaps: string[] } {
  const gaps: string[] = [];
  const found = f.tasks.filter((t) => {
    if (t.kind === 'stepAction') return false;
    if (r.name !== undefined) {
      if (!t.name.known) {
        gaps.push(t.name.why);
        return false;
      }
      if (t.name.value !== r.name) return false;
    }
    const pattern: SourcePattern | undefined = r.bundle !== undefined ? { bundle: r.bundle } : r.git !== undefined ? { git: r.git, ...(r.path !== undefined && { path: r.path }) } : undefined;
    return pattern === undefined || matchSource(t, pattern).ok;
  });
  return { found, gaps: [...new Set(gaps)] };
}

const describeRequired = (r: RequiredTask): string =>
  [r.name !== undefined ? `named '${r.name}'` : '', r.bundle !== undefined ? `from bundle ${r.bundle}` : '', r.git !== undefined ? `from git ${r.git}${r.path ? ` under ${r.path}` : ''}` : '']
    .filter(Boolean)
    .join(' ');

function requiredTasksRule(rules: readonly RequiredTask[], at: string): (f: BuildFacts) => string[] {
  const compiled = rules.map((r, i) => ({ r, result: r.result ? valueMatcher(r.result, `${at}/${i}/result`) : undefined }));
  return (f) => {
    const out: string[] = [];
    for (const { r, result } of compiled) {
      const { found, gaps } = findTasks(f, r);
      if (found.length === 0) {
        out.push(`no Task ${describeRequired(r)} ran${gaps.length > 0 ? ` as far as the provenance tells: ${gaps.join('; ')}` : ` (Tasks seen: ${f.tasks.filter((t) => t.kind !== 'stepAction').map((t) => t.label).join(', ') || 'none'})`}`);
        continue;
      }
      if (!r.result) continue;
      const want = r.result;
      const passing = found.some((t) => t.results.known && t.results.value[want.name] !== undefined && (result === undefined || matches(result, asText(t.results.value[want.name] as ParamValue))));
      if (passing) continue;
      for (const t of found) {
        if (!t.results.known) out.push(`${t.label}: its results are not recorded: ${t.results.why}`);
        else {
          const v = t.results.value[want.name];
          out.push(`${t.label}: result ${want.name} ${v === undefined ? 'is missing' : `is ${show(v)}`}${result ? `, expected ${describe(result)}` : ''}`);
        }
      }
    }
    return out;
  };
}

type Scoped = { label: string; params: Values };

/** The param sets a rule looks at: the build's own, and its Tasks' (or the named Task's). */
function scopes(f: BuildFacts, task: string | undefined): { sets: Scoped[]; gaps: string[] } {
  const sets: Scoped[] = [];
  const gaps: string[] = [];
  if (task === undefined) sets.push({ label: `the ${f.run}`, params: f.params });
  for (const t of f.tasks) {
    if (t.kind === 'stepAction') continue;
    if (task !== undefined) {
      if (!t.name.known) {
        gaps.push(`${t.label}: ${t.name.why}`);
        continue;
      }
      if (t.name.value !== task && !(f.run === 'TaskRun' && t.kind === 'task')) continue;
    }
    if (!t.params.known) gaps.push(`${t.label}: its params are not recorded: ${t.params.why}`);
    else if (!(f.run === 'TaskRun' && task === undefined)) sets.push({ label: t.label, params: t.params.value });
  }
  if (!f.allTasks.known) gaps.push(f.allTasks.why);
  return { sets, gaps: [...new Set(gaps)] };
}

function parametersRule(rule: NonNullable<ProvenanceRulesDoc['parameters']>, at: string): (f: BuildFacts) => string[] {
  const forbidden = (rule.forbidden ?? []).map((r, i) => ({ r, m: valueMatcher(r, `${at}/forbidden/${i}`) }));
  const required = (rule.required ?? []).map((r, i) => ({ r, m: valueMatcher(r, `${at}/required/${i}`) }));
  return (f) => {
    const out: string[] = [];
    for (const { r, m } of forbidden) {
      const { sets, gaps } = scopes(f, r.task);
      for (const s of sets) {
        const v = s.params[r.name];
        if (v !== undefined && (m === undefined || matches(m, asText(v)))) out.push(`${s.label}: param ${r.name} is ${show(v)}, which the policy forbids${m ? ` (${describe(m)})` : ''}`);
      }
      // A forbidden param in a Task whose params are not recorded cannot be ruled out.
      for (const g of gaps) out.push(`cannot rule out param ${r.name}${r.task ? ` in Task '${r.task}'` : ''}: ${g}`);
    }
    for (const { r, m } of required) {
      const { sets, gaps } = scopes(f, r.task);
      const hit = sets.some((s) => s.params[r.name] !== undefined && (m === undefined || matches(m, asText(s.params[r.name] as ParamValue))));
      if (hit) continue;
      if (r.task !== undefined && sets.length === 0) {
        out.push(`param ${r.name} of Task '${r.task}': ${gaps.length > 0 ? `not recorded: ${gaps.join('; ')}` : `no Task '${r.task}' ran`}`);
        continue;
      }
      const seen = sets.map((s) => `${s.label}: ${show(s.params[r.name])}`).join(', ');
      out.push(`param ${r.name} must be set${m ? ` to ${describe(m)}` : ''}${r.task ? ` in Task '${r.task}'` : ''}; found ${seen}`);
    }
    return out;
  };
}

/** The long explanation of what Chains' default SLSA v1.0 build type leaves out: in the first failure only. */
function explainOnce(failures: string[]): string[] {
  let said = false;
  return failures.map((f) => {
    if (!f.includes(NEEDS_SLSA_TEKTON)) return f;
    if (!said) {
      said = true;
      return f;
    }
    return f.replace(NEEDS_SLSA_TEKTON, `not recorded by build type ${SLSA_BUILD_TYPE} (see above)`);
  });
}

/** The provenance rules of a policy file, compiled; regexps that RE2 rejects are usage errors naming them. */
export function compileProvenanceRules(doc: ProvenanceRulesDoc, at = '/spec/provenance'): StatementRule[] {
  const parts: [string, (f: BuildFacts) => string[]][] = [];
  if (doc.source) parts.push(['source', sourceRule(doc.source)]);
  if (doc.trustedTasks) parts.push(['trustedTasks', trustedTasksRule(doc.trustedTasks)]);
  if (doc.requiredTasks) parts.push(['requiredTasks', requiredTasksRule(doc.requiredTasks, `${at}/requiredTasks`)]);
  if (doc.parameters) parts.push(['parameters', parametersRule(doc.parameters, `${at}/parameters`)]);
  // The facts are read once per statement, whichever rules ask.
  const seen = new WeakMap<object, BuildFacts | string>();
  const factsOf = (st: RuleInput): BuildFacts | string => {
    const have = seen.get(st);
    if (have !== undefined) return have;
    let facts: BuildFacts | string;
    try {
      facts = buildFacts(st.predicateType, st.predicate);
    } catch (err) {
      if (!(err instanceof NotChainsProvenance)) throw err;
      facts = `not Tekton Chains provenance: ${err.message}`;
    }
    seen.set(st, facts);
    return facts;
  };
  return parts.map(([name, judge]) => ({
    name: `provenance rule ${name}`,
    check: (st) => {
      const facts = factsOf(st);
      return typeof facts === 'string' ? [facts] : explainOnce(judge(facts));
    },
  }));
}
