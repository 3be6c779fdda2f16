import { Ajv, type Options, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';
import type { ValidatorSpec } from './spec.ts';

const quietAboutUnicode = {
  log: (...args: unknown[]): void => console.log(...args),
  warn: (...args: unknown[]): void => {
    if (!String(args[0]).startsWith('DEPRECATED: option unicode')) console.warn(...args);
  },
  error: (...args: unknown[]): void => console.error(...args),
};

/**
 * An ajv set up for one validator: the standard formats (uri, date-time, byte, ...), the spec's own options,
 * its always-valid formats and the schemas its `$ref`s name. The shipped schemas are not checked against the
 * JSON Schema meta-schema here; test/schema/shipped-schemas.test.ts checks them all once.
 * scripts/build.ts generates the bundle's validators from the same ajv (`extra` adds its code options).
 */
export function ajvFor(spec: ValidatorSpec, extra: Options = {}): Ajv {
  // unicode off: string lengths as `.length` instead of counting code points character by character, which
  // walked every certificate and entry body in full for `minLength: 1`, the only length any shipped schema
  // states (for a non-empty test both counts agree). test/schema/standalone.test.ts holds the schemas to it.
  // ajv marks the option deprecated (and says so on every instance); that one notice is left out.
  const ajv = new Ajv({ allErrors: false, validateSchema: false, unicode: false, logger: quietAboutUnicode, ...spec.options, ...extra });
  ajvFormats.default(ajv);
  for (const f of spec.anyFormats ?? []) ajv.addFormat(f, true);
  for (const r of spec.refs?.() ?? []) ajv.addSchema(r);
  return ajv;
}

/**
 * Compiles a validator from its schema at run time: what runs from the sources (vitest, `node src/...`).
 * The bundle never does: scripts/build.ts puts in place of this module the validators ajv generated at build
 * time (ajv/dist/standalone), looked up by the spec's name.
 */
export function compile(spec: ValidatorSpec): ValidateFunction {
  return ajvFor(spec).compile(typeof spec.schema === 'function' ? spec.schema() : spec.schema);
}
