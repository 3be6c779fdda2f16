import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { ImageRecord, ImageResults } from './image-library.ts';
import type { CelAnswer, CelRequest, CelResult } from './protocol.ts';

/**
 * Evaluates CEL conditions in a worker thread, synchronously for the caller, within a deadline: the main thread
 * waits on a shared flag (Atomics.wait) for at most the deadline, then stops the worker if it has not answered.
 * No npm CEL implementation tracks cost as Kubernetes' CEL does, so a condition that loops over a large list
 * inside another, or builds huge strings, is stopped by the deadline or by the worker's heap limit
 * (resourceLimits), and fails; the step itself never hangs on it nor runs out of memory.
 */

export const SANDBOX = {
  /** How long one statement's conditions may take, all together. */
  deadlineMs: 2000,
  /** How long the worker may take to start (load the CEL library), before the first evaluation's deadline. */
  startMs: 15_000,
  /** The worker's heap. */
  resourceLimits: { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 8, stackSizeMb: 4 },
} as const;

/**
 * The worker's module: src/policy/cel/worker.ts beside this file when the sources run (tests), the bundle's
 * dist/cel-worker.js (scripts/build.ts makes it an entry point) when dist/ runs, found from this chunk's place.
 */
function workerFile(): string {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return fileURLToPath(new URL('./worker.ts', here));
  for (const rel of ['./cel-worker.js', '../cel-worker.js']) {
    const f = fileURLToPath(new URL(rel, here));
    if (existsSync(f)) return f;
  }
  throw new Error('the CEL worker (cel-worker.js) is not beside the program');
}

type Running = { readonly worker: Worker; readonly port: MessagePort; readonly signal: Int32Array; started: boolean };

let running: Running | undefined;
let nextId = 1;

function start(): Running {
  const { port1, port2 } = new MessageChannel();
  const flag = new SharedArrayBuffer(8);
  const worker = new Worker(workerFile(), {
    workerData: { port: port2, flag },
    transferList: [port2],
    resourceLimits: SANDBOX.resourceLimits,
    stdout: true,
    stderr: true,
  });
  // Neither keeps the process alive: the run ends when its work is done.
  worker.unref();
  port1.unref();
  const r: Running = { worker, port: port1, signal: new Int32Array(flag), started: false };
  worker.on('error', () => {
    // A worker that died (out of memory, say) answers nothing: the waiting evaluation times out and fails.
  });
  // Once the event loop has run, a dead worker is replaced at the next evaluation instead of waited on.
  worker.on('exit', () => {
    if (running === r) running = undefined;
  });
  return r;
}

function stop(r: Running): void {
  void r.worker.terminate();
  r.port.close();
  if (running === r) running = undefined;
}

/** Stops the worker, if one runs (tests; the process ending stops it too). */
export function stopSandbox(): void {
  if (running) stop(running);
}

/**
 * Evaluates each expression over the bindings; one result per expression (its bool, or its error). Throws
 * when the worker does not answer within the deadline (or died): the caller fails the conditions with it.
 */
export function evaluateConditions(expressions: readonly string[], bindings: Readonly<Record<string, unknown>>, deadlineMs: number = SANDBOX.deadlineMs): readonly CelResult[] {
  return evaluate({ expressions, bindings }, deadlineMs).results;
}

/** As evaluateConditions, with Kyverno's image library over `image`'s results; also what the functions recorded. */
export function evaluateWithImageLibrary(
  expressions: readonly string[],
  bindings: Readonly<Record<string, unknown>>,
  image: ImageResults,
  deadlineMs: number = SANDBOX.deadlineMs,
): { results: readonly CelResult[]; record: ImageRecord } {
  const a = evaluate({ expressions, bindings, image }, deadlineMs);
  return { results: a.results, record: a.record ?? { attempted: false, verified: false } };
}

function evaluate(body: Omit<CelRequest, 'id'>, deadlineMs: number): CelAnswer {
  const r = (running ??= start());
  if (!r.started) {
    if (Atomics.wait(r.signal, 1, 0, SANDBOX.startMs) === 'timed-out') {
      stop(r);
      throw new Error(`the CEL evaluator did not start within ${SANDBOX.startMs / 1000} s`);
    }
    r.started = true;
  }
  const id = nextId++;
  Atomics.store(r.signal, 0, 0);
  const req: CelRequest = { id, ...body };
  r.worker.postMessage(req);
  const until = Date.now() + deadlineMs;
  for (;;) {
    const left = until - Date.now();
    if (left <= 0 || Atomics.wait(r.signal, 0, 0, left) === 'timed-out') {
      stop(r);
      throw new Error(`the conditions did not finish within ${deadlineMs} ms (or exceeded the evaluator's ${SANDBOX.resourceLimits.maxOldGenerationSizeMb} MiB heap)`);
    }
    if (Atomics.load(r.signal, 0) === id) break;
  }
  const msg = receiveMessageOnPort(r.port)?.message as CelAnswer | undefined;
  if (!msg || msg.id !== id) {
    stop(r);
    throw new Error('the CEL evaluator answered out of turn');
  }
  return msg;
}
