import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import vsaSchema from '../../schemas/vsa/vsa-v1.schema.json' with { type: 'json' };

let validator: ValidateFunction | undefined;

function compiled(): ValidateFunction {
  if (!validator) {
    const ajv = new Ajv({ allErrors: false, strict: false });
    addFormats.default(ajv);
    validator = ajv.compile(vsaSchema);
  }
  return validator;
}

/**
 * Checks an in-toto Statement v1 carrying a SLSA VSA v1 predicate against schemas/vsa/vsa-v1.schema.json.
 * Returns undefined when valid, else the first error as "path message".
 */
export function validateVsa(statement: unknown): string | undefined {
  const fn = compiled();
  if (fn(statement)) return undefined;
  const e = fn.errors?.[0];
  return e ? `${e.instancePath || '/'} ${e.message ?? 'is invalid'}` : 'is invalid';
}
