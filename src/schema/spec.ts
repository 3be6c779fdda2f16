import type { Options } from 'ajv';

/** One JSON shape rekor-gate checks: what scripts/build.ts compiles to a standalone validator, by name. */
export type ValidatorSpec = {
  /** Unique in the program: the name of its generated validator. */
  readonly name: string;
  /** The JSON Schema, or a function that builds it (called once, when compiled). */
  readonly schema: object | (() => object);
  /** ajv options beyond the defaults (allErrors off, no meta-schema check). */
  readonly options?: Options;
  /** Formats that accept any string (checked elsewhere). */
  readonly anyFormats?: readonly string[];
  /** Schemas the schema's `$ref`s name, by their `$id`. */
  readonly refs?: () => readonly object[];
};
