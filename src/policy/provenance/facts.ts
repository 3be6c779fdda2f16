import { lazyGuard, firstAjvError } from '../../schema/validator.ts';
import { chainsV02Schema, chainsV1Schema, taskRunContentSchema, type ParamValue, type ResourceDescriptor, type TaskRef, type TaskRunContent, type V02Predicate, type V1Predicate } from './shapes.ts';

/**
 * The facts of a Tekton build as Tekton Chains records them, read from the one place each format keeps them
 * (tektoncd/chains at e44b60fe65e6897e3784ae4cc7f5ffe39581529e):
 *
 * - SLSA v0.2 (formatter `slsa/v1`, pkg/chains/formats/slsa/v1): the source is a `materials` entry
 *   `git+<url>.git` with `{sha1: commit}` (internal/material/material.go, from the CHAINS-GIT_URL/COMMIT params
 *   or results); the run's Task or Pipeline is `invocation.configSource` (attest/attest.go); a PipelineRun's
 *   Tasks are `buildConfig.tasks[]` with the `ref` as the Pipeline wrote it, their resolved
 *   `invocation.configSource`, `invocation.parameters` and `results` (v1/pipelinerun/pipelinerun.go).
 * - SLSA v1.0 (formatters `slsa/v2alpha3`, `slsa/v2alpha4`): the source is a `resolvedDependencies` entry named
 *   `inputs/result`; the run's Task or Pipeline an entry named `task` or `pipeline`, a PipelineRun's Tasks entries
 *   named `pipelineTask`, StepActions `stepAction/<step>` (v2alpha4) (internal/resolved_dependencies); the ref as
 *   written and the run's params are `externalParameters.runSpec` (internal/external_parameters); results are
 *   byproducts `taskRunResults/<taskrun>/<name>` and `pipelineRunResults/<pipelinerun>/<name>`
 *   (internal/results/results.go). With the default build type `https://tekton.dev/chains/v2/slsa` a
 *   `pipelineTask` entry holds only the resolved uri and digest (AddSLSATaskDescriptor); with
 *   `https://tekton.dev/chains/v2/slsa-tekton` its `content` is the whole TaskRun (AddTektonTaskDescriptor).
 */

export const SLSA_BUILD_TYPE = 'https://tekton.dev/chains/v2/slsa';
export const SLSA_TEKTON_BUILD_TYPE = 'https://tekton.dev/chains/v2/slsa-tekton';

/** What a provenance lacks, said once per fact: why it is missing and which Chains setting records it. */
export const NEEDS_SLSA_TEKTON = `SLSA v1.0 provenance of build type ${SLSA_BUILD_TYPE} (Chains' default) records a PipelineRun's Tasks as pipelineTask entries holding only the resolved uri and digest, without their names, params, results, the reference as written, or the Tasks defined inline; set builddefinition.buildtype: ${SLSA_TEKTON_BUILD_TYPE} in Chains' config (chains-config ConfigMap), which records each TaskRun`;

/** A Task (or StepAction, Pipeline) source as resolved by Tekton (its `refSource`): uri, digest, path. */
export type ResolvedSource = { readonly uri: string; readonly digest: Readonly<Record<string, string>>; readonly entryPoint?: string };

/** The reference as the build wrote it (a TaskRef/PipelineRef): a resolver and its params, or a bundle, or a name. */
export type WrittenRef = { readonly resolver?: string; readonly params: Readonly<Record<string, string>>; readonly name?: string; readonly bundle?: string };

export type Values = Readonly<Record<string, ParamValue>>;

/** A fact a provenance may not hold: the value, or why it is not there. */
export type Known<T> = { readonly known: true; readonly value: T } | { readonly known: false; readonly why: string };

export type TaskFact = {
  /** How messages name it: `Task 'build'`, `pipelineTask entry gcr.io/x@sha256:…`, `StepAction of step 'clone'`. */
  readonly label: string;
  readonly kind: 'task' | 'pipelineTask' | 'stepAction';
  /** The PipelineTask's name (a PipelineRun's Tasks). */
  readonly name: Known<string | undefined>;
  /** Where Tekton resolved it from; undefined: defined inline (taskSpec) or by a name in the cluster. */
  readonly source: ResolvedSource | undefined;
  /** The reference as written; 'inline' for a taskSpec. */
  readonly written: Known<WrittenRef | 'inline'>;
  readonly params: Known<Values>;
  readonly results: Known<Values>;
};

export type BuildFacts = {
  readonly format: 'SLSA v0.2 (Chains slsa/v1)' | 'SLSA v1.0 (Chains slsa/v2alpha3 or v2alpha4)';
  readonly run: 'TaskRun' | 'PipelineRun';
  readonly buildType: string;
  /** Git sources: `git+<url>.git` and the commit, as Chains records CHAINS-GIT_URL / CHAINS-GIT_COMMIT. */
  readonly sources: readonly { readonly uri: string; readonly digest: Readonly<Record<string, string>> }[];
  /** Every Task and StepAction the build ran, as far as the provenance records them. */
  readonly tasks: readonly TaskFact[];
  /** Whether `tasks` lists every Task that ran (not so for a v1.0 PipelineRun of the default build type). */
  readonly allTasks: Known<true>;
  /** The run's own params (and, SLSA v0.2, the defaults of its spec) and results. */
  readonly params: Values;
  readonly results: Known<Values>;
};

const V02 = 'https://slsa.dev/provenance/v0.2';
const V1 = 'https://slsa.dev/provenance/v1';

const isV02 = lazyGuard<V02Predicate>('chains-slsa-v0.2', chainsV02Schema);
const isV1 = lazyGuard<V1Predicate>('chains-slsa-v1', chainsV1Schema);
const isTaskRunContent = lazyGuard<TaskRunContent>('chains-taskrun-content', taskRunContentSchema);

/** Thrown when a statement is not provenance of a shape Chains writes: the message says what is wrong. */
export class NotChainsProvenance extends Error {}

const known = <T>(value: T): Known<T> => ({ known: true, value });
const unknown = (why: string): Known<never> => ({ known: false, why });

function written(ref: TaskRef | undefined): WrittenRef | undefined {
  if (!ref) return undefined;
  const params: Record<string, string> = {};
  for (const p of ref.params ?? []) params[p.name] = typeof p.value === 'string' ? p.value : JSON.stringify(p.value);
  if (ref.resolver === undefined && ref.bundle === undefined && ref.name === undefined) return undefined;
  return { ...(ref.resolver !== undefined && { resolver: ref.resolver }), params, ...(ref.name !== undefined && { name: ref.name }), ...(ref.bundle !== undefined && { bundle: ref.bundle }) };
}

function paramMap(list: readonly { name: string; value: ParamValue }[] | undefined): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const p of list ?? []) out[p.name] = p.value;
  return out;
}

function sourceOf(s: { uri?: string; digest?: Record<string, string>; entryPoint?: string } | undefined): ResolvedSource | undefined {
  if (!s?.uri || !s.digest || Object.keys(s.digest).length === 0) return undefined;
  return { uri: s.uri, digest: s.digest, ...(s.entryPoint ? { entryPoint: s.entryPoint } : {}) };
}

const sameSource = (a: { uri: string; digest: Readonly<Record<string, string>> }, b: ResolvedSource | undefined): boolean =>
  b !== undefined && a.uri === b.uri && Object.entries(a.digest).every(([k, v]) => b.digest[k] === v);

function v02Facts(p: V02Predicate): BuildFacts {
  const run = p.buildType.endsWith('/PipelineRun') ? 'PipelineRun' : 'TaskRun';
  const top = sourceOf(p.invocation?.configSource);
  const tasks: TaskFact[] = [];
  const configs: ResolvedSource[] = top ? [top] : [];
  if (run === 'PipelineRun') {
    for (const t of p.buildConfig?.tasks ?? []) {
      const src = sourceOf(t.invocation?.configSource);
      if (src) configs.push(src);
      const ref = written(t.ref);
      tasks.push({
        label: `Task '${t.name ?? '(unnamed)'}'`,
        kind: 'pipelineTask',
        name: known(t.name),
        source: src,
        written: known(ref ?? 'inline'),
        params: known({ ...(t.invocation?.parameters ?? {}) }),
        results: known(Object.fromEntries((t.results ?? []).map((r) => [r.name, r.value]))),
      });
    }
  } else {
    tasks.push({
      label: `the TaskRun's Task${top ? ` (${top.uri})` : ''}`,
      kind: 'task',
      name: known(undefined),
      source: top,
      written: unknown(`SLSA v0.2 provenance of a TaskRun (Chains slsa/v1) records the Task's resolved source (invocation.configSource) but not its reference as written`),
      params: known({ ...(p.invocation?.parameters ?? {}) }),
      results: unknown('SLSA v0.2 provenance of a TaskRun (Chains slsa/v1) does not record its results; the slsa/v2alpha4 format records them as byproducts'),
    });
  }
  const sources = (p.materials ?? [])
    .filter((m) => m.uri.startsWith('git+') && m.digest?.sha1 !== undefined)
    .filter((m) => !configs.some((c) => sameSource({ uri: m.uri, digest: m.digest ?? {} }, c)))
    .map((m) => ({ uri: m.uri, digest: m.digest ?? {} }));
  return {
    format: 'SLSA v0.2 (Chains slsa/v1)',
    run,
    buildType: p.buildType,
    sources,
    tasks,
    allTasks: known(true),
    params: { ...(p.invocation?.parameters ?? {}) },
    results:
      run === 'PipelineRun'
        ? unknown("SLSA v0.2 provenance of a PipelineRun (Chains slsa/v1) records its Tasks' results, not the PipelineRun's own")
        : unknown('SLSA v0.2 provenance of a TaskRun (Chains slsa/v1) does not record its results'),
  };
}

/** A byproduct's `content`: base64 of the result's JSON value (results/results.go); undefined if not JSON. */
function byproductValue(d: ResourceDescriptor): ParamValue | undefined {
  if (d.content === undefined) return undefined;
  try {
    return JSON.parse(Buffer.from(d.content, 'base64').toString('utf8')) as ParamValue;
  } catch {
    return undefined;
  }
}

/**
 * `taskRunResults/<taskrun>/<name>` (slsa/v2alpha4) or `taskRunResults/<name>` (slsa/v2alpha3, which names no
 * run: tektoncd/chains v0.28.1 pkg/chains/formats/slsa/v2alpha3/internal/taskrun/taskrun.go) -> [run or '', name].
 * Tekton result names hold no `/`.
 */
function splitResult(name: string, prefix: string): [string, string] | undefined {
  if (!name.startsWith(`${prefix}/`)) return undefined;
  const rest = name.slice(prefix.length + 1);
  const slash = rest.lastIndexOf('/');
  return slash < 0 ? ['', rest] : [rest.slice(0, slash), rest.slice(slash + 1)];
}

function resultsByRun(byproducts: readonly ResourceDescriptor[], prefix: string): Map<string, Record<string, ParamValue>> {
  const out = new Map<string, Record<string, ParamValue>>();
  for (const b of byproducts) {
    const split = b.name === undefined ? undefined : splitResult(b.name, prefix);
    const value = split ? byproductValue(b) : undefined;
    if (!split || value === undefined) continue;
    const m = out.get(split[0]) ?? {};
    m[split[1]] = value;
    out.set(split[0], m);
  }
  return out;
}

function contentTaskRun(d: ResourceDescriptor): TaskRunContent | undefined {
  if (d.content === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(d.content, 'base64').toString('utf8'));
  } catch {
    throw new NotChainsProvenance(`a pipelineTask entry's content is not JSON`);
  }
  if (!isTaskRunContent(value)) throw new NotChainsProvenance(`a pipelineTask entry's content is not a TaskRun: ${firstAjvError(isTaskRunContent.errors)}`);
  return value;
}

function stepActions(deps: readonly ResourceDescriptor[]): TaskFact[] {
  return deps
    .filter((d) => d.name?.startsWith('stepAction/'))
    .map((d) => ({
      label: `StepAction of step '${(d.name ?? '').slice('stepAction/'.length)}'`,
      kind: 'stepAction' as const,
      name: known((d.name ?? '').slice('stepAction/'.length)),
      source: sourceOf(d),
      written: unknown('SLSA v1.0 provenance (Chains slsa/v2alpha4) records a StepAction as its resolved uri and digest only, not the reference as written'),
      params: unknown('SLSA v1.0 provenance (Chains slsa/v2alpha4) does not record a StepAction\'s params'),
      results: unknown('SLSA v1.0 provenance (Chains slsa/v2alpha4) records step results by TaskRun, not by StepAction'),
    }));
}

function v1Facts(p: V1Predicate): BuildFacts {
  const bd = p.buildDefinition;
  const spec = bd.externalParameters?.runSpec ?? {};
  const deps = bd.resolvedDependencies ?? [];
  const byproducts = p.runDetails?.byproducts ?? [];
  const run = spec.pipelineRef !== undefined || spec.pipelineSpec !== undefined || deps.some((d) => d.name === 'pipeline' || d.name === 'pipelineTask') ? 'PipelineRun' : 'TaskRun';
  const tekton = bd.buildType === SLSA_TEKTON_BUILD_TYPE;
  const taskResults = resultsByRun(byproducts, 'taskRunResults');
  const tasks: TaskFact[] = [];
  let allTasks: Known<true> = known(true);
  let results: Known<Values>;
  if (run === 'TaskRun') {
    const top = deps.find((d) => d.name === 'task');
    const ref = written(spec.taskRef);
    // One TaskRun: every taskRunResults byproduct is its own, named with the run (v2alpha4) or not (v2alpha3).
    const runs = [Object.assign({}, ...taskResults.values()) as Record<string, ParamValue>];
    // The path in the repository is externalParameters.buildConfigSource.path (internal/external_parameters).
    const path = bd.externalParameters?.buildConfigSource?.path;
    const resolved = sourceOf(top);
    tasks.push({
      label: `the TaskRun's Task${top?.uri ? ` (${top.uri})` : ''}`,
      kind: 'task',
      name: known(undefined),
      source: resolved && path ? { ...resolved, entryPoint: path } : resolved,
      written: known(ref ?? 'inline'),
      params: known(paramMap(spec.params)),
      results: known(runs[0] ?? {}),
    });
    results = known(runs[0] ?? {});
  } else {
    for (const d of deps.filter((x) => x.name === 'pipelineTask')) {
      const tr = tekton ? contentTaskRun(d) : undefined;
      if (tr) {
        const name = tr.metadata?.labels?.['tekton.dev/pipelineTask'];
        const fromStatus = Object.fromEntries((tr.status?.results ?? []).map((r) => [r.name, r.value]));
        const fromBy = tr.metadata?.name !== undefined ? taskResults.get(tr.metadata.name) : undefined;
        const ref = written(tr.spec?.taskRef);
        tasks.push({
          label: `Task '${name ?? tr.metadata?.name ?? '(unnamed)'}'`,
          kind: 'pipelineTask',
          name: known(name),
          source: sourceOf(tr.status?.provenance?.refSource) ?? sourceOf(d),
          written: known(ref ?? 'inline'),
          params: known(paramMap(tr.spec?.params)),
          results: known({ ...fromBy, ...fromStatus }),
        });
      } else {
        tasks.push({
          label: `pipelineTask entry ${d.uri ?? '(no uri)'}${d.digest ? ` (${Object.entries(d.digest).map(([k, v]) => `${k}:${v}`).join(', ')})` : ''}`,
          kind: 'pipelineTask',
          name: unknown(NEEDS_SLSA_TEKTON),
          source: sourceOf(d),
          written: unknown(NEEDS_SLSA_TEKTON),
          params: unknown(NEEDS_SLSA_TEKTON),
          results: unknown(NEEDS_SLSA_TEKTON),
        });
      }
    }
    if (!tekton) allTasks = unknown(NEEDS_SLSA_TEKTON);
    const pr = resultsByRun(byproducts, 'pipelineRunResults');
    results = known(Object.assign({}, ...pr.values()) as Record<string, ParamValue>);
  }
  tasks.push(...stepActions(deps));
  const sources = deps.filter((d) => d.name === 'inputs/result' && d.uri?.startsWith('git+') && d.digest?.sha1 !== undefined).map((d) => ({ uri: d.uri as string, digest: d.digest ?? {} }));
  return {
    format: 'SLSA v1.0 (Chains slsa/v2alpha3 or v2alpha4)',
    run,
    buildType: bd.buildType,
    sources,
    tasks,
    allTasks,
    params: paramMap(spec.params),
    results,
  };
}

/**
 * The build's facts from a statement whose predicate Chains wrote. Throws NotChainsProvenance, saying why,
 * for another predicate type or a predicate of another shape.
 */
export function buildFacts(predicateType: string, predicate: unknown): BuildFacts {
  if (predicateType === V02) {
    if (!isV02(predicate)) throw new NotChainsProvenance(`the SLSA v0.2 predicate is not of the shape Chains writes: ${firstAjvError(isV02.errors)}`);
    if (!/^tekton\.dev\/v1(beta1)?\/(TaskRun|PipelineRun)$/.test(predicate.buildType)) {
      throw new NotChainsProvenance(`the SLSA v0.2 buildType ${JSON.stringify(predicate.buildType.slice(0, 200))} is not a Tekton TaskRun or PipelineRun (Chains writes tekton.dev/v1/TaskRun or tekton.dev/v1/PipelineRun)`);
    }
    return v02Facts(predicate);
  }
  if (predicateType === V1) {
    if (!isV1(predicate)) throw new NotChainsProvenance(`the SLSA v1.0 predicate is not of the shape Chains writes: ${firstAjvError(isV1.errors)}`);
    const bt = predicate.buildDefinition.buildType;
    if (bt !== SLSA_BUILD_TYPE && bt !== SLSA_TEKTON_BUILD_TYPE) {
      throw new NotChainsProvenance(`the SLSA v1.0 buildType ${JSON.stringify(bt.slice(0, 200))} is not one Chains writes (${SLSA_BUILD_TYPE} or ${SLSA_TEKTON_BUILD_TYPE})`);
    }
    return v1Facts(predicate);
  }
  throw new NotChainsProvenance(`predicate type ${JSON.stringify(predicateType.slice(0, 200))} is not SLSA provenance (${V02} or ${V1})`);
}
