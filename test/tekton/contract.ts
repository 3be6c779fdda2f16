/**
 * The contract between the Tekton packaging (task/, stepaction/) and the CLI, in one place so that the
 * CLI's side can be checked against it (test/tekton/contract.test.ts runs `verify --help`).
 *
 * What the CLI must do for the step to work with no shell:
 * - read every flag from `REKOR_GATE_<FLAG_IN_UPPER_SNAKE>` too (see envForFlag); an EMPTY variable is unset,
 *   because Tekton turns an empty optional param into an empty env var;
 * - take `--predicate-type` as a comma-separated list in the env var, `--public-key` as PEM text (several
 *   PEM blocks allowed), `--fail-on-unverified` as "true"/"false";
 * - treat an empty DOCKER_CONFIG as unset;
 * - resolve the results directory lexically (path.resolve) before any file operation: the StepAction can only
 *   name it as `$(step.results.VERIFIED.path)/..` (Tekton has no variable for a step's results directory);
 * - write every file of RESULT_FILES (empty string when there is nothing to say), all of them together fitting
 *   Tekton's 4096-byte termination message.
 */

/** The result files the CLI writes; the Task and the StepAction declare exactly these. */
export const RESULT_FILES = [
  'VERIFIED',
  'REKOR_UUID',
  'REKOR_LOG_INDEX',
  'REKOR_INTEGRATED_TIME',
  'REKOR_LOG_URL',
  'PREDICATE_TYPE',
  'SIGNER',
  'BUILDER_ID',
  'VSA_POLICY_DIGEST',
  'SIGNATURE_SIGNER',
  'REPORT',
] as const;

/** `--image-digest` -> `REKOR_GATE_IMAGE_DIGEST`. */
export function envForFlag(flag: string): string {
  return `REKOR_GATE_${flag.replace(/^--/, '').toUpperCase().replace(/-/g, '_')}`;
}

export interface Binding {
  /** The CLI flag the env var stands for (undefined: not a flag, e.g. DOCKER_CONFIG). */
  flag?: string;
  env: string;
}
const bind = (flag: string): Binding => ({ flag, env: envForFlag(flag) });

/** Task / StepAction param -> CLI flag and the env var the step sets from it. */
export const PARAM_BINDINGS: Readonly<Record<string, Binding>> = {
  IMAGE_DIGEST: bind('--image-digest'),
  IMAGE_URL: bind('--image-url'),
  PLATFORMS: bind('--platforms'),
  IMAGES: bind('--images'),
  REKOR_URL: bind('--rekor-url'),
  PUBLIC_KEY: bind('--public-key'),
  CERTIFICATE_IDENTITY: bind('--certificate-identity'),
  CERTIFICATE_IDENTITY_REGEXP: bind('--certificate-identity-regexp'),
  CERTIFICATE_OIDC_ISSUER: bind('--certificate-oidc-issuer'),
  CERTIFICATE_OIDC_ISSUER_REGEXP: bind('--certificate-oidc-issuer-regexp'),
  PREDICATE_TYPE: bind('--predicate-type'),
  ENTRY_URL: bind('--entry-url'),
  LOG_INDEX: bind('--log-index'),
  WAIT_SECONDS: bind('--wait'),
  TIMEOUT_SECONDS: bind('--timeout'),
  OFFLINE: bind('--offline'),
  REQUIRE_SIGNATURE: bind('--require-signature'),
  TUF_MIRROR: bind('--tuf-mirror'),
  TRUSTED_ROOT_DIGEST: bind('--trusted-root-digest'),
  FAIL_ON_UNVERIFIED: bind('--fail-on-unverified'),
  VSA_UPLOAD: bind('--vsa-upload'),
  VSA_PUSH: bind('--vsa-push'),
  ACCEPT_VSA_FROM: bind('--accept-vsa-from'),
  VSA_POLICY_URI: bind('--vsa-policy-uri'),
  VSA_POLICY_DIGEST: bind('--vsa-policy-digest'),
  VSA_MAX_AGE: bind('--max-age'),
  REQUIRE_ENVELOPE: bind('--require-envelope'),
  RESULTS_BUDGET: bind('--results-budget'),
};

/** Task workspace -> what its path becomes (the StepAction takes the same as params of these names). */
export const WORKSPACE_BINDINGS: Readonly<Record<string, Binding>> = {
  trust: bind('--trust-dir'),
  keys: bind('--key-dir'),
  policy: bind('--policy-dir'),
  'kyverno-policy': bind('--kyverno-policy-dir'),
  dockerconfig: { env: 'DOCKER_CONFIG' },
  vsa: bind('--vsa-dir'),
  'vsa-key': bind('--vsa-key-dir'),
};
/** The StepAction's params that carry the Task's workspace paths. */
export const STEPACTION_WORKSPACE_PARAMS: Readonly<Record<string, string>> = {
  TRUST_DIR: 'trust',
  KEY_DIR: 'keys',
  POLICY_DIR: 'policy',
  KYVERNO_POLICY_DIR: 'kyverno-policy',
  DOCKER_CONFIG: 'dockerconfig',
  VSA_DIR: 'vsa',
  VSA_KEY_DIR: 'vsa-key',
};

/**
 * Env vars the step sets to fixed values. The root filesystem is read-only; /tekton/home is the writable emptyDir
 * Tekton mounts in every step, so neither the Task nor a Task embedding the StepAction declares a volume.
 */
export const FIXED_ENV: Readonly<Record<string, Binding & { task: string; stepAction: string }>> = {
  REKOR_GATE_RESULTS_DIR: { ...bind('--results-dir'), task: '/tekton/results', stepAction: '$(step.results.VERIFIED.path)/..' },
  REKOR_GATE_TUF_CACHE_DIR: { ...bind('--tuf-cache-dir'), task: '/tekton/home/tuf-cache', stepAction: '/tekton/home/tuf-cache' },
  HOME: { env: 'HOME', task: '/tekton/home', stepAction: '/tekton/home' },
};
/** Params the user must give (no default): what current Chains needs to be verifiable at all. */
export const REQUIRED_PARAMS = ['IMAGE_DIGEST', 'IMAGE_URL'] as const;

/** Every CLI flag the packaging relies on (what `rekor-gate verify --help` must list). */
export const FLAGS_USED: readonly string[] = [
  ...Object.values(PARAM_BINDINGS),
  ...Object.values(WORKSPACE_BINDINGS),
  ...Object.values(FIXED_ENV),
].flatMap((b) => (b.flag ? [b.flag] : []));

/** The step's `args` (everything else comes from env). */
export const STEP_ARGS = ['verify'] as const;
