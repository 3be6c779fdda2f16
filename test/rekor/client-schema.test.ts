import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import {
  RETRIEVE_BATCH_SIZE,
  SEARCH_INDEX_RESPONSE_SCHEMA,
  runtimeLogEntrySchema,
} from '../../src/rekor/client.ts';
import { repoRoot, specDir } from '../fixtures/paths.ts';

type OpenApi = {
  definitions: Record<string, unknown> & { SearchLogQuery: { properties: { entryUUIDs: { maxItems: number } } } };
  paths: Record<string, { post: { responses: Record<string, { schema: unknown }> } }>;
};
const openapi = YAML.parse(fs.readFileSync(specDir('rekor', 'openapi.yaml'), 'utf8')) as OpenApi;
const shipped = JSON.parse(
  fs.readFileSync(path.join(repoRoot, 'schemas', 'rekor-api', 'log-entry.schema.json'), 'utf8'),
) as { $ref: string; definitions: Record<string, unknown> };

describe('schemas/rekor-api/log-entry.schema.json', () => {
  it('holds openapi.yaml LogEntry and InclusionProof verbatim, and nothing else', () => {
    expect(Object.keys(shipped.definitions).sort()).toEqual(['InclusionProof', 'LogEntry']);
    expect(shipped.definitions.LogEntry).toEqual(openapi.definitions.LogEntry);
    expect(shipped.definitions.InclusionProof).toEqual(openapi.definitions.InclusionProof);
    expect(shipped.$ref).toBe('#/definitions/LogEntry');
  });

  it('is applied with exactly the three documented adjustments to the live API', () => {
    const expected = structuredClone(shipped) as unknown as {
      definitions: {
        LogEntry: {
          additionalProperties: { properties: Record<string, unknown> & { attestation: { properties: Record<string, unknown> } } };
        };
        InclusionProof: { required: string[] };
      };
    };
    const anon = expected.definitions.LogEntry.additionalProperties.properties;
    anon.body = { type: 'string', format: 'byte' };
    anon.attestation.properties.data = { type: 'string', format: 'byte' };
    expected.definitions.InclusionProof.required = ['logIndex', 'rootHash', 'treeSize', 'hashes'];
    expect(runtimeLogEntrySchema()).toEqual(expected);
  });
});

describe('other shapes taken from openapi.yaml', () => {
  it('the search response schema is the /api/v1/index/retrieve 200 schema', () => {
    expect(SEARCH_INDEX_RESPONSE_SCHEMA).toEqual(openapi.paths['/api/v1/index/retrieve']?.post.responses['200']?.schema);
  });

  it('the retrieve batch size is SearchLogQuery.entryUUIDs.maxItems', () => {
    expect(RETRIEVE_BATCH_SIZE).toBe(openapi.definitions.SearchLogQuery.properties.entryUUIDs.maxItems);
  });
});
