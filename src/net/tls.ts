// TLS trust for every request: Node's default store, plus an extra CA when --ca-cert names one.
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { GateError, errorMessage } from '../errors.ts';

/**
 * The CAs to trust for TLS with an extra CA: Node's default store (bundled roots + NODE_EXTRA_CA_CERTS) plus
 * the extra one, since passing `ca` alone would replace the defaults. Undefined: the defaults as they are.
 */
export function tlsCaList(caCertPem: string | undefined): string[] | undefined {
  return caCertPem === undefined ? undefined : [...tls.getCACertificates('default'), ...caCertificates(caCertPem)];
}

/** Full PEM blocks in `pem`, each checked to parse as an X.509 certificate. */
function caCertificates(pem: string): string[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new GateError('USAGE', 'the extra CA certificate holds no PEM "CERTIFICATE" block');
  for (const b of blocks) {
    try {
      new X509Certificate(b);
    } catch (err) {
      throw new GateError('USAGE', `the extra CA certificate does not parse as X.509: ${errorMessage(err)}`, { cause: err });
    }
  }
  return blocks;
}
