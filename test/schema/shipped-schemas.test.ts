import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import ajvFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { BUNDLE_SCHEMA } from '../../src/bundle/schema.ts';
import { SEARCH_INDEX_RESPONSE_SCHEMA } from '../../src/rekor/client.ts';
import { ENTRY_BODY_SCHEMA, LOG_ENTRY_ANON_SCHEMA } from '../../src/rekor/schemas.ts';
import {
  COSIGN_BUNDLE_ANNOTATION_SCHEMA,
  DOCKER_CONFIG_SCHEMA,
  IMAGE_INDEX_SCHEMA,
  IMAGE_MANIFEST_SCHEMA,
  TOKEN_RESPONSE_SCHEMA,
} from '../../src/registry/schemas.ts';
import { TRUSTED_ROOT_SCHEMA } from '../../src/trust/schema.ts';
import { repoRoot } from '../fixtures/paths.ts';

/**
 * The product compiles its schemas without checking them against the meta-schema (to start fast), so
 * every schema it ships is checked here, once: valid draft-07 and compilable in strict mode.
 */
function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.json') ? [path.join(dir, e.name)] : [],
  );
}

const inCode: Record<string, object> = {
  BUNDLE_SCHEMA,
  SEARCH_INDEX_RESPONSE_SCHEMA,
  ENTRY_BODY_SCHEMA,
  LOG_ENTRY_ANON_SCHEMA,
  COSIGN_BUNDLE_ANNOTATION_SCHEMA,
  DOCKER_CONFIG_SCHEMA,
  IMAGE_INDEX_SCHEMA,
  IMAGE_MANIFEST_SCHEMA,
  TOKEN_RESPONSE_SCHEMA,
  TRUSTED_ROOT_SCHEMA,
};

describe('every schema rekor-gate ships is a valid JSON Schema', () => {
  const ajv = new Ajv({ strict: false, validateSchema: true });
  ajvFormats.default(ajv);
  for (const file of files(path.join(repoRoot, 'schemas'))) {
    it(path.relative(repoRoot, file), () => {
      const schema = JSON.parse(readFileSync(file, 'utf8'));
      expect(ajv.validateSchema(schema), JSON.stringify(ajv.errors)).toBe(true);
    });
  }
  for (const [name, schema] of Object.entries(inCode)) {
    it(name, () => {
      expect(ajv.validateSchema(schema), JSON.stringify(ajv.errors)).toBe(true);
    });
  }
});
