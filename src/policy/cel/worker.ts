// The CEL sandbox's worker thread (src/policy/cel/sandbox.ts starts it): evaluates policy conditions with
// @bufbuild/cel, away from the main thread, so that the main thread can stop it at a deadline and its heap is
// capped by the Worker's resourceLimits. Answers on the port it was given, then wakes the main thread.
import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { celEnv, isCelError, parse, plan, type CelInput } from '@bufbuild/cel';
import { celFunctions } from './expression.ts';
import { imageFunctions, type ImageRecord } from './image-library.ts';
import type { CelAnswer, CelRequest } from './protocol.ts';

type Setup = { readonly port: MessagePort; readonly flag: SharedArrayBuffer };

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'double';
  return typeof v === 'object' ? 'a list, map or message' : typeof v;
}

function evaluateAll(req: CelRequest, plans: Map<string, ReturnType<typeof plan>>): CelAnswer {
  // The image library's functions are bound to this request's results: its plans are not kept.
  const record: ImageRecord = { attempted: false, verified: false };
  const env = celEnv({ funcs: req.image ? [...celFunctions(), ...imageFunctions(req.image, record)] : celFunctions() });
  const results = req.expressions.map((source) => {
    try {
      let p = req.image ? undefined : plans.get(source);
      if (!p) {
        p = plan(env, parse(source));
        if (!req.image) plans.set(source, p);
      }
      const v = p(req.bindings as Record<string, CelInput>);
      if (isCelError(v)) return { error: v.message };
      if (typeof v !== 'boolean') return { error: `evaluates to ${typeName(v)}, not a bool` };
      return { value: v };
    } catch (err) {
      return { error: err instanceof Error ? err.message : String(err) };
    }
  });
  return { id: req.id, results, ...(req.image ? { record } : {}) };
}

if (!isMainThread && parentPort) {
  const { port, flag } = workerData as Setup;
  const signal = new Int32Array(flag);
  const plans = new Map<string, ReturnType<typeof plan>>();
  Atomics.store(signal, 1, 1); // loaded
  Atomics.notify(signal, 1);
  parentPort.on('message', (req: CelRequest) => {
    port.postMessage(evaluateAll(req, plans));
    Atomics.store(signal, 0, req.id);
    Atomics.notify(signal, 0);
  });
}
