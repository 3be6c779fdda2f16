/** What the main thread sends the CEL worker, and what it answers (src/policy/cel/sandbox.ts, worker.ts). */
import type { ImageRecord, ImageResults } from './image-library.ts';

export type CelRequest = {
  readonly id: number;
  readonly expressions: readonly string[];
  readonly bindings: Readonly<Record<string, unknown>>;
  /** With Kyverno's image library, over these verification results. */
  readonly image?: ImageResults;
};
export type CelResult = { readonly value: boolean } | { readonly error: string };
export type CelAnswer = { readonly id: number; readonly results: readonly CelResult[]; readonly record?: ImageRecord };
