import { celInput } from '../policy/cel/conditions.ts';
import type { ImageResults } from '../policy/cel/image-library.ts';
import { evaluateConditions, evaluateWithImageLibrary } from '../policy/cel/sandbox.ts';
import type { CompiledIvp } from './ivp-policy.ts';

/** What rekor-gate's checks found for one attestor: its image signature, and its verified attestations' payloads. */
export type AttestorEvidence = {
  readonly signature: boolean;
  /** attestation name -> the verified payload (the in-toto statement, or the referrer's content); absent: none verified. */
  readonly attestations: Readonly<Record<string, unknown>>;
};

/** One failure: where in the policy (`spec.validations[0]`), and why (the validation's message, or the error). */
export type IvpFinding = { readonly at: string; readonly reason: string };

/** `failures`: each finding as one line naming the policy, where and why. */
export type IvpVerdict = { readonly passed: boolean; readonly failures: readonly string[]; readonly findings: readonly IvpFinding[] };

/**
 * Whether the image matches the policy's matchImageReferences (any glob, or any expression over `ref`; none
 * given: every image, as Kyverno's matching.MatchImage). An expression that fails to evaluate does not match.
 */
export function ivpMatches(p: CompiledIvp, image: string): boolean {
  if (p.globs.length === 0 && p.matchExpressions.length === 0) return true;
  if (p.globs.some((g) => g.test(image))) return true;
  if (p.matchExpressions.length === 0) return false;
  return evaluateConditions(p.matchExpressions, { ref: image }).some((r) => 'value' in r && r.value);
}

/**
 * Judges one image with the policy's validations, Kyverno's image library answering from `evidence` (by
 * attestor name), then validationConfigurations.required. Fails closed: an image the policy does not match, a
 * false or failing validation, or (required) no verification that passed, each is a failure naming the policy.
 */
export function judgeImage(p: CompiledIvp, image: string, evidence: Readonly<Record<string, AttestorEvidence>>, imageData: unknown = { image, resolvedImage: image }): IvpVerdict {
  const at = `ImageValidatingPolicy ${p.name} (${p.where})`;
  const verdict = (findings: readonly IvpFinding[]): IvpVerdict => ({ passed: findings.length === 0, failures: findings.map((f) => `${at}: ${f.at}: ${f.reason}`), findings });
  let matched: boolean;
  try {
    matched = ivpMatches(p, image);
  } catch (err) {
    return verdict([{ at: 'spec.matchImageReferences', reason: `could not be evaluated: ${(err as Error).message}` }]);
  }
  if (!matched) {
    const refs = [...p.globs.map((g) => `glob ${g.source}`), ...p.matchExpressions.map((e) => `expression ${e}`)].join(', ');
    return verdict([{ at: 'spec.matchImageReferences', reason: `image ${image} matches none of them (${refs})` }]);
  }
  const attestations: Record<string, Record<string, unknown>> = {};
  for (const a of p.attestations) {
    attestations[a.name] = {};
    for (const t of p.attestors) {
      const payload = evidence[t.name]?.attestations[a.name];
      if (payload !== undefined) (attestations[a.name] as Record<string, unknown>)[t.name] = celInput(payload);
    }
  }
  const results: ImageResults = {
    image,
    matched,
    signatures: Object.fromEntries(p.attestors.map((t) => [t.name, evidence[t.name]?.signature === true])),
    attestations,
    imageData: celInput(imageData),
  };
  const bindings = {
    images: { containers: [image] },
    attestors: Object.fromEntries(p.attestors.map((t) => [t.name, celInput(t.value)])),
    attestations: Object.fromEntries(p.attestations.map((a) => [a.name, a.name])),
  };
  let out: ReturnType<typeof evaluateWithImageLibrary>;
  try {
    out = evaluateWithImageLibrary(
      p.validations.map((v) => v.expression),
      bindings,
      results,
    );
  } catch (err) {
    return verdict([{ at: 'spec.validations', reason: (err as Error).message }]);
  }
  const findings: IvpFinding[] = [];
  out.results.forEach((r, i) => {
    const v = p.validations[i];
    const where = `spec.validations[${i}]`;
    if ('error' in r) findings.push({ at: where, reason: `${JSON.stringify(v?.expression)}: evaluation error: ${r.error}` });
    else if (!r.value) findings.push({ at: where, reason: v?.message ?? `failed expression: ${v?.expression}` });
  });
  // Kyverno's EnforceRequired (pkg/image/verification/evaluator/policy.go): the validations' verdict is not
  // trusted alone; a verification function must have passed for the image.
  if (p.required && !out.record.verified) {
    findings.push({
      at: 'spec.validationConfigurations.required',
      reason: out.record.attempted
        ? `image ${image} failed signature or attestation verification`
        : `image ${image} is not verified: no validation performed a signature or attestation check on it`,
    });
  }
  return verdict(findings);
}
