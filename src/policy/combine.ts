import { GateError } from '../errors.ts';
import type { TrustedKey } from '../trust/public-keys.ts';
import type { Policy } from './policy.ts';

/**
 * One Policy from the flags and the policy file (docs/policy.md):
 * - signers: the union (keys deduplicated by fingerprint); at least one overall;
 * - predicateTypes: the intersection when both give a list (each narrows), else whichever is given;
 * - builderIds, predicateSchema, maxAge, minSigners, provenance rules, conditions and source: from the file;
 * - an image signature is required when either asks for one.
 * Flags add trusted signers but never loosen the file's other rules.
 */
export function combinePolicies(flags: Policy | undefined, file: Policy | undefined): Policy {
  const keys: TrustedKey[] = [];
  for (const k of [...(flags?.keys ?? []), ...(file?.keys ?? [])]) {
    if (!keys.some((have) => have.fingerprint === k.fingerprint)) keys.push(k);
  }
  const keyless = [...(flags?.keyless ?? []), ...(file?.keyless ?? [])];
  if (keys.length === 0 && keyless.length === 0) {
    const uri = file?.source?.uri;
    throw new GateError('USAGE', `no signer policy: no trusted key and no keyless identity is given${file ? `, and the policy file${uri ? ` ${uri}` : ''} names no signer` : ''}`, {
      hint: { give: 'signer', withPolicyFile: file !== undefined },
    });
  }

  const fromFlags = flags?.predicateTypes ?? [];
  const fromFile = file?.predicateTypes ?? [];
  let predicateTypes: readonly string[];
  if (fromFlags.length > 0 && fromFile.length > 0) {
    predicateTypes = fromFlags.filter((t, i) => fromFile.includes(t) && fromFlags.indexOf(t) === i);
    if (predicateTypes.length === 0) {
      throw new GateError(
        'USAGE',
        `the predicate types given (${fromFlags.join(', ')}) and the policy file's predicateTypes (${fromFile.join(', ')}) have no type in common: nothing could pass`,
      );
    }
  } else {
    predicateTypes = fromFlags.length > 0 ? fromFlags : fromFile;
  }

  return {
    keys,
    keyless,
    predicateTypes,
    ...(file?.builderIds !== undefined && { builderIds: file.builderIds }),
    ...(file?.predicateSchema !== undefined && { predicateSchema: file.predicateSchema }),
    ...(file?.maxAgeSeconds !== undefined && { maxAgeSeconds: file.maxAgeSeconds }),
    ...(file?.statementRules !== undefined && { statementRules: file.statementRules }),
    ...(file?.minSigners !== undefined && { minSigners: file.minSigners }),
    ...((flags?.requireSignature === true || file?.requireSignature === true) && { requireSignature: true }),
    ...(file?.source !== undefined && { source: file.source }),
  };
}
