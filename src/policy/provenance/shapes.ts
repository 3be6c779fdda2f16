/**
 * The parts of Tekton Chains' provenance the provenance rules read, as JSON Schemas (checked by ajv) and the
 * types they guarantee. Only the fields read are constrained; everything else may be anything.
 * Field names from tektoncd/chains e44b60fe65e6897e3784ae4cc7f5ffe39581529e (pkg/chains/formats/slsa) and the
 * Tekton v1 API types it marshals (TaskRef, Param, TaskRunResult, Provenance.RefSource).
 */

/** A Tekton param or result value: a string, an array of strings, or an object of strings. */
export type ParamValue = string | readonly string[] | Readonly<Record<string, string>>;

export type TaskRef = {
  name?: string;
  kind?: string;
  resolver?: string;
  bundle?: string;
  params?: { name: string; value: ParamValue }[];
};

type RefSource = { uri?: string; digest?: Record<string, string>; entryPoint?: string };

export type ResourceDescriptor = { name?: string; uri?: string; digest?: Record<string, string>; content?: string };

type RunSpec = {
  params?: { name: string; value: ParamValue }[];
  taskRef?: TaskRef;
  taskSpec?: unknown;
  pipelineRef?: TaskRef;
  pipelineSpec?: unknown;
};

export type V02Predicate = {
  buildType: string;
  invocation?: { configSource?: RefSource; parameters?: Record<string, ParamValue> };
  buildConfig?: {
    tasks?: {
      name?: string;
      ref?: TaskRef;
      invocation?: { configSource?: RefSource; parameters?: Record<string, ParamValue> };
      results?: { name: string; value: ParamValue }[];
    }[];
  };
  materials?: { uri: string; digest?: Record<string, string> }[];
};

export type V1Predicate = {
  buildDefinition: {
    buildType: string;
    externalParameters?: { runSpec?: RunSpec; buildConfigSource?: { repository?: string; ref?: string; path?: string } };
    resolvedDependencies?: ResourceDescriptor[];
  };
  runDetails?: { byproducts?: ResourceDescriptor[] };
};

/** The TaskRun a slsa-tekton `pipelineTask` entry holds as its content. */
export type TaskRunContent = {
  metadata?: { name?: string; labels?: Record<string, string> };
  spec?: { params?: { name: string; value: ParamValue }[]; taskRef?: TaskRef; taskSpec?: unknown };
  status?: { results?: { name: string; value: ParamValue }[]; provenance?: { refSource?: RefSource } };
};

const str = { type: 'string' };
const digestSet = { type: 'object', additionalProperties: { type: 'string' } };
const value = {
  anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }, { type: 'object', additionalProperties: { type: 'string' } }],
};
const named = { type: 'object', required: ['name', 'value'], properties: { name: str, value } };
const params = { type: 'array', items: named };
const taskRef = { type: 'object', properties: { name: str, kind: str, resolver: str, bundle: str, params } };
const refSource = { type: 'object', properties: { uri: str, digest: digestSet, entryPoint: str } };
const descriptor = { type: 'object', properties: { name: str, uri: str, digest: digestSet, content: str } };
const invocation = { type: 'object', properties: { configSource: refSource, parameters: { type: 'object', additionalProperties: value } } };
const runSpec = { type: 'object', properties: { params, taskRef, pipelineRef: taskRef } };

export const chainsV02Schema = {
  type: 'object',
  required: ['buildType'],
  properties: {
    buildType: str,
    invocation,
    buildConfig: {
      type: 'object',
      properties: {
        tasks: { type: 'array', items: { type: 'object', properties: { name: str, ref: taskRef, invocation, results: { type: 'array', items: named } } } },
      },
    },
    materials: { type: 'array', items: { type: 'object', required: ['uri'], properties: { uri: str, digest: digestSet } } },
  },
};

export const chainsV1Schema = {
  type: 'object',
  required: ['buildDefinition'],
  properties: {
    buildDefinition: {
      type: 'object',
      required: ['buildType'],
      properties: {
        buildType: str,
        externalParameters: { type: 'object', properties: { runSpec, buildConfigSource: { type: 'object', properties: { repository: str, ref: str, path: str } } } },
        resolvedDependencies: { type: 'array', items: descriptor },
      },
    },
    runDetails: { type: 'object', properties: { byproducts: { type: 'array', items: descriptor } } },
  },
};

export const taskRunContentSchema = {
  type: 'object',
  properties: {
    metadata: { type: 'object', properties: { name: str, labels: { type: 'object', additionalProperties: str } } },
    spec: { type: 'object', properties: { params, taskRef } },
    status: { type: 'object', properties: { results: { type: 'array', items: named }, provenance: { type: 'object', properties: { refSource } } } },
  },
};
