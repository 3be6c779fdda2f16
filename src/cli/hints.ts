// The CLI's words for what the rooms below leave to their caller: the names of its inputs (its flags) and the
// hints on errors (what to give instead). Nothing below src/cli/ names a flag (test/cli/flag-names.test.ts).
import { GateError, errorMessage, type Hint } from '../errors.ts';
import type { TrustInputNames } from '../trust/index.ts';

/** The flags that give the trust's inputs, as its messages name them. */
export const TRUST_FLAGS: TrustInputNames = {
  trustedRoot: '--trusted-root',
  rekorPublicKey: '--rekor-public-key',
  trustedRootDigest: '--trusted-root-digest',
  tufMirror: '--tuf-mirror',
  tufRoot: '--tuf-root',
  offline: '--offline',
};

/** What the run was given that a hint's wording depends on: the image reference (--image-url, or an --images item). */
export type Given = { readonly imageUrl?: string };

/** A hint as the flags to pass. */
export function hintText(hint: Hint, given: Given = {}): string {
  switch (hint.give) {
    case 'image-reference':
      return given.imageUrl
        ? `the registry of ${given.imageUrl} holds no copy that this entry records`
        : "pass --image-url (the Task's IMAGE_URL) so that the copy kept in the registry can be used";
    case 'signer':
      return `give --key PATH (or --public-key PEM), or --certificate-identity[-regexp] with --certificate-oidc-issuer[-regexp]${
        hint.withPolicyFile ? ', or spec.signers in the policy file' : ', or --policy FILE with spec.signers'
      }`;
    case 'trusted-root-file':
      return 'pass --trusted-root PATH to verify without TUF';
    case 'tuf-initial-root':
      return 'pass its initial root.json with --tuf-root FILE';
    case 'other-tuf-cache':
      return 'pass --tuf-cache-dir DIR or --trusted-root PATH';
    case 'ignore-tlog':
      return 'pass --kyverno-ignore-tlog to verify those signatures by their key alone, the log not checked, or set ignoreTlog: false';
  }
}

/** For verify(): a failed candidate's hint in the flags of this run. */
export function adviser(given: Given): (hint: Hint) => string {
  return (hint) => hintText(hint, given);
}

/** An error as the CLI shows it (stderr, JSON, the REPORT result): its message, then its hint in flags. */
export function explain(err: unknown): string {
  const hint = err instanceof GateError ? err.hint : undefined;
  return hint ? `${errorMessage(err)}; ${hintText(hint)}` : errorMessage(err);
}
