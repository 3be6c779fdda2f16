import { X509Certificate } from '@sigstore/core';
import { errorMessage, GateError } from '../errors.ts';
import { parseLoggedSigner } from '../key/keys.ts';
import { decodeEntry, type DecodedEntry } from '../rekor/entry.ts';
import { verifyInLog } from '../rekor/log-verify.ts';
import type { LogEntryAnon } from '../rekor/types.ts';
import type { Trust } from '../trust/index.ts';
import { parseStatement } from '../attest/statement.ts';
import { capped, printable } from '../text.ts';

/** What `rekor-gate search` and `get` print for an entry: what it is, and whether the log vouches for it. */
export type EntryDescription = {
  readonly uuid: string;
  readonly logIndex: number;
  readonly integratedTime: string;
  readonly kind?: string;
  /** `verified (set+proof)`, or the check that failed. */
  readonly log: string;
  readonly signers: string[];
  readonly predicateType?: string;
  readonly subjects: string[];
  readonly attestation: 'in the log' | 'not in the log';
  readonly url: string;
};

const MAX_SUBJECTS = 16;

const b64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8');

function verifierTexts(e: DecodedEntry): string[] {
  const spec = e.spec as Record<string, any>;
  if (e.kind === 'intoto' && e.apiVersion === '0.0.1') return [b64(spec['publicKey'])];
  if (e.kind === 'intoto' && e.apiVersion === '0.0.2') return (spec['content']?.['envelope']?.['signatures'] ?? []).map((s: { publicKey: string }) => b64(s.publicKey));
  if (e.kind === 'dsse') return (spec['signatures'] ?? []).map((s: { verifier: string }) => b64(s.verifier));
  if (e.kind === 'hashedrekord') return [b64(spec['signature']?.['publicKey']?.['content'] ?? '')];
  return [];
}

function signerLabel(pem: string, where: string): string {
  try {
    const s = parseLoggedSigner(pem, where);
    if (s.kind === 'key') return `key sha256:${s.fingerprint}`;
    const cert = X509Certificate.parse(Buffer.from(s.der));
    return `certificate ${cert.subjectAltName === undefined ? '(no SAN)' : capped(cert.subjectAltName)}`;
  } catch {
    return '(unreadable)';
  }
}

/** Describes one entry; never throws for a bad entry (the failure is the description). */
export function describeEntry(uuid: string, raw: LogEntryAnon, trust: Trust, url: string): EntryDescription {
  const base = {
    uuid,
    logIndex: raw.logIndex,
    integratedTime: new Date(raw.integratedTime * 1000).toISOString(),
    url,
    signers: [] as string[],
    subjects: [] as string[],
  };
  let e: DecodedEntry;
  try {
    e = decodeEntry(uuid, raw);
  } catch (err) {
    return { ...base, log: `not checked: ${capped(errorMessage(err), 1024)}`, attestation: 'not in the log' };
  }
  let log: string;
  try {
    const v = verifyInLog(e, trust);
    log = `verified (${v.evidence})`;
  } catch (err) {
    log = `FAILED [${err instanceof GateError ? err.code : 'ERROR'}] ${capped(errorMessage(err), 1024)}`;
  }
  let predicateType: string | undefined;
  let subjects: string[] = [];
  if (e.attestation) {
    try {
      const st = parseStatement(e.attestation, uuid);
      predicateType = capped(st.predicateType);
      subjects = st.subject.slice(0, MAX_SUBJECTS).map((s) => capped(`${s.name ?? ''}@${Object.entries(s.digest).map(([a, v]) => `${a}:${v}`).join(',')}`));
      if (st.subject.length > MAX_SUBJECTS) subjects.push(`(and ${st.subject.length - MAX_SUBJECTS} more)`);
    } catch {
      // not a statement: nothing more to show
    }
  }
  return {
    ...base,
    kind: capped(`${e.kind} ${e.apiVersion}`),
    log,
    signers: verifierTexts(e).map((p) => signerLabel(p, uuid)),
    ...(predicateType ? { predicateType } : {}),
    subjects,
    attestation: e.attestation ? 'in the log' : 'not in the log',
  };
}

/** Text for the terminal: every line printable (describeEntry already capped what the log sent). */
export function renderDescriptions(list: readonly EntryDescription[]): string {
  if (list.length === 0) return 'no entries\n';
  return `${list
    .map((d) =>
      [
        `${d.uuid}`,
        `  log index:   ${d.logIndex}, integrated ${d.integratedTime}`,
        `  kind:        ${d.kind ?? '?'}`,
        `  log check:   ${d.log}`,
        `  signer:      ${d.signers.join('; ') || '-'}`,
        `  predicate:   ${d.predicateType ?? '-'} (attestation ${d.attestation})`,
        `  subjects:    ${d.subjects.join(' ') || '-'}`,
        `  url:         ${d.url}`,
      ]
        .map(printable)
        .join('\n'),
    )
    .join('\n\n')}\n`;
}
