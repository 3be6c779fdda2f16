// The cluster's admission policy as the gate reads it: a file of Kyverno policies (a mounted ConfigMap's key),
// each document dispatched by apiVersion/kind to the compiler of that kind.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { GateError } from '../errors.ts';
import { lazyValidator } from '../schema/validator.ts';
import { capped } from '../text.ts';
import { compileGateIvp } from './ivp-gate.ts';
import type { CompiledIvp } from './ivp-policy.ts';
import { IVP_API_VERSIONS } from './ivp-schema.ts';
import type { AdmissionPolicy, ImageRule } from './types.ts';
import { compileV1, type CompileOptions } from './v1.ts';

export type { AdmissionPolicy, AttestationRequirement, AttestorEntry, AttestorSet, ImageRule, LogChoice } from './types.ts';
export { appliesTo, imageData } from './images.ts';
export type { AttestorEvidence } from './ivp-evaluate.ts';
export { ivpMatches, judgeImage } from './ivp-evaluate.ts';
export type { CompiledIvp, IvpAttestor } from './ivp-policy.ts';
export type { CompileOptions } from './v1.ts';

const HEADER_SCHEMA = {
  $id: 'rekor-gate:kyverno/header',
  type: 'object',
  required: ['apiVersion', 'kind', 'spec'],
  properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' }, spec: { type: 'object' } },
} as const;
const headerError = lazyValidator('kyverno.header', HEADER_SCHEMA);

type Compiled = { readonly rules?: readonly ImageRule[]; readonly ivp?: CompiledIvp };
type Compiler = (doc: Record<string, unknown>, label: string, o: CompileOptions) => Compiled;

/**
 * The policy kinds the gate reads, by `apiVersion kind`: kyverno.io/v1 ClusterPolicy and Policy (their
 * verifyImages rules), and the ImageValidatingPolicy that Kyverno 1.17 prefers to them (policies.kyverno.io/v1,
 * and v1beta1, still served).
 */
const COMPILERS: Record<string, Compiler> = {
  'kyverno.io/v1 ClusterPolicy': (doc, label, o) => ({ rules: compileV1(doc, label, o) }),
  'kyverno.io/v1 Policy': (doc, label, o) => ({ rules: compileV1(doc, label, o) }),
  ...Object.fromEntries(IVP_API_VERSIONS.map((v): [string, Compiler] => [`${v} ImageValidatingPolicy`, (doc, label) => ({ ivp: compileGateIvp(doc, label) })])),
};

/** Reads a file of one or more Kyverno policies (YAML documents) and compiles their verifyImages rules and ImageValidatingPolicies. */
export function loadKyvernoPolicy(file: string, o: CompileOptions): AdmissionPolicy {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new GateError('BAD_POLICY', `Kyverno policy ${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const docs = parseAllDocuments(bytes.toString('utf8'), { uniqueKeys: true });
  if (!Array.isArray(docs)) throw new GateError('BAD_POLICY', `${file}: not YAML`);
  const rules: ImageRule[] = [];
  const ivps: CompiledIvp[] = [];
  docs.forEach((d, i) => {
    const label = docs.length > 1 ? `${file} (document ${i + 1})` : file;
    const syntax = d.errors[0];
    if (syntax) throw new GateError('BAD_POLICY', `${label}: YAML syntax error: ${syntax.message}`);
    const data: unknown = d.toJS({ maxAliasCount: 100 });
    if (data === null || data === undefined) return;
    const err = headerError(data);
    if (err) throw new GateError('BAD_POLICY', `${label}: not a Kubernetes policy (apiVersion, kind, spec): ${err}`);
    const doc = data as Record<string, unknown>;
    const kind = `${String(doc.apiVersion)} ${String(doc.kind)}`;
    const compile = COMPILERS[kind];
    if (!compile) {
      throw new GateError('BAD_POLICY', `${label}: ${capped(kind)} is not a policy kind rekor-gate reads (${Object.keys(COMPILERS).join(', ')})`);
    }
    const got = compile(doc, label, o);
    rules.push(...(got.rules ?? []));
    if (got.ivp) ivps.push(got.ivp);
  });
  if (rules.length === 0 && ivps.length === 0) throw new GateError('BAD_POLICY', `${file}: holds no verifyImages rule and no ImageValidatingPolicy`);
  return { source: `${file} (sha256:${createHash('sha256').update(bytes).digest('hex')})`, rules, ...(ivps.length > 0 ? { ivps } : {}) };
}
