/**
 * The ImageValidatingPolicy fields rekor-gate reads, as a JSON Schema (field names from kyverno/api
 * v0.0.1-alpha.3.0.20260723090831-fb2785727f98 api/policies.kyverno.io/v1alpha1/imagevalidating_policy.go,
 * which v1beta1 and v1 alias), and those it refuses by name.
 */

type StringOrExpression = { value?: string; expression?: string };

export type IvpDoc = {
  apiVersion: string;
  kind: 'ImageValidatingPolicy';
  metadata?: { name?: string };
  spec: {
    matchImageReferences?: { glob?: string; expression?: string }[];
    validationConfigurations?: { required?: boolean; verifyDigest?: boolean; mutateDigest?: boolean };
    attestors: {
      name: string;
      cosign?: {
        key?: { data?: string };
        keyless?: { identities: { issuer?: string; subject?: string; issuerRegExp?: string; subjectRegExp?: string }[] };
        ctlog?: { url?: string; rekorPubKey?: string };
        trustedRoot?: StringOrExpression;
      };
    }[];
    attestations?: { name: string; intoto?: { type: string }; referrer?: { type: string } }[];
    validations: { expression: string; message?: string; reason?: string }[];
  };
};

/**
 * Fields that change what is verified and that rekor-gate does not implement: refused by name, never ignored
 * (dotted paths; `[]` walks a list).
 */
export const UNSUPPORTED: readonly string[] = [
  'spec.credentials',
  'spec.images',
  'spec.variables',
  'spec.attestors[].notary',
  'spec.attestors[].cosign.key.kms',
  'spec.attestors[].cosign.key.expression',
  'spec.attestors[].cosign.key.hashAlgorithm',
  'spec.attestors[].cosign.keyless.roots',
  'spec.attestors[].cosign.keyless.additionalExtensions',
  'spec.attestors[].cosign.keyless.identities[].subjectExpression',
  'spec.attestors[].cosign.certificate',
  'spec.attestors[].cosign.source',
  'spec.attestors[].cosign.tuf',
  'spec.attestors[].cosign.annotations',
  'spec.attestors[].cosign.ctlog.ctLogPubKey',
  'spec.attestors[].cosign.ctlog.tsaCertChain',
  'spec.attestors[].cosign.ctlog.insecureIgnoreTlog',
  'spec.attestors[].cosign.ctlog.insecureIgnoreSCT',
  'spec.attestors[].cosign.trustedRoot.expression',
  'spec.validations[].messageExpression',
];

/** The apiVersions read: v1 (GA in Kyverno 1.17) and v1beta1, still served, whose types v1 aliases. */
export const IVP_API_VERSIONS: readonly string[] = ['policies.kyverno.io/v1', 'policies.kyverno.io/v1beta1'];

const str = { type: 'string', minLength: 1 };
const anyValue = {};
/** A list of named entries (attestors, attestations): `name` and these properties, nothing else. */
const namedList = (properties: Record<string, unknown>, more: Record<string, unknown> = {}) => ({
  type: 'array',
  ...more,
  items: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: str, ...properties } },
});

export const ivpSchema = {
  type: 'object',
  required: ['apiVersion', 'kind', 'spec'],
  properties: {
    apiVersion: { enum: IVP_API_VERSIONS },
    kind: { const: 'ImageValidatingPolicy' },
    metadata: { type: 'object', properties: { name: { type: 'string' } } },
    spec: {
      type: 'object',
      required: ['attestors', 'validations'],
      additionalProperties: false,
      properties: {
        // Admission-only: read, no effect on a gate.
        matchConstraints: anyValue,
        matchConditions: anyValue,
        failurePolicy: anyValue,
        validationActions: anyValue,
        auditAnnotations: anyValue,
        webhookConfiguration: anyValue,
        evaluation: anyValue,
        autogen: anyValue,
        matchImageReferences: {
          type: 'array',
          items: { type: 'object', additionalProperties: false, properties: { glob: { type: 'string' }, expression: { type: 'string' } } },
        },
        validationConfigurations: {
          type: 'object',
          additionalProperties: false,
          properties: { required: { type: 'boolean' }, verifyDigest: { type: 'boolean' }, mutateDigest: { type: 'boolean' } },
        },
        attestors: namedList(
          {
            cosign: {
              type: 'object',
              additionalProperties: false,
              properties: {
                key: { type: 'object', additionalProperties: false, properties: { data: str } },
                keyless: {
                  type: 'object',
                  required: ['identities'],
                  additionalProperties: false,
                  properties: {
                    identities: {
                      type: 'array',
                      minItems: 1,
                      items: {
                        type: 'object',
                        additionalProperties: false,
                        properties: { issuer: { type: 'string' }, subject: { type: 'string' }, issuerRegExp: { type: 'string' }, subjectRegExp: { type: 'string' } },
                      },
                    },
                  },
                },
                ctlog: { type: 'object', additionalProperties: false, properties: { url: str, rekorPubKey: str } },
                trustedRoot: { type: 'object', additionalProperties: false, required: ['value'], properties: { value: str } },
              },
            },
          },
          { minItems: 1 },
        ),
        attestations: namedList({
          intoto: { type: 'object', required: ['type'], additionalProperties: false, properties: { type: str } },
          referrer: { type: 'object', required: ['type'], additionalProperties: false, properties: { type: str } },
        }),
        validations: {
          type: 'array',
          minItems: 1,
          items: { type: 'object', required: ['expression'], additionalProperties: false, properties: { expression: str, message: { type: 'string' }, reason: { type: 'string' } } },
        },
      },
    },
  },
};
