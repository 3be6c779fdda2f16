import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseImageDigest } from '../../src/digest.ts';
import { GateError } from '../../src/errors.ts';
import type { OciClient } from '../../src/registry/client.ts';
import { parseImageRef } from '../../src/registry/reference.ts';
import { parseTrustedKeys } from '../../src/trust/public-keys.ts';
import { acceptVsaEnvelope, readSummaryEnvelope, type VsaAcceptOptions } from '../../src/vsa/accept.ts';
import { signVsa } from '../../src/vsa/index.ts';
import { codeOf } from '../fixtures/errors.ts';

/** Each check of the summary path made to reject, with no registry: the envelope's checks, then how it is read. */
const HEX = 'ab'.repeat(32);
const DIGEST = parseImageDigest(`sha256:${HEX}`);
const POLICY_HEX = 'cd'.repeat(32);
const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const keyPem = k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const keys = parseTrustedKeys(k.publicKey.export({ type: 'spki', format: 'pem' }).toString(), 'vsa.pub');
const NOW = Math.floor(Date.UTC(2026, 0, 10) / 1000);
const opts: VsaAcceptOptions = { keys, policyUri: 'rekor-gate:flags', now: NOW };

function summary(predicate: Record<string, unknown> = {}, predicateType = 'https://slsa.dev/verification_summary/v1'): Record<string, unknown> {
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'registry.test/app', digest: { sha256: HEX } }],
    predicateType,
    predicate: {
      verifier: { id: 'https://example.test/verifier' },
      timeVerified: new Date((NOW - 3600) * 1000).toISOString(),
      resourceUri: `pkg:oci/app@sha256%3A${HEX}`,
      policy: { uri: 'rekor-gate:flags', digest: { sha256: POLICY_HEX } },
      inputAttestations: [],
      verificationResult: 'PASSED',
      verifiedLevels: [],
      ...predicate,
    },
  };
}
const signed = (st: object): Buffer => Buffer.from(JSON.stringify(signVsa(st, keyPem)));
const accept = (st: object, o: Partial<VsaAcceptOptions> = {}) => acceptVsaEnvelope(signed(st), DIGEST, { ...opts, ...o }, 'summary x');
const rejection = (fn: () => unknown): GateError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof GateError) return err;
    throw err;
  }
  throw new Error('accepted');
};

describe('acceptVsaEnvelope', () => {
  it('accepts a PASSED summary of the image, under the policy, signed by the key', () => {
    expect(accept(summary()).timeVerified).toBe(NOW - 3600);
  });

  it('a statement that is not a summary is refused, even one with every summary field (PREDICATE_TYPE)', () => {
    const err = rejection(() => accept(summary({}, 'https://slsa.dev/provenance/v0.2')));
    expect(err.code).toBe('PREDICATE_TYPE');
    expect(err.message).toContain('not a verification summary');
  });

  it('no readable timeVerified is refused, with or without a maximum age (else the age comparison is with NaN)', () => {
    for (const timeVerified of [undefined, 'yesterday', 12345]) {
      const err = rejection(() => accept(summary({ timeVerified }), { maxAgeSeconds: 3600 * 24 }));
      expect(err.code).toBe('POLICY');
      expect(err.message).toContain('no readable timeVerified');
      expect(codeOf(() => accept(summary({ timeVerified })))).toBe('POLICY');
    }
  });

  it('--vsa-policy-digest: a summary must name that digest too; a URI alone names a path, not a policy', () => {
    expect(accept(summary(), { policyDigest: POLICY_HEX }).timeVerified).toBe(NOW - 3600);
    const other = rejection(() => accept(summary(), { policyDigest: 'ef'.repeat(32) }));
    expect(other.code).toBe('VSA_NOT_EVIDENCE');
    expect(other.message).toContain(`sha256:${'ef'.repeat(32)}`);
    const none = rejection(() => accept(summary({ policy: { uri: 'rekor-gate:flags' } }), { policyDigest: POLICY_HEX }));
    expect(none.code).toBe('VSA_NOT_EVIDENCE');
  });
});

describe('readSummaryEnvelope: the referrer must be a manifest with a DSSE layer, and that layer is read', () => {
  const repo = parseImageRef('registry.test/acme/app:v1');
  const DSSE = 'application/vnd.dsse.envelope.v1+json';
  const desc = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'11'.repeat(32)}`, size: 10 };
  const blobs: Record<string, Buffer> = { [`sha256:${'22'.repeat(32)}`]: Buffer.from('not the envelope'), [`sha256:${'33'.repeat(32)}`]: Buffer.from('the envelope') };
  const layer = (mediaType: string, d: string) => ({ mediaType, digest: `sha256:${d.repeat(32)}`, size: 12 });
  const clientServing = (m: object): OciClient =>
    ({ getManifest: async () => m, getBlob: async (_r: unknown, digest: string) => blobs[digest] ?? Buffer.alloc(0) }) as unknown as OciClient;
  const manifest = (layers: object[]) => ({ kind: 'manifest', digest: desc.digest, mediaType: desc.mediaType, bytes: Buffer.from('{}'), manifest: { schemaVersion: 2, config: layer('application/vnd.oci.empty.v1+json', '44'), layers } });

  it('an index in the summary\'s place is refused (REGISTRY_MALFORMED)', async () => {
    const index = { kind: 'index', digest: desc.digest, mediaType: 'application/vnd.oci.image.index.v1+json', bytes: Buffer.from('{}'), index: { schemaVersion: 2, manifests: [] } };
    const err = await readSummaryEnvelope(clientServing(index), repo, desc, 'summary x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GateError);
    expect(err).toMatchObject({ code: 'REGISTRY_MALFORMED', message: expect.stringContaining('an index, not a manifest') });
  });

  it('a manifest with no DSSE layer is refused (REGISTRY_MALFORMED)', async () => {
    const err = await readSummaryEnvelope(clientServing(manifest([layer('text/plain', '22')])), repo, desc, 'summary x').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'REGISTRY_MALFORMED', message: expect.stringContaining(`no ${DSSE} layer`) });
  });

  it('the DSSE layer is read, not the first layer', async () => {
    const bytes = await readSummaryEnvelope(clientServing(manifest([layer('text/plain', '22'), layer(DSSE, '33')])), repo, desc, 'summary x');
    expect(bytes.toString()).toBe('the envelope');
  });
});
