/**
 * Checks that Tekton's webhook and controller would make at run time, which no schema expresses: variable
 * references resolve, Pipelines pass params, workspaces and results by the names the Tasks declare, and
 * `when` expressions read results that exist. Each function returns the problems found ("" = none).
 */
import { readResource } from '../../scripts/tekton-resources.ts';
import { CATALOG_REPO, CATALOG_REVISION, taskInterface, UPSTREAM_TASKS, type TaskInterface } from './upstream.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Every string in a value, with its path. */
export function strings(v: unknown, at = ''): { at: string; s: string }[] {
  if (typeof v === 'string') return [{ at, s: v }];
  if (Array.isArray(v)) return v.flatMap((x, i) => strings(x, `${at}[${i}]`));
  if (isObj(v)) return Object.entries(v).flatMap(([k, x]) => strings(x, at ? `${at}.${k}` : k));
  return [];
}

/** `$(...)` references in a string. */
export function refs(s: string): string[] {
  return [...s.matchAll(/\$\(([^()]+)\)/g)].map((m) => m[1]!.trim());
}

/** A Task's (or a StepAction's) own references: params, results, workspaces, step results. */
export function lintTaskLike(doc: Obj): string[] {
  const spec = doc.spec as Obj;
  const problems: string[] = [];
  const params = arr(spec.params).map((p) => str(p.name));
  const results = arr(spec.results).map((r) => str(r.name));
  const workspaces = arr(spec.workspaces).map((w) => str(w.name));
  const isStepAction = doc.kind === 'StepAction';
  const used = new Set<string>();
  for (const list of [params, results, workspaces]) {
    const dup = list.find((n, i) => list.indexOf(n) !== i);
    if (dup) problems.push(`"${dup}" is declared twice`);
  }
  const scanned = strings(isStepAction ? spec : { steps: spec.steps, volumes: spec.volumes, results: spec.results });
  // Descriptions are prose for humans; Tekton substitutes nothing in them.
  for (const { at, s } of scanned.filter((x) => !/(^|\.)description$/.test(x.at))) {
    for (const r of refs(s)) {
      let m: RegExpExecArray | null;
      if ((m = /^params\.([\w.-]+)$/.exec(r))) {
        used.add(m[1]!);
        if (!params.includes(m[1]!)) problems.push(`${at}: $(${r}) - no such param`);
      } else if ((m = /^results\.([\w-]+)\.path$/.exec(r)) && !isStepAction) {
        if (!results.includes(m[1]!)) problems.push(`${at}: $(${r}) - no such result`);
      } else if ((m = /^step\.results\.([\w-]+)\.path$/.exec(r)) && isStepAction) {
        if (!results.includes(m[1]!)) problems.push(`${at}: $(${r}) - no such result`);
      } else if ((m = /^workspaces\.([\w-]+)\.(path|bound)$/.exec(r)) && !isStepAction) {
        if (!workspaces.includes(m[1]!)) problems.push(`${at}: $(${r}) - no such workspace`);
      } else if ((m = /^steps\.([\w-]+)\.results\.([\w-]+)$/.exec(r)) && !isStepAction && at.startsWith('results')) {
        const step = arr(spec.steps).find((x) => x.name === m![1]);
        if (!step) problems.push(`${at}: $(${r}) - no such step`);
      } else {
        problems.push(`${at}: $(${r}) is not a reference this ${String(doc.kind)} can make`);
      }
    }
  }
  for (const p of params) if (!used.has(p)) problems.push(`param ${p} is declared but never used`);
  return problems;
}

/** The interface of the Task a PipelineTask runs (ours by name, the catalog's through the git resolver). */
export function resolveTaskRef(taskRef: unknown, ours: Readonly<Record<string, TaskInterface>>): TaskInterface | string {
  if (!isObj(taskRef)) return 'taskRef is missing (inline taskSpec is not used in these Pipelines)';
  if (taskRef.resolver === 'git') {
    const rp = Object.fromEntries(arr(taskRef.params).map((x) => [str(x.name), str(x.value)]));
    if (rp.url !== CATALOG_REPO) return `git resolver url ${rp.url ?? ''} is not the Tekton catalog`;
    if (rp.revision !== CATALOG_REVISION) return `git resolver revision ${rp.revision ?? ''} is not the pinned commit ${CATALOG_REVISION} (never a branch)`;
    const t = UPSTREAM_TASKS[rp.pathInRepo ?? ''];
    return t ?? `catalog task ${rp.pathInRepo ?? ''} is not one whose interface the tests know`;
  }
  if (taskRef.resolver !== undefined) return `resolver ${String(taskRef.resolver)} is not checked here`;
  const t = ours[str(taskRef.name)];
  return t ?? `Task ${str(taskRef.name)} is not one of this repository's`;
}

/** A Pipeline against the interfaces of the Tasks it runs. */
export function lintPipeline(doc: Obj, ours: Readonly<Record<string, TaskInterface>>): string[] {
  const spec = doc.spec as Obj;
  const problems: string[] = [];
  const params = arr(spec.params).map((p) => str(p.name));
  const usedParams = new Set<string>();
  const pws = new Map(arr(spec.workspaces).map((w) => [str(w.name), w.optional === true]));
  const tasks = [...arr(spec.tasks), ...arr(spec.finally)];
  const ifaces = new Map<string, TaskInterface>();
  for (const t of tasks) {
    const i = resolveTaskRef(t.taskRef, ours);
    if (typeof i === 'string') problems.push(`task ${str(t.name)}: ${i}`);
    else ifaces.set(str(t.name), i);
  }
  const checkRefs = (value: unknown, at: string): void => {
    for (const { at: where, s } of strings(value, at)) {
      for (const r of refs(s)) {
        let m: RegExpExecArray | null;
        if ((m = /^params\.([\w.-]+)$/.exec(r))) {
          usedParams.add(m[1]!);
          if (!params.includes(m[1]!)) problems.push(`${where}: $(${r}) - no such Pipeline param`);
        } else if ((m = /^tasks\.([\w-]+)\.results\.([\w-]+)$/.exec(r))) {
          const i = ifaces.get(m[1]!);
          if (!tasks.some((t) => t.name === m![1])) problems.push(`${where}: $(${r}) - no task ${m[1]}`);
          else if (i && !i.results.includes(m[2]!)) {
            problems.push(`${where}: $(${r}) - task ${m[1]} emits no result ${m[2]} (it emits ${i.results.join(', ') || 'none'})`);
          }
        } else if (!/^context\./.test(r)) {
          problems.push(`${where}: $(${r}) is not a reference a Pipeline can make`);
        }
      }
    }
  };
  for (const t of tasks) {
    const name = str(t.name);
    const i = ifaces.get(name);
    const given = arr(t.params).map((p) => str(p.name));
    checkRefs(t.params, `tasks[${name}].params`);
    checkRefs(t.when, `tasks[${name}].when`);
    for (const r of (Array.isArray(t.runAfter) ? t.runAfter : []) as unknown[]) {
      if (!tasks.some((x) => x.name === r)) problems.push(`tasks[${name}].runAfter: no task ${String(r)}`);
    }
    for (const w of arr(t.when)) {
      if (!['in', 'notin'].includes(str(w.operator))) problems.push(`tasks[${name}].when: operator ${str(w.operator)}`);
      if (!Array.isArray(w.values) || w.values.length === 0) problems.push(`tasks[${name}].when: values must not be empty`);
      if (!/^\$\((tasks\.[\w-]+\.results\.[\w-]+|params\.[\w.-]+)\)$/.test(str(w.input))) {
        problems.push(`tasks[${name}].when: input ${str(w.input)} reads neither a result nor a param`);
      }
    }
    if (!i) continue;
    for (const g of given) if (!i.params.some((p) => p.name === g)) problems.push(`tasks[${name}]: the Task has no param ${g}`);
    for (const p of i.params) if (p.required && !given.includes(p.name)) problems.push(`tasks[${name}]: required param ${p.name} is not given`);
    const bound = arr(t.workspaces);
    for (const b of bound) {
      const tw = i.workspaces.find((x) => x.name === b.name);
      if (!tw) problems.push(`tasks[${name}]: the Task has no workspace ${str(b.name)}`);
      const pw = pws.get(str(b.workspace));
      if (pw === undefined) problems.push(`tasks[${name}]: no Pipeline workspace ${str(b.workspace)}`);
      else if (pw && tw && !tw.optional) problems.push(`tasks[${name}]: optional Pipeline workspace ${str(b.workspace)} bound to required Task workspace ${tw.name}`);
    }
    for (const tw of i.workspaces) {
      if (!tw.optional && !bound.some((b) => b.name === tw.name)) problems.push(`tasks[${name}]: required workspace ${tw.name} is not bound`);
    }
  }
  checkRefs(spec.results, 'results');
  for (const p of params) if (!usedParams.has(p)) problems.push(`param ${p} is declared but never used`);
  return problems;
}

/** Our Tasks' interfaces, by name. */
export function ourTasks(): Record<string, TaskInterface> {
  return { 'rekor-gate': taskInterface(readResource('task/rekor-gate/0.1/rekor-gate.yaml')) };
}

/** A TaskRun or PipelineRun sample against the interface of what it runs. */
export function lintRun(run: Obj, iface: TaskInterface): string[] {
  const spec = run.spec as Obj;
  const problems: string[] = [];
  const given = arr(spec.params).map((p) => str(p.name));
  for (const g of given) if (!iface.params.some((p) => p.name === g)) problems.push(`param ${g} is not declared`);
  for (const p of iface.params) if (p.required && !given.includes(p.name)) problems.push(`required param ${p.name} is not given`);
  const ws = arr(spec.workspaces).map((w) => str(w.name));
  for (const w of ws) if (!iface.workspaces.some((x) => x.name === w)) problems.push(`workspace ${w} is not declared`);
  for (const w of iface.workspaces) if (!w.optional && !ws.includes(w.name)) problems.push(`required workspace ${w.name} is not bound`);
  return problems;
}
