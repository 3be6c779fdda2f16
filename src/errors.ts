/**
 * One error type for the whole tool. `code` is stable (tools and tests match on it);
 * `message` names the input, the entry and the check that failed.
 */
export type ErrorCode =
  // usage / bad input (exit 2)
  | 'USAGE'
  | 'BAD_DIGEST'
  | 'BAD_KEY'
  | 'BAD_TRUST_ROOT'
  | 'BAD_POLICY'
  | 'BAD_RESULTS_DIR'
  | 'BAD_IMAGE_REF'
  | 'BAD_DOCKER_CONFIG'
  // network (exit 3)
  | 'NETWORK'
  | 'HTTP_STATUS'
  | 'RESPONSE_TOO_LARGE'
  | 'RESPONSE_MALFORMED'
  | 'REGISTRY_DENIED'
  | 'REGISTRY_UNREACHABLE'
  | 'REGISTRY_INSECURE'
  // registry content problems (exit 1): a manifest or tag that is not there, bytes that do not match
  // their digest, a manifest or annotation of the wrong shape
  | 'REGISTRY_NOT_FOUND'
  | 'REGISTRY_DIGEST_MISMATCH'
  | 'REGISTRY_MALFORMED'
  // per-candidate verification failures (exit 1 when no candidate passes)
  | 'ENTRY_UNSUPPORTED_KIND'
  | 'ENTRY_SCHEMA'
  | 'ENTRY_UUID_MISMATCH'
  | 'ENTRY_MALFORMED'
  | 'TLOG_UNTRUSTED_LOG'
  | 'TLOG_SET'
  | 'TLOG_INCLUSION_PROOF'
  | 'TLOG_CHECKPOINT'
  | 'TLOG_INCONSISTENT'
  | 'TLOG_KEY_VALIDITY'
  | 'TLOG_ENTRY_NOT_FOUND'
  | 'BUNDLE_MALFORMED'
  | 'TIMESTAMP'
  | 'ATTESTATION_MISSING'
  | 'ATTESTATION_HASH'
  | 'ATTESTATION_SIGNATURE'
  | 'ATTESTATION_BINDING'
  | 'STATEMENT_MALFORMED'
  | 'SUBJECT_MISMATCH'
  | 'PREDICATE_TYPE'
  | 'VSA_NOT_EVIDENCE'
  | 'SIGNER_UNTRUSTED'
  | 'CERTIFICATE_CHAIN'
  | 'CERTIFICATE_VALIDITY'
  | 'CERTIFICATE_SCT'
  | 'CERTIFICATE_USAGE'
  | 'CERTIFICATE_IDENTITY'
  | 'CERTIFICATE_ISSUER'
  | 'TAG_DIGEST_MISMATCH'
  | 'POLICY'
  | 'NOT_VERIFIED'
  | 'PLATFORM_MISSING'
  | 'INTERNAL';

/**
 * What the user can give to get past an error, when that is the fix. Rooms below the CLI never word it (they
 * do not know its flags): the caller does (src/cli/hints.ts), after the message.
 */
export type Hint =
  /** the image's reference, so that the envelope kept in the registry beside the image can be used */
  | { readonly give: 'image-reference' }
  /** a trusted signer: a key, or a keyless identity and issuer, or signers in the policy file (given or not) */
  | { readonly give: 'signer'; readonly withPolicyFile: boolean }
  /** a trusted_root.json file, so that TUF is not needed */
  | { readonly give: 'trusted-root-file' }
  /** the TUF repository's initial root.json */
  | { readonly give: 'tuf-initial-root' }
  /** another TUF cache directory, or a trusted_root.json file */
  | { readonly give: 'other-tuf-cache' }
  /** the explicit permission to verify an admission policy's ignoreTlog attestors without their log */
  | { readonly give: 'ignore-tlog' };

export class GateError extends Error {
  readonly code: ErrorCode;
  /** The HTTP status a server answered, for HTTP_STATUS (a 404 for a named entry means "not there", not "unreachable"). */
  readonly status?: number;
  /** What to give instead, for the caller to word (the message itself is complete without it). */
  readonly hint?: Hint;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; status?: number; hint?: Hint }) {
    super(message, options);
    this.name = 'GateError';
    this.code = code;
    if (options?.status !== undefined) this.status = options.status;
    if (options?.hint !== undefined) this.hint = options.hint;
  }
}

const USAGE_CODES: ReadonlySet<ErrorCode> = new Set([
  'USAGE', 'BAD_DIGEST', 'BAD_KEY', 'BAD_TRUST_ROOT', 'BAD_POLICY', 'BAD_RESULTS_DIR', 'BAD_IMAGE_REF',
  'BAD_DOCKER_CONFIG',
]);
const NETWORK_CODES: ReadonlySet<ErrorCode> = new Set([
  'NETWORK', 'HTTP_STATUS', 'RESPONSE_TOO_LARGE', 'RESPONSE_MALFORMED', 'REGISTRY_DENIED', 'REGISTRY_UNREACHABLE',
  'REGISTRY_INSECURE',
]);

/** Exit code contract: 0 verified, 1 not verified, 2 bad input or usage, 3 log/registry unreachable. */
export function exitCodeFor(err: unknown): 1 | 2 | 3 {
  if (err instanceof GateError) {
    if (USAGE_CODES.has(err.code)) return 2;
    if (NETWORK_CODES.has(err.code)) return 3;
  }
  return 1;
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
