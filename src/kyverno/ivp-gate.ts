import { GateError } from '../errors.ts';
import { compileIvp, type CompiledIvp } from './ivp-policy.ts';

/**
 * An ImageValidatingPolicy as the gate applies it: compileIvp's reading, less what the gate cannot yet
 * verify, refused by name (BAD_POLICY, exit 2): a `referrer` attestation (an OCI referrer of an artifact type,
 * which Kyverno reads without verifying it; rekor-gate verifies in-toto attestations only), an attestor's
 * `trustedRoot` (the run's trusted root is the trust), and `ctlog.rekorPubKey` without `ctlog.url`.
 */
export function compileGateIvp(doc: unknown, where: string): CompiledIvp {
  const p = compileIvp(doc, where);
  const refused: string[] = [];
  p.attestations.forEach((a, i) => {
    if (a.kind === 'referrer') refused.push(`spec.attestations[${i}].referrer (attestation ${a.name}: only intoto attestations are verified)`);
  });
  p.attestors.forEach((a, i) => {
    if (a.trustedRoot !== undefined) refused.push(`spec.attestors[${i}].cosign.trustedRoot (attestor ${a.name}: the run's trusted root is the trust)`);
    if (a.rekorPublicKey !== undefined && a.rekorUrl === undefined) refused.push(`spec.attestors[${i}].cosign.ctlog.rekorPubKey without ctlog.url (attestor ${a.name})`);
  });
  if (refused.length > 0) throw new GateError('BAD_POLICY', `${where}: not supported by rekor-gate when gating an image: ${refused.join(', ')}`);
  return p;
}
