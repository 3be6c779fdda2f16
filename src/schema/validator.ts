import { Ajv, type ErrorObject, type Options } from 'ajv';
import ajvFormats from 'ajv-formats';

/** The first ajv error as "<path> <message>", the path prefixed with `at` (the instance's own location). */
export function firstAjvError(errors: readonly ErrorObject[] | null | undefined, at = ''): string {
  const e = errors?.[0];
  return `${`${at}${e?.instancePath ?? ''}` || '/'} ${e?.message ?? 'is invalid'}`;
}

/** A fresh ajv with the standard formats (uri, date-time, byte, ...). */
export function newAjv(opts: Options = {}): Ajv {
  const ajv = new Ajv({ allErrors: false, ...opts });
  ajvFormats.default(ajv);
  return ajv;
}

/**
 * A validator compiled on first use (so a command that never needs a schema never compiles it):
 * returns undefined when `value` is valid, else the first error as "<path> <message>".
 */
export function lazyValidator(schema: object, opts: Options = {}): (value: unknown) => string | undefined {
  let fn: ReturnType<Ajv['compile']> | undefined;
  return (value) => {
    fn ??= newAjv(opts).compile(schema);
    return fn(value) ? undefined : firstAjvError(fn.errors);
  };
}
