import { jsonText, printable } from '../text.ts';
import type { CandidateOutcome, Verdict } from '../verify/types.ts';

function when(t: number | undefined): string {
  return t === undefined ? '?' : new Date(t * 1000).toISOString();
}

function candidateLine(c: CandidateOutcome): string {
  // A registry item that names no log entry carries the placeholder index -1.
  const index = c.logIndex === undefined ? 'log index ?' : c.logIndex < 0 ? 'no log entry' : `log index ${c.logIndex}`;
  const head = `${c.role === 'signature' ? 'signature ' : ''}${c.uuid} (${index}, ${c.kind ?? 'unknown kind'}, via ${c.sources.join('+')})`;
  if (c.status === 'passed') return `  + ${head}: passed, integrated ${when(c.integratedTime)}`;
  if (c.status === 'skipped') return `  - ${head}: skipped: ${c.reason}`;
  return `  x ${head}: ${c.check} check failed [${c.code}]: ${c.reason}`;
}

/** A short human summary: which entry passed, and for every other candidate the check it failed. */
export function renderText(v: Verdict): string {
  return `${renderLines(v).map(printable).join('\n')}\n`;
}

function renderLines(v: Verdict): string[] {
  const lines: string[] = [];
  if (v.verified && v.accepted?.sources.includes('vsa')) {
    const a = v.accepted;
    lines.push(`VERIFIED ${v.imageDigest}${v.imageUrl ? ` (${v.imageUrl})` : ''}`);
    lines.push(`  found via: vsa (${a.registryLocation}), verified ${when(a.integratedTime)}`);
    lines.push(`  signer:    ${a.signer}`);
    lines.push(`  predicate: ${a.predicateType}`);
  } else if (v.verified && v.accepted) {
    const a = v.accepted;
    lines.push(`VERIFIED ${v.imageDigest}${v.imageUrl ? ` (${v.imageUrl})` : ''}`);
    lines.push(`  entry:     ${a.uuid}`);
    lines.push(`  log index: ${a.logIndex}, integrated ${when(a.integratedTime)}, ${a.entryUrl}`);
    lines.push(`  found via: ${a.sources.join(', ')}; attestation from the ${a.attestationFrom}${a.registryLocation && a.attestationFrom === 'registry' ? ` (${a.registryLocation})` : ''}`);
    lines.push(`  signer:    ${a.signer}`);
    if (a.signatureCheckedBy === 'log') {
      lines.push("  signature: vouched for by the log (intoto 0.0.1: the log keeps the payload, not the envelope; give the image's reference to check the registry's envelope)");
    }
    lines.push(`  predicate: ${a.predicateType}`);
    if (a.builderId) lines.push(`  builder:   ${a.builderId}`);
    const sig = v.signature?.accepted;
    if (sig) {
      const logged = sig.logIndex !== undefined && sig.logIndex >= 0 ? `entry ${sig.uuid} (log index ${sig.logIndex})` : `${sig.kind ?? 'signature'} (the log not checked)`;
      lines.push(`  signature: ${logged}, via ${sig.sources.join(', ')}${sig.registryLocation ? ` (${sig.registryLocation})` : ''}, signed by ${sig.signer}`);
    }
  } else {
    lines.push(`NOT VERIFIED ${v.imageDigest}${v.imageUrl ? ` (${v.imageUrl})` : ''}: ${v.reason}`);
  }
  if (v.summaryPolicy) lines.push(`  summary policy: ${v.summaryPolicy.uri} ${v.summaryPolicy.digest}`);
  const shown = new Set([v.accepted?.uuid, v.verified ? v.signature?.accepted?.uuid : undefined].filter((u) => u !== undefined));
  const others = v.candidates.filter((c) => c !== v.accepted && !shown.has(c.uuid));
  if (others.length > 0) {
    lines.push(v.verified ? `other candidates (${others.length}):` : `candidates (${others.length}):`);
    for (const c of others) lines.push(candidateLine(c));
  }
  if (v.admission) {
    lines.push(`admission policy: ${v.admission.verified ? 'satisfied' : 'NOT satisfied'}`);
    for (const o of v.admission.outcomes) {
      const head = o.rule ? `${o.policy} rule ${o.rule} ${o.entry}${o.at}` : `${o.policy} ${o.entry}${o.at}`;
      const passed = o.requirement === 'validation' ? `validations passed over the verified evidence (${o.signer})` : `${o.requirement} passed (entry ${o.uuid}, ${o.signer})`;
      lines.push(o.passed ? `  + ${head}: ${passed}` : `  x ${head}: ${o.requirement} failed: ${o.reason}`);
    }
    for (const r of v.admission.skipped) {
      lines.push(`  - ${r}: does not apply to this image (${r.startsWith('ImageValidatingPolicy/') ? 'matchImageReferences' : 'imageReferences'})`);
    }
  }
  for (const w of v.warnings) lines.push(`warning: ${w}`);
  return lines;
}

export function renderJson(v: Verdict, version: string): string {
  return `${jsonText({ tool: 'rekor-gate', version, ...v })}\n`;
}

/** The JSON output of a run that ended in an error (no Verdict): the error's code and message. */
export function renderErrorJson(code: string, message: string, version: string): string {
  return `${jsonText({ tool: 'rekor-gate', version, verified: false, error: { code, message } })}\n`;
}
