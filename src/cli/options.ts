// The flags of each command (yargs builders) and the argument types they give: the only place flags are named.
import type { Argv } from 'yargs';

/** The log and what to trust about it: shared by verify, search and get. */
export function logOptions<T>(y: Argv<T>) {
  return y
    .option('rekor-url', { type: 'string', default: 'https://rekor.sigstore.dev', describe: 'Rekor log to search' })
    .option('trusted-root', { type: 'string', describe: 'Sigstore trusted_root.json (log keys, CAs, CT logs)' })
    .option('rekor-public-key', { type: 'string', describe: 'A private log\'s public key, PEM file' })
    .option('trust-dir', { type: 'string', describe: 'Directory holding trusted_root.json and/or rekor.pub (and ca.crt)' })
    .option('tuf-cache-dir', { type: 'string', describe: 'Cache directory for the TUF metadata and trusted root' })
    .option('tuf-mirror', { type: 'string', describe: 'A private or mirrored Sigstore TUF repository to take trusted_root.json from (default the public-good one)' })
    .option('tuf-root', { type: 'string', describe: 'The TUF repository\'s initial root.json (needed with --tuf-mirror)' })
    .option('trusted-root-digest', { type: 'string', describe: 'Pin the trusted root: sha256:<64 hex> of trusted_root.json (a file, in --trust-dir, or from TUF)' })
    .option('ca-cert', { type: 'string', describe: 'Extra CA (PEM) for TLS to a private log or registry' })
    .option('timeout', { type: 'number', default: 30, describe: 'Seconds per HTTP request, whole (at most 600)' })
    .option('output', { choices: ['text', 'json'] as const, default: 'text' as const, describe: 'Output format on stdout' });
}

export function verifyOptions<T>(y: Argv<T>) {
  return logOptions(y)
    .option('image-digest', { type: 'string', describe: 'Digest of the built image, sha256:<64 hex> (buildah\'s IMAGE_DIGEST); or --images' })
    .option('platforms', { type: 'string', describe: 'With an index as --image-digest: also require each platform manifest\'s attestation: all, or os/arch[/variant],...' })
    .option('images', { type: 'string', describe: 'Several images: REF@sha256:<64 hex> items, comma- or newline-separated (Chains\' IMAGES); one verdict each' })
    .option('image-url', { type: 'string', describe: 'Image reference (buildah\'s IMAGE_URL); also searches the registry for .att attestations and bundle referrers' })
    .option('log-index', { type: 'string', describe: 'Verify exactly this entry (global log index) instead of searching' })
    .option('entry-url', { type: 'string', describe: 'Verify exactly this entry: <rekor>/api/v1/log/entries?logIndex=N (the chains.tekton.dev/transparency annotation)' })
    .option('key', { type: 'string', array: true, describe: 'Trusted signer public key, PEM file (repeatable)' })
    .option('key-dir', { type: 'string', describe: 'Directory (a mounted Secret): every *.pub and *.pem file in it is a trusted signer public key' })
    .option('public-key', { type: 'string', array: true, describe: 'Trusted signer public key(s) as PEM text' })
    .option('certificate-identity', { type: 'string', describe: 'Keyless: exact certificate identity (SAN)' })
    .option('certificate-identity-regexp', { type: 'string', describe: 'Keyless: certificate identity regexp (unanchored, as cosign)' })
    .option('certificate-oidc-issuer', { type: 'string', describe: 'Keyless: exact OIDC issuer' })
    .option('certificate-oidc-issuer-regexp', { type: 'string', describe: 'Keyless: OIDC issuer regexp' })
    .option('predicate-type', { type: 'string', array: true, describe: 'Allowed predicate type URI (repeatable or comma-separated; default any)' })
    .option('require-signature', { type: 'boolean', default: false, describe: 'Also require an image signature by a trusted signer (cosign .sig layer or signature bundle referrer); needs --image-url' })
    .option('policy', { type: 'string', describe: 'Policy file (YAML or JSON); see "rekor-gate policy schema"' })
    .option('policy-dir', { type: 'string', describe: 'Directory (a mounted ConfigMap) holding the policy file: policy.yaml, policy.yml or policy.json' })
    .option('kyverno-policy', { type: 'string', describe: 'The Kyverno ClusterPolicy/Policy (kyverno.io/v1) the cluster enforces: its verifyImages rules that match --image-url are required too' })
    .option('kyverno-policy-dir', { type: 'string', describe: 'Directory (a mounted ConfigMap) holding the Kyverno policy: its one .yaml, .yml or .json file' })
    .option('kyverno-ignore-tlog', { type: 'boolean', default: false, describe: 'Honour rekor.ignoreTlog: true of the Kyverno policy\'s key attestors: their image signatures are verified by the key alone, the log NOT checked' })
    .option('results-dir', { type: 'string', describe: 'Write Tekton result files here (/tekton/results)' })
    .option('results-budget', { type: 'number', default: 4096, describe: 'Bytes all result files may take together (Tekton\'s termination message; lower it in a Task with several steps)' })
    .option('wait', { type: 'number', default: 0, describe: 'Seconds to keep polling until an acceptable entry appears (at most 86400)' })
    .option('fail-on-unverified', { type: 'boolean', default: true, describe: 'Exit 1 when nothing is verified (--no-fail-on-unverified: exit 0, VERIFIED=false)' })
    .option('offline', { type: 'boolean', default: false, describe: 'Send no request to the log: verify registry-held entries from their SET or proof' })
    .option('vsa', { type: 'string', describe: 'Write a SLSA verification summary attestation (in-toto statement) to this file' })
    .option('vsa-dir', { type: 'string', describe: 'Write the VSA as vsa.json in this directory (a workspace)' })
    .option('vsa-key', { type: 'string', describe: 'Sign the VSA with this private key (PEM) and write a DSSE envelope' })
    .option('vsa-key-dir', { type: 'string', describe: 'Directory (a mounted Secret) holding the VSA signing key as vsa.key' })
    .option('vsa-upload', { type: 'boolean', default: false, describe: 'Also log the signed VSA in the Rekor instance (a dsse entry); needs --vsa-key' })
    .option('vsa-push', { type: 'boolean', default: false, describe: 'After a pass, attach the signed VSA to the image as an OCI referrer; needs --vsa-key and --image-url' })
    .option('accept-vsa-from', { type: 'string', array: true, describe: 'Pass on a verification summary signed by this public key (PEM file or text, repeatable) found beside the image' })
    .option('vsa-policy-uri', { type: 'string', describe: 'With --accept-vsa-from: the policy URI the summary must name' })
    .option('require-envelope', { type: 'boolean', default: false, describe: 'Refuse an attestation whose DSSE signature only the log vouches for (intoto 0.0.1 with no envelope from the registry)' })
    .option('vsa-policy-digest', { type: 'string', describe: 'With --accept-vsa-from: the policy digest (sha256:<64 hex>) the summary must name, as the pushing gate reported it' })
    .option('max-age', { type: 'string', describe: 'With --accept-vsa-from: the oldest summary accepted (e.g. 24h, 7d)' })
    .option('vsa-verifier-id', { type: 'string', default: 'https://github.com/rekor-gate/rekor-gate', describe: 'The verifier ID written in the VSA' })
    .conflicts('log-index', 'entry-url')
    .conflicts('images', 'image-digest')
    .conflicts('images', 'platforms')
    .check((a) => {
      if (a['image-digest'] === undefined && a.images === undefined) throw new Error('Missing required argument: image-digest (or --images)');
      return true;
    })
    .conflicts('policy', 'policy-dir')
    .conflicts('kyverno-policy', 'kyverno-policy-dir')
    .conflicts('vsa', 'vsa-dir')
    .conflicts('vsa-key', 'vsa-key-dir');
}

export type VerifyArgs = Awaited<ReturnType<typeof verifyOptions>['argv']>;

export function searchOptions<T>(y: Argv<T>) {
  return logOptions(y).option('image-digest', { type: 'string', demandOption: true, describe: 'Digest to search for, sha256:<64 hex>' });
}
export type SearchArgs = Awaited<ReturnType<typeof searchOptions>['argv']>;

export function getOptions<T>(y: Argv<T>) {
  return logOptions(y)
    .option('uuid', { type: 'string', describe: 'Entry UUID (64 or 80 hex)' })
    .option('log-index', { type: 'string', describe: 'Global log index' })
    .conflicts('uuid', 'log-index')
    .check((a) => {
      if (a.uuid === undefined && a['log-index'] === undefined) throw new Error('give --uuid or --log-index');
      return true;
    });
}
export type GetArgs = Awaited<ReturnType<typeof getOptions>['argv']>;
