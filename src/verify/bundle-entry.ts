import type { Bundle } from '@sigstore/bundle';
import { pem as sigpem } from '@sigstore/core';
import type { LogEntryAnon } from '../rekor/types.ts';
import type { SignatureLayer } from '../signature/hashedrekord.ts';
import { SIMPLE_SIGNING_MEDIA_TYPE } from '../signature/payload.ts';

/** Rekor v1 entry kinds whose bodies rekor-gate binds itself; others (Rekor v2) go through @sigstore/verify whole. */
const V1_KINDS = new Set(['dsse 0.0.1', 'intoto 0.0.1', 'intoto 0.0.2']);

export type BundleAsEntry = { readonly entry: LogEntryAnon; readonly envelopeBytes: Buffer };

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

/** A bundle's (first) transparency log entry as the log's API would serve it: the same signed fields, re-encoded. */
function tlogAsEntry(t: Bundle['verificationMaterial']['tlogEntries'][number]): LogEntryAnon {
  const p = t.inclusionProof;
  return {
    body: b64(t.canonicalizedBody),
    integratedTime: Number(t.integratedTime),
    logID: hex(t.logId.keyId),
    logIndex: Number(t.logIndex),
    verification: {
      ...(t.inclusionPromise ? { signedEntryTimestamp: b64(t.inclusionPromise.signedEntryTimestamp) } : {}),
      ...(p
        ? {
            inclusionProof: {
              logIndex: Number(p.logIndex),
              rootHash: hex(p.rootHash),
              treeSize: Number(p.treeSize),
              hashes: p.hashes.map(hex),
              ...(p.checkpoint?.envelope ? { checkpoint: p.checkpoint.envelope } : {}),
            },
          }
        : {}),
    },
  };
}

/**
 * A bundle whose transparency log entry is a Rekor v1 attestation entry, as the log's API would serve it
 * (same signed fields, re-encoded), with its DSSE envelope. Undefined for what only @sigstore/verify can
 * judge whole (Rekor v2 entries, message signatures).
 */
export function bundleAsLogEntry(bundle: Bundle): BundleAsEntry | undefined {
  const t = bundle.verificationMaterial.tlogEntries[0];
  if (!t || bundle.content.$case !== 'dsseEnvelope' || !t.kindVersion) return undefined;
  if (!V1_KINDS.has(`${t.kindVersion.kind} ${t.kindVersion.version}`)) return undefined;
  const env = bundle.content.dsseEnvelope;
  // The envelope as Go clients (cosign, Chains) serialize it for upload: payloadType, payload, signatures[{keyid, sig}].
  const envelopeBytes = Buffer.from(
    JSON.stringify({
      payloadType: env.payloadType,
      payload: b64(env.payload),
      signatures: env.signatures.map((s) => ({ keyid: s.keyid ?? '', sig: b64(s.sig) })),
    }),
  );
  return { entry: tlogAsEntry(t), envelopeBytes };
}

export type BundleAsSignature = { readonly entry: LogEntryAnon; readonly layer: SignatureLayer };

/**
 * Tekton Chains' image signature in a Sigstore bundle (`storage.oci.encoding-format: sigstore-bundle`; Chains
 * pkg/chains/storage/oci/simple.go makeSigBundleBytes at e44b60fe65e6897e3784ae4cc7f5ffe39581529e): a DSSE
 * envelope of payload type simple signing whose one signature is over the raw payload (not the DSSE
 * pre-authentication encoding), and a hashedrekord 0.0.1 entry of that payload. Not what cosign 3 writes
 * (an in-toto statement in a DSSE envelope, logged as dsse), whatever its comment says. Undefined for any other
 * bundle.
 */
export function bundleAsSignature(bundle: Bundle): BundleAsSignature | undefined {
  const t = bundle.verificationMaterial.tlogEntries[0];
  if (!t || bundle.content.$case !== 'dsseEnvelope' || `${t.kindVersion?.kind} ${t.kindVersion?.version}` !== 'hashedrekord 0.0.1') return undefined;
  const env = bundle.content.dsseEnvelope;
  const sig = env.signatures[0];
  if (env.payloadType !== SIMPLE_SIGNING_MEDIA_TYPE || !sig || env.signatures.length !== 1) return undefined;
  const m = bundle.verificationMaterial.content;
  const der = m.$case === 'certificate' ? m.certificate.rawBytes : m.$case === 'x509CertificateChain' ? m.x509CertificateChain.certificates[0]?.rawBytes : undefined;
  return {
    entry: tlogAsEntry(t),
    layer: { payload: Buffer.from(env.payload), signature: Buffer.from(sig.sig), ...(der ? { certificatePem: sigpem.fromDER(Buffer.from(der)) } : {}) },
  };
}
