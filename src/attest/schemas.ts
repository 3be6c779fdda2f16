import envelopeSchema from '../../schemas/attest/dsse-envelope.schema.json' with { type: 'json' };
import statementSchema from '../../schemas/attest/in-toto-statement.schema.json' with { type: 'json' };
import { lazyValidator } from '../schema/validator.ts';

const validators = { envelope: lazyValidator('dsse-envelope', envelopeSchema), statement: lazyValidator('in-toto-statement', statementSchema) };

/** Returns undefined when valid, else the first ajv error as "path message". */
export function schemaError(which: 'envelope' | 'statement', value: unknown): string | undefined {
  return validators[which](value);
}
