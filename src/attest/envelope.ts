import { GateError } from '../errors.ts';
import { schemaError } from './schemas.ts';

export type DsseSignature = { keyid?: string; sig: string };
export type DsseEnvelope = { payloadType: string; payload: string; signatures: DsseSignature[] };

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** Parses the exact bytes of a DSSE envelope (as stored in a registry layer or a bundle). */
export function parseEnvelope(bytes: Buffer, where: string): DsseEnvelope {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new GateError('ATTESTATION_BINDING', `${where}: the DSSE envelope is not JSON`);
  }
  const err = schemaError('envelope', value);
  if (err) throw new GateError('ATTESTATION_BINDING', `${where}: the DSSE envelope is malformed: ${err}`);
  return value as DsseEnvelope;
}
