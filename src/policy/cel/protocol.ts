/** What the main thread sends the CEL worker, and what it answers (src/policy/cel/sandbox.ts, worker.ts). */
export type CelRequest = { readonly id: number; readonly expressions: readonly string[]; readonly bindings: Readonly<Record<string, unknown>> };
export type CelResult = { readonly value: boolean } | { readonly error: string };
export type CelAnswer = { readonly id: number; readonly results: readonly CelResult[] };
