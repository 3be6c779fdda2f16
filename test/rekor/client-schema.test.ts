import fs from 'node:fs';
import { expect, it } from 'vitest';
import YAML from 'yaml';
import { RETRIEVE_BATCH_SIZE, SEARCH_INDEX_RESPONSE_SCHEMA } from '../../src/rekor/client.ts';
import { describeWithTestData, specDir } from '../fixtures/test-data.ts';

type OpenApi = {
  definitions: { SearchLogQuery: { properties: { entryUUIDs: { maxItems: number } } } };
  paths: Record<string, { post: { responses: Record<string, { schema: unknown }> } }>;
};

/** A schema without its `description`s: what it checks. */
const checks = (schema: unknown): unknown =>
  JSON.parse(JSON.stringify(schema, (k, v: unknown) => (k === 'description' ? undefined : v)));

// The LogEntry schema (schemas/rekor-api) is held to openapi.yaml by test/rekor/schema-differential.test.ts.
describeWithTestData(import.meta.url, "Rekor's openapi.yaml (spec/rekor)", 'shapes taken from openapi.yaml', () => {
  const openapi = (): OpenApi => YAML.parse(fs.readFileSync(specDir('rekor', 'openapi.yaml'), 'utf8')) as OpenApi;

  it('the search response schema checks what the /api/v1/index/retrieve 200 schema checks', () => {
    expect(SEARCH_INDEX_RESPONSE_SCHEMA).toEqual(checks(openapi().paths['/api/v1/index/retrieve']?.post.responses['200']?.schema));
  });

  it('the retrieve batch size is SearchLogQuery.entryUUIDs.maxItems', () => {
    expect(RETRIEVE_BATCH_SIZE).toBe(openapi().definitions.SearchLogQuery.properties.entryUUIDs.maxItems);
  });
});
