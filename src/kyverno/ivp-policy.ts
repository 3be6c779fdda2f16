import { GateError } from '../errors.ts';
import { checkExpression } from '../policy/cel/expression.ts';
import { IMAGE_FUNCTIONS } from '../policy/cel/image-library.ts';
import { exact, regexp, type Matcher } from '../policy/matcher.ts';
import type { KeylessSigner } from '../policy/policy.ts';
import { firstAjvError, lazyGuard } from '../schema/validator.ts';
import { parseTrustedKeys, type TrustedKey } from '../trust/public-keys.ts';
import { globToRegExp } from './ivp-glob.ts';
import { ivpSchema, UNSUPPORTED, type IvpDoc } from './ivp-schema.ts';

/**
 * A Kyverno ImageValidatingPolicy (policies.kyverno.io/v1, and v1beta1, which v1 aliases: kyverno/api
 * v0.0.1-alpha.3.0.20260723090831-fb2785727f98 api/policies.kyverno.io/v1/imagevalidating_policy.go), read for
 * gating one image: its matchImageReferences, named attestors, named attestations and CEL validations. What
 * rekor-gate cannot honour is refused by name (UNSUPPORTED); the admission-only fields (matchConstraints,
 * matchConditions, failurePolicy, validationActions, ...) are read and have no effect on a gate.
 */

/** One named attestor, as rekor-gate's signers and the log it needs. */
export type IvpAttestor = {
  readonly name: string;
  readonly keys: readonly TrustedKey[];
  readonly keyless: readonly KeylessSigner[];
  /** ctlog.url: the Rekor log to search (default: the run's). */
  readonly rekorUrl?: string;
  /** ctlog.rekorPubKey: a private log's public key (PEM). */
  readonly rekorPublicKey?: string;
  /** trustedRoot.value: a Sigstore trusted_root.json. */
  readonly trustedRoot?: string;
  /** The attestor as CEL sees it (`attestors.<name>`). */
  readonly value: Readonly<Record<string, unknown>>;
};

export type IvpAttestation = { readonly name: string; readonly kind: 'intoto' | 'referrer'; readonly type: string };

export type IvpValidation = { readonly expression: string; readonly message?: string };

export type CompiledIvp = {
  readonly name: string;
  readonly where: string;
  readonly globs: readonly { readonly source: string; readonly test: (image: string) => boolean }[];
  readonly matchExpressions: readonly string[];
  readonly attestors: readonly IvpAttestor[];
  readonly attestations: readonly IvpAttestation[];
  readonly validations: readonly IvpValidation[];
  /** validationConfigurations.required (default true): the image must have passed a verification function. */
  readonly required: boolean;
};

const isIvp = lazyGuard<IvpDoc>('kyverno-image-validating-policy', ivpSchema);

/** The unsupported fields present, as paths: `spec.attestors[0].notary`. */
function unsupported(doc: unknown): string[] {
  const found: string[] = [];
  const walk = (v: unknown, pattern: readonly string[], at: string): void => {
    if (pattern.length === 0) {
      found.push(at);
      return;
    }
    const [head, ...rest] = pattern as [string, ...string[]];
    if (head === '[]') {
      if (Array.isArray(v)) v.forEach((x, i) => walk(x, rest, `${at}[${i}]`));
      return;
    }
    if (v !== null && typeof v === 'object' && head in v) walk((v as Record<string, unknown>)[head], rest, at ? `${at}.${head}` : head);
  };
  for (const p of UNSUPPORTED) walk(doc, p.split('.').flatMap((s) => (s.endsWith('[]') ? [s.slice(0, -2), '[]'] : [s])), '');
  return found;
}

function keylessOf(a: NonNullable<NonNullable<IvpDoc['spec']['attestors'][number]['cosign']>['keyless']>, label: string, at: string): KeylessSigner[] {
  return a.identities.map((id, i) => {
    const m = (value: string | undefined, re: string | undefined, what: string): Matcher => {
      if (value !== undefined && value !== '') return exact(value);
      if (re !== undefined && re !== '') return regexp(re, `${at}.keyless.identities[${i}].${what}RegExp`);
      throw new GateError('BAD_POLICY', `${at}.keyless.identities[${i}]: needs ${what} or ${what}RegExp`);
    };
    return { identity: m(id.subject, id.subjectRegExp, 'subject'), issuer: m(id.issuer, id.issuerRegExp, 'issuer'), label: `${label} identities[${i}]` };
  });
}

/**
 * Reads and checks an ImageValidatingPolicy; every problem is a BAD_POLICY GateError naming `where` and the field.
 * Its CEL (validations, matchImageReferences expressions) must parse and call only CEL's and Kyverno's image
 * library's functions.
 */
export function compileIvp(doc: unknown, where: string): CompiledIvp {
  const refused = unsupported(doc);
  if (refused.length > 0) throw new GateError('BAD_POLICY', `${where}: not supported by rekor-gate: ${refused.join(', ')}`);
  if (!isIvp(doc)) throw new GateError('BAD_POLICY', `${where}: not an ImageValidatingPolicy rekor-gate can read: ${firstAjvError(isIvp.errors)}`);
  const name = doc.metadata?.name ?? '(unnamed)';
  const spec = doc.spec;
  const fail = (at: string, message: string): GateError => new GateError('BAD_POLICY', `${where}: ${at}: ${message}`);
  const cel = (expression: string, at: string, more: ReadonlySet<string>): void => {
    const wrong = checkExpression(expression, more);
    if (wrong) throw fail(at, `CEL expression ${JSON.stringify(expression.slice(0, 200))} ${wrong}`);
  };

  const globs = (spec.matchImageReferences ?? []).flatMap((m, i) => {
    if (m.glob === undefined || m.glob === '') return [];
    try {
      const re = globToRegExp(m.glob);
      return [{ source: m.glob, test: (image: string) => re.matches(image) }];
    } catch (err) {
      throw fail(`spec.matchImageReferences[${i}].glob`, (err as Error).message);
    }
  });
  const matchExpressions = (spec.matchImageReferences ?? []).flatMap((m, i) => {
    if (m.expression === undefined || m.expression === '') return [];
    cel(m.expression, `spec.matchImageReferences[${i}].expression`, new Set());
    return [m.expression];
  });
  (spec.matchImageReferences ?? []).forEach((m, i) => {
    if (!m.glob && !m.expression) throw fail(`spec.matchImageReferences[${i}]`, 'either glob or expression must be set');
  });

  const attestors = spec.attestors.map((a, i): IvpAttestor => {
    const at = `spec.attestors[${i}].cosign`;
    const c = a.cosign;
    if (!c) throw fail(`spec.attestors[${i}]`, 'a cosign attestor is required (notary is not supported)');
    const label = `${where} attestor ${a.name}`;
    let keys: TrustedKey[] = [];
    try {
      if (c.key?.data) keys = parseTrustedKeys(c.key.data, label);
    } catch (err) {
      throw fail(`${at}.key.data`, (err as Error).message);
    }
    let keyless: KeylessSigner[] = [];
    try {
      if (c.keyless) keyless = keylessOf(c.keyless, label, at);
    } catch (err) {
      throw err instanceof GateError && err.code === 'BAD_POLICY' ? err : fail(`${at}.keyless`, (err as Error).message);
    }
    if (keys.length === 0 && keyless.length === 0) throw fail(at, 'needs key.data or keyless.identities');
    return {
      name: a.name,
      keys,
      keyless,
      ...(c.ctlog?.url ? { rekorUrl: c.ctlog.url } : {}),
      ...(c.ctlog?.rekorPubKey ? { rekorPublicKey: c.ctlog.rekorPubKey } : {}),
      ...(c.trustedRoot?.value ? { trustedRoot: c.trustedRoot.value } : {}),
      value: a as unknown as Record<string, unknown>,
    };
  });
  const names = new Set<string>();
  for (const a of attestors) {
    if (names.has(a.name)) throw fail('spec.attestors', `attestor ${a.name} is named twice`);
    names.add(a.name);
  }

  const attestations = (spec.attestations ?? []).map((a, i): IvpAttestation => {
    if (a.intoto && a.referrer) throw fail(`spec.attestations[${i}]`, 'has both intoto and referrer');
    if (a.intoto) return { name: a.name, kind: 'intoto', type: a.intoto.type };
    if (a.referrer) return { name: a.name, kind: 'referrer', type: a.referrer.type };
    throw fail(`spec.attestations[${i}]`, 'needs intoto.type or referrer.type');
  });

  const validations = spec.validations.map((v, i) => {
    cel(v.expression, `spec.validations[${i}].expression`, IMAGE_FUNCTIONS);
    return { expression: v.expression, ...(v.message ? { message: v.message } : {}) };
  });

  return { name, where, globs, matchExpressions, attestors, attestations, validations, required: spec.validationConfigurations?.required ?? true };
}
