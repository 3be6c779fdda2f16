import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small OIDC issuer on 127.0.0.1, as Fulcio's own tests stand one up (pkg/config/config_test.go at v1.8.8:
 * the discovery document and its keys): GET /.well-known/openid-configuration and GET /keys (a JWKS of one
 * ES256 key); it mints ID tokens (`token`) for the tests to hand to cosign as --identity-token.
 */
export type OidcIssuer = {
  readonly issuer: string;
  /** An ES256 ID token for `aud`, an hour long, with the email claims Fulcio's email issuer type reads. */
  token(o: { email: string; aud?: string }): string;
  stop(): Promise<void>;
};

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

export async function startOidcIssuer(): Promise<OidcIssuer> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = randomUUID();
  let issuer = '';
  const server = http.createServer((req, res) => {
    const send = (v: unknown): void => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(v));
    };
    if (req.url === '/.well-known/openid-configuration') {
      send({ issuer, jwks_uri: `${issuer}/keys`, id_token_signing_alg_values_supported: ['ES256'], response_types_supported: ['id_token'], subject_types_supported: ['public'] });
    } else if (req.url === '/keys') {
      send({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' }] });
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    token: ({ email, aud = 'sigstore' }) => {
      const now = Math.floor(Date.now() / 1000);
      const header = b64url(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid }));
      const claims = b64url(JSON.stringify({ iss: issuer, aud, sub: email, email, email_verified: true, iat: now, nbf: now - 60, exp: now + 3600 }));
      const sig = sign('sha256', Buffer.from(`${header}.${claims}`), { key: privateKey, dsaEncoding: 'ieee-p1363' });
      return `${header}.${claims}.${b64url(sig)}`;
    },
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}
