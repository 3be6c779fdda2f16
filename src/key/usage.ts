import type { X509Certificate } from '@sigstore/core';
import { GateError, errorMessage } from '../errors.ts';
import { capped } from '../text.ts';

const OID_EXT_KEY_USAGE = '2.5.29.37';
/** id-kp-codeSigning (RFC 5280 4.2.1.12): what Fulcio certificates carry. */
export const EKU_CODE_SIGNING = '1.3.6.1.5.5.7.3.3';

/** The extended key usages a certificate lists (undefined when it has no such extension), read by @sigstore/core. */
function extendedKeyUsages(cert: X509Certificate): string[] | undefined {
  const ext = cert.extension(OID_EXT_KEY_USAGE);
  if (!ext) return undefined;
  // extnValue is an OCTET STRING holding SEQUENCE OF KeyPurposeId
  const sequence = ext.valueObj.subs[0];
  if (!sequence) throw new Error('empty extended key usage extension');
  return sequence.subs.map((s) => s.toOID());
}

/**
 * A keyless signer's leaf certificate must be meant for signing code: its extended key usage lists code signing,
 * and its key usage allows digital signatures. cosign and sigstore-go ask Go's x509 verification for the
 * code-signing EKU; this is stricter where Fulcio never differs (the extension must be there and name code
 * signing itself, not only anyExtendedKeyUsage; key usage must be present with digitalSignature), so that a
 * TLS or other certificate from a private CA in the trusted root never signs for an identity.
 */
export function checkCodeSigningUsage(cert: X509Certificate, where: string): void {
  let ekus: string[] | undefined;
  let digitalSignature: boolean | undefined;
  try {
    ekus = extendedKeyUsages(cert);
    digitalSignature = cert.extKeyUsage?.digitalSignature; // @sigstore/core's name for the key usage extension
  } catch (err) {
    throw new GateError('CERTIFICATE_USAGE', `${where}: the certificate's key usage extensions do not parse: ${capped(errorMessage(err))}`);
  }
  if (ekus === undefined) {
    throw new GateError('CERTIFICATE_USAGE', `${where}: the certificate has no extended key usage extension; a signer's certificate must list code signing (${EKU_CODE_SIGNING})`);
  }
  if (!ekus.includes(EKU_CODE_SIGNING)) {
    throw new GateError(
      'CERTIFICATE_USAGE',
      `${where}: the certificate's extended key usage is ${capped(ekus.join(', ')) || '(empty)'}, not code signing (${EKU_CODE_SIGNING})`,
    );
  }
  if (digitalSignature === undefined) {
    throw new GateError('CERTIFICATE_USAGE', `${where}: the certificate has no key usage extension; a signer's certificate must allow digitalSignature`);
  }
  if (!digitalSignature) {
    throw new GateError('CERTIFICATE_USAGE', `${where}: the certificate's key usage does not include digitalSignature`);
  }
}
