export {
  buildVsa,
  flagsPolicy,
  imageResourceUri,
  FLAGS_POLICY_URI,
  IN_TOTO_STATEMENT_V1,
  VSA_PREDICATE_TYPE,
  type BuildVsaOptions,
  type ResourceDescriptor,
  type VsaPolicyRef,
  type VsaPredicate,
  type VsaStatement,
} from './statement.ts';
export { validateVsa } from './schema.ts';
export { summaryOf, summaryPolicyOf, type SummaryOptions } from './summary.ts';
export { readSigningKeyFile, signVsa, writeVsa, type SignVsaOptions } from './sign.ts';
export { uploadVsa, type LoggedVsa } from './upload.ts';
