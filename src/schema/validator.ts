import type { ErrorObject, ValidateFunction } from 'ajv';
import { capped } from '../text.ts';
import { compile } from './compile.ts';
import type { ValidatorSpec } from './spec.ts';

export type { ValidatorSpec } from './spec.ts';

/** The first ajv error as "<path> <message>", the path prefixed with `at` (the instance's own location). */
export function firstAjvError(errors: readonly ErrorObject[] | null | undefined, at = ''): string {
  const e = errors?.[0];
  // The path names the data's own keys, which may come from a peer.
  return `${capped(`${at}${e?.instancePath ?? ''}`) || '/'} ${e?.message ?? 'is invalid'}`;
}

const specs = new Map<string, ValidatorSpec>();

/** Every validator declared so far (by the modules loaded): what scripts/build.ts generates code for. */
export function declaredValidators(): readonly ValidatorSpec[] {
  return [...specs.values()];
}

function declare(spec: ValidatorSpec): ValidatorSpec {
  if (specs.has(spec.name)) throw new Error(`validator ${spec.name} declared twice`);
  specs.set(spec.name, spec);
  return spec;
}

/** A type guard, compiled (or, in the bundle, looked up) on first use; `errors` holds the last call's ajv errors. */
export type LazyGuard<T> = ((value: unknown) => value is T) & { errors?: ErrorObject[] | null };

export function lazyGuard<T>(name: string, schema: ValidatorSpec['schema'], more: Omit<ValidatorSpec, 'name' | 'schema'> = {}): LazyGuard<T> {
  const spec = declare({ name, schema, ...more });
  let fn: ValidateFunction | undefined;
  const guard = ((value: unknown): value is T => {
    fn ??= compile(spec);
    const ok = fn(value);
    guard.errors = fn.errors;
    return ok;
  }) as LazyGuard<T>;
  return guard;
}

/** Returns undefined when `value` is valid, else the first error as "<path> <message>". */
export function lazyValidator(name: string, schema: ValidatorSpec['schema'], more: Omit<ValidatorSpec, 'name' | 'schema'> = {}): (value: unknown) => string | undefined {
  const guard = lazyGuard<unknown>(name, schema, more);
  return (value) => (guard(value) ? undefined : firstAjvError(guard.errors));
}
