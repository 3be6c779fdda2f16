/**
 * The fields of the supported Rekor entry bodies that verification reads.
 * Shapes are validated by ajv against Rekor's own schemas (src/rekor/schemas.ts) before these types are applied.
 */
/** Rekor's intoto 0.0.1/0.0.2 and dsse 0.0.1 schemas (schemas/rekor) allow sha256 alone for these hashes. */
export type Hash = { algorithm: 'sha256'; value: string };

export type IntotoV001Body = {
  kind: 'intoto';
  apiVersion: '0.0.1';
  spec: { content: { hash?: Hash; payloadHash?: Hash }; publicKey: string };
};

export type IntotoV002Body = {
  kind: 'intoto';
  apiVersion: '0.0.2';
  spec: {
    content: {
      envelope: { payloadType: string; signatures: { keyid?: string; sig: string; publicKey: string }[] };
      hash?: Hash;
      payloadHash?: Hash;
    };
  };
};

export type DsseV001Body = {
  kind: 'dsse';
  apiVersion: '0.0.1';
  spec: { envelopeHash?: Hash; payloadHash?: Hash; signatures: { signature: string; verifier: string }[] };
};

export type SupportedBody = IntotoV001Body | IntotoV002Body | DsseV001Body;

/** The envelope hash an attestation entry's body records (dsse envelopeHash, intoto content.hash), read without trust. */
export function recordedEnvelopeHash(bodyB64: string): string | undefined {
  try {
    const body = JSON.parse(Buffer.from(bodyB64, 'base64').toString('utf8')) as { spec?: { envelopeHash?: Hash; content?: { hash?: Hash } } };
    const h = body.spec?.envelopeHash ?? body.spec?.content?.hash;
    return h?.algorithm === 'sha256' && typeof h.value === 'string' ? h.value.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}
