import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';
import { capped } from '../text.ts';

/** The first ajv error as "<path> <message>", the path prefixed with `at` (the instance's own location). */
export function firstAjvError(errors: readonly ErrorObject[] | null | undefined, at = ''): string {
  const e = errors?.[0];
  // The path names the data's own keys, which may come from a peer.
  return `${capped(`${at}${e?.instancePath ?? ''}`) || '/'} ${e?.message ?? 'is invalid'}`;
}

/**
 * A fresh ajv with the standard formats (uri, date-time, byte, ...). The schemas rekor-gate ships are not
 * checked against the JSON Schema meta-schema at run time (compiling the meta-schema is most of a first
 * compile's cost); test/schema/shipped-schemas.test.ts checks them all once.
 */
export function newAjv(opts: Options = {}): Ajv {
  const ajv = new Ajv({ allErrors: false, validateSchema: false, ...opts });
  ajvFormats.default(ajv);
  return ajv;
}

const shared = new Map<string, Ajv>();

/**
 * One ajv per set of options for the whole process: each instance compiles the JSON Schema meta-schema
 * once, which is most of what a first compile costs. Schemas compiled on it must have distinct $ids.
 */
export function sharedAjv(opts: Options = {}): Ajv {
  const key = JSON.stringify(opts);
  let ajv = shared.get(key);
  if (!ajv) {
    ajv = newAjv(opts);
    shared.set(key, ajv);
  }
  return ajv;
}

/**
 * A validator compiled on first use (so a command that never needs a schema never compiles it):
 * returns undefined when `value` is valid, else the first error as "<path> <message>".
 */
export function lazyValidator(schema: object, opts: Options = {}): (value: unknown) => string | undefined {
  let fn: ValidateFunction | undefined;
  return (value) => {
    fn ??= sharedAjv(opts).compile(schema);
    return fn(value) ? undefined : firstAjvError(fn.errors);
  };
}

/** A type guard compiled on first use; `errors` holds the last call's ajv errors. */
export type LazyGuard<T> = ((value: unknown) => value is T) & { errors?: ErrorObject[] | null };

export function lazyGuard<T>(schema: object, opts: Options = {}): LazyGuard<T> {
  let fn: ValidateFunction<T> | undefined;
  const guard = ((value: unknown): value is T => {
    fn ??= sharedAjv(opts).compile<T>(schema);
    const ok = fn(value);
    guard.errors = fn.errors;
    return ok;
  }) as LazyGuard<T>;
  return guard;
}
