/**
 * Validation of Tekton resources the way the API server would see them, without a cluster.
 *
 * Two schema sources, both from $GATE_TEST_DATA/spec/tekton (tektoncd/pipeline's published CRDs and swagger):
 * - the OpenAPI v3 schema embedded in each CRD (what the API server validates and prunes with). Kubernetes
 *   drops unknown fields of a structural schema, and `kubectl apply` (strict field validation, the default)
 *   rejects them; so every object node that lists `properties` is closed (`additionalProperties: false`),
 *   except where the CRD says `x-kubernetes-preserve-unknown-fields`. Those open regions (param values,
 *   volumes, embedded taskSpec/pipelineSpec, metadata) are the CRD schemas' permissive part, hence:
 * - the v1/v1beta1 swagger definitions (Go types), `#/definitions/...` refs resolved, closed the same way,
 *   with the few Kubernetes core types they reference written here (ObjectMeta, Volume and its common
 *   sources); the other core types they reference are left open (the CRD pass covers steps in full).
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parseAllDocuments } from 'yaml';
import { specDir } from '../fixtures/test-data.ts';

type Schema = Record<string, unknown>;
const isObj = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);

const K8S_KEYWORDS = [
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-int-or-string',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-patch-merge-key',
  'x-kubernetes-patch-strategy',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-validations',
];

function newAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictRequired: false, strictTuples: false });
  for (const keyword of K8S_KEYWORDS) ajv.addKeyword({ keyword });
  const int = (bits: number) => ({
    type: 'number' as const,
    validate: (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** (bits - 1),
  });
  ajv.addFormat('int32', int(32));
  ajv.addFormat('int64', int(64));
  ajv.addFormat('byte', /^[A-Za-z0-9+/]*={0,2}$/);
  ajv.addFormat('date-time', true);
  // Some CRD fields say `format: https` (an annotation for humans, not a JSON Schema format).
  ajv.addFormat('https', true);
  return ajv;
}

/** Closes every object node that lists properties, except where unknown fields are explicitly preserved. */
export function closeSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(closeSchema);
  if (!isObj(node)) return node;
  const out: Schema = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'properties' && isObj(v)) {
      out[k] = Object.fromEntries(Object.entries(v).map(([p, s]) => [p, closeSchema(s)]));
    } else if (['items', 'additionalProperties', 'anyOf', 'allOf', 'oneOf', 'not'].includes(k)) {
      out[k] = closeSchema(v);
    } else {
      out[k] = v;
    }
  }
  if (isObj(node.properties) && node['x-kubernetes-preserve-unknown-fields'] !== true && node.additionalProperties === undefined) {
    out.additionalProperties = false;
  }
  return out;
}

const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
const LABEL_VALUE = '^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$';
const QUALIFIED_KEY = '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$';
const QUANTITY = { anyOf: [{ type: 'integer' }, { type: 'string', pattern: '^[0-9.]+([KMGTPE]i?|[numk]|[eE][0-9]+)?$' }] };

/** Kubernetes ObjectMeta as a manifest may carry it (annotations and labels must be strings). */
export const OBJECT_META: Schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: { type: 'string', maxLength: 253, pattern: DNS_SUBDOMAIN },
    generateName: { type: 'string' },
    namespace: { type: 'string', maxLength: 63, pattern: DNS_SUBDOMAIN },
    labels: {
      type: 'object',
      propertyNames: { pattern: QUALIFIED_KEY },
      additionalProperties: { type: 'string', maxLength: 63, pattern: LABEL_VALUE },
    },
    annotations: { type: 'object', propertyNames: { pattern: QUALIFIED_KEY }, additionalProperties: { type: 'string' } },
    uid: { type: 'string' },
    resourceVersion: { type: 'string' },
    generation: { type: 'integer' },
    creationTimestamp: { type: ['string', 'null'] },
    finalizers: { type: 'array', items: { type: 'string' } },
    ownerReferences: { type: 'array', items: { type: 'object' } },
  },
};

const KEY_TO_PATH = {
  type: 'array',
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['key', 'path'],
    properties: { key: { type: 'string' }, path: { type: 'string' }, mode: { type: 'integer' } },
  },
};
const SECRET_SOURCE = {
  type: 'object',
  additionalProperties: false,
  properties: { secretName: { type: 'string' }, items: KEY_TO_PATH, defaultMode: { type: 'integer' }, optional: { type: 'boolean' } },
};
const CONFIGMAP_SOURCE = {
  type: 'object',
  additionalProperties: false,
  properties: { name: { type: 'string' }, items: KEY_TO_PATH, defaultMode: { type: 'integer' }, optional: { type: 'boolean' } },
};
const EMPTYDIR_SOURCE = {
  type: 'object',
  additionalProperties: false,
  properties: { medium: { type: 'string', enum: ['', 'Memory'] }, sizeLimit: QUANTITY },
};
/** core/v1 Volume: the name and exactly one source; the common sources are checked in depth. */
const VOLUME_SOURCES = [
  'hostPath', 'emptyDir', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'secret', 'nfs', 'iscsi',
  'glusterfs', 'persistentVolumeClaim', 'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'downwardAPI', 'fc',
  'azureFile', 'configMap', 'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'projected',
  'portworxVolume', 'scaleIO', 'storageos', 'csi', 'ephemeral', 'image',
];
const VOLUME: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  minProperties: 2,
  maxProperties: 2,
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 },
    ...Object.fromEntries(VOLUME_SOURCES.map((s) => [s, { type: 'object' }])),
    emptyDir: EMPTYDIR_SOURCE,
    secret: SECRET_SOURCE,
    configMap: CONFIGMAP_SOURCE,
  },
};
const PARAM_VALUE = {
  anyOf: [
    { type: 'string' },
    { type: 'array', items: { type: 'string' } },
    { type: 'object', additionalProperties: { type: 'string' } },
  ],
};

/** Definitions the swagger describes as Go structs but which marshal differently, or which it only references. */
const SWAGGER_OVERRIDES: Record<string, unknown> = {
  'v1.ParamValue': PARAM_VALUE,
  'v1beta1.ParamValue': PARAM_VALUE,
  'v1.ObjectMeta': OBJECT_META,
  'v1.Volume': VOLUME,
  'v1.EmptyDirVolumeSource': EMPTYDIR_SOURCE,
  'v1.SecretVolumeSource': SECRET_SOURCE,
  'v1.ConfigMapVolumeSource': CONFIGMAP_SOURCE,
  'v1.Duration': { type: 'string' },
  'v1.Time': { type: 'string' },
};

function readYaml(file: string): unknown {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  const first = docs[0];
  if (docs.length !== 1 || !first || first.errors.length > 0) throw new Error(`${file}: expected one YAML document`);
  return first.toJS();
}

function crdSchema(file: string, version: string): Schema {
  const crd = readYaml(specDir('tekton', file)) as { spec: { versions: { name: string; schema: { openAPIV3Schema: Schema } }[] } };
  const v = crd.spec.versions.find((x) => x.name === version);
  if (!v) throw new Error(`${file} has no version ${version}`);
  const closed = closeSchema(v.schema.openAPIV3Schema) as Schema & { properties: Schema };
  closed.properties = { ...closed.properties, metadata: OBJECT_META };
  return closed;
}

/** Both swagger files' definitions in one map (v1beta1 types reference v1 ones), overrides applied. */
function swaggerDefinitions(): { definitions: Record<string, unknown>; stubbed: string[] } {
  const defs: Record<string, unknown> = {};
  for (const f of ['v1-swagger.json', 'v1beta1-swagger.json']) {
    const sw = JSON.parse(readFileSync(specDir('tekton', f), 'utf8')) as { definitions: Record<string, unknown> };
    Object.assign(defs, sw.definitions);
  }
  Object.assign(defs, SWAGGER_OVERRIDES);
  // openapi-gen leaves out inlined (embedded) Go structs: references carry ResolverRef's fields inline.
  for (const v of ['v1', 'v1beta1']) {
    const resolver = defs[`${v}.ResolverRef`] as { properties: Schema };
    for (const ref of ['TaskRef', 'PipelineRef', 'Ref']) {
      const d = defs[`${v}.${ref}`] as { properties: Schema } | undefined;
      if (d) defs[`${v}.${ref}`] = { ...d, properties: { ...d.properties, ...resolver.properties } };
    }
  }
  // References to types neither file defines (core/v1 and apimachinery types): left open.
  const stubbed = new Set<string>();
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) n.forEach(walk);
    else if (isObj(n)) {
      for (const [k, v] of Object.entries(n)) {
        if (k === '$ref' && typeof v === 'string') {
          const name = v.replace(/^#\/definitions\//, '');
          if (!(name in defs)) stubbed.add(name);
        } else walk(v);
      }
    }
  };
  walk(defs);
  for (const name of stubbed) defs[name] = {};
  const definitions = Object.fromEntries(Object.entries(defs).map(([name, s]) => [name, closeSchema(s)]));
  return { definitions, stubbed: [...stubbed].sort() };
}

const CRD_FOR: Partial<Record<string, [string, string]>> = {
  'tekton.dev/v1 Task': ['300-task.yaml', 'v1'],
  'tekton.dev/v1beta1 Task': ['300-task.yaml', 'v1beta1'],
  'tekton.dev/v1 Pipeline': ['300-pipeline.yaml', 'v1'],
  'tekton.dev/v1beta1 StepAction': ['300-stepaction.yaml', 'v1beta1'],
};
const SWAGGER_FOR: Partial<Record<string, string>> = {
  'tekton.dev/v1 Task': 'v1.Task',
  'tekton.dev/v1beta1 Task': 'v1beta1.Task',
  'tekton.dev/v1 Pipeline': 'v1.Pipeline',
  'tekton.dev/v1beta1 StepAction': 'v1beta1.StepAction',
  'tekton.dev/v1 TaskRun': 'v1.TaskRun',
  'tekton.dev/v1 PipelineRun': 'v1.PipelineRun',
};

export class TektonValidator {
  readonly #ajv = newAjv();
  readonly #crd = new Map<string, ValidateFunction>();
  readonly #swagger = new Map<string, ValidateFunction>();
  readonly stubbedSwaggerTypes: string[];
  readonly #definitions: Record<string, unknown>;

  constructor() {
    const { definitions, stubbed } = swaggerDefinitions();
    this.#definitions = definitions;
    this.stubbedSwaggerTypes = stubbed;
  }

  /** Which checks apply to a document: the CRD schema (when one is given) and the swagger type. */
  sources(doc: unknown): { crd?: string; swagger?: string } {
    const key = isObj(doc) ? `${String(doc.apiVersion)} ${String(doc.kind)}` : '';
    const crd = CRD_FOR[key];
    return { ...(crd ? { crd: crd.join('#') } : {}), ...(SWAGGER_FOR[key] ? { swagger: SWAGGER_FOR[key] } : {}) };
  }

  /** All schema errors of one document, as "where: message"; empty when it is valid. */
  validate(doc: unknown): string[] {
    const key = isObj(doc) ? `${String(doc.apiVersion)} ${String(doc.kind)}` : '';
    const crd = CRD_FOR[key];
    const def = SWAGGER_FOR[key];
    if (!crd && !def) return [`no schema for "${key}"`];
    const errors: string[] = [];
    if (crd) {
      const id = crd.join('#');
      let fn = this.#crd.get(id);
      if (!fn) {
        fn = this.#ajv.compile(crdSchema(crd[0], crd[1]));
        this.#crd.set(id, fn);
      }
      if (!fn(doc)) errors.push(...format('crd', fn.errors));
    }
    if (def) {
      let fn = this.#swagger.get(def);
      if (!fn) {
        fn = this.#ajv.compile({ $ref: `#/definitions/${def}`, definitions: this.#definitions });
        this.#swagger.set(def, fn);
      }
      if (!fn(doc)) errors.push(...format('swagger', fn.errors));
    }
    return errors;
  }
}

function format(source: string, errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? [])
    .filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'if')
    .map((e) => {
      const extra = e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty: string }).additionalProperty)})` : '';
      return `${source} ${e.instancePath || '/'}: ${e.message ?? e.keyword}${extra}`;
    });
}
