import { Ajv, type ValidateFunction } from 'ajv';
import envelopeSchema from '../../schemas/attest/dsse-envelope.schema.json' with { type: 'json' };
import statementSchema from '../../schemas/attest/in-toto-statement.schema.json' with { type: 'json' };

let ajv: Ajv | undefined;
const cache = new Map<string, ValidateFunction>();

function compiled(name: string, schema: object): ValidateFunction {
  let fn = cache.get(name);
  if (!fn) {
    ajv ??= new Ajv({ allErrors: false, strict: false });
    fn = ajv.compile(schema);
    cache.set(name, fn);
  }
  return fn;
}

/** Returns undefined when valid, else the first ajv error as "path message". */
export function schemaError(which: 'envelope' | 'statement', value: unknown): string | undefined {
  const fn = which === 'envelope' ? compiled(which, envelopeSchema) : compiled(which, statementSchema);
  if (fn(value)) return undefined;
  const e = fn.errors?.[0];
  return e ? `${e.instancePath || '/'} ${e.message ?? 'is invalid'}` : 'is invalid';
}
