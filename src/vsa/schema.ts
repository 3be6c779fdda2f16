import vsaSchema from '../../schemas/vsa/vsa-v1.schema.json' with { type: 'json' };
import { lazyValidator } from '../schema/validator.ts';

/**
 * Checks an in-toto Statement v1 carrying a SLSA VSA v1 predicate against schemas/vsa/vsa-v1.schema.json.
 * Returns undefined when valid, else the first error as "path message".
 */
export const validateVsa: (statement: unknown) => string | undefined = lazyValidator('vsa', vsaSchema, { options: { strict: false } });
