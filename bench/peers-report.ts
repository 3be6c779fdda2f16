/** The "real peers" section of RESULTS.md (bench/peers.ts's figures). */
import { PEERS, type PeerCell, type PeersResult } from './peers.ts';
import { fmtSummary, summarize } from './stats.ts';

const median = (c: PeerCell): number | undefined => ('ms' in c ? summarize(c.ms).median : undefined);
const esc = (s: string): string => s.replaceAll('|', '\\|');

export function peersSection(p: PeersResult | undefined): string[] {
  if (!p) return [];
  const L: string[] = ['## The real peers (real Rekor v1 and docker-registry, real cosign artifacts)', ''];
  if ('skipped' in p) return [...L, `Skipped: ${p.skipped}`, ''];
  L.push(
    `Whole processes against rekor-server ${p.versions['rekor-server']} (Trillian ${p.versions['trillian']}, MariaDB) and Debian's docker-registry, each behind a loopback delay proxy adding ${p.latencyMs} ms to every request; ${p.runs} runs per cell, medians with (min–max, runs). rekor-cli ${p.versions['rekor-cli']}: \`search --sha\` then \`get --uuid\` for each entry found, one process each, one after another (the sum is shown); cosign ${p.versions['cosign v2']} and ${p.versions['cosign v3']}: \`verify-attestation --key\` (v3, and v2 for a bundle, with \`--trusted-root\`; v2 otherwise with \`--rekor-url\`). The attestations were made by cosign v2 (\`attest --key\`, N times on one image) and v3 (its bundle format). "×" is the peer's median over rekor-gate's. Requests: both proxies, per run.`,
    '',
  );
  L.push(`| case | N | ${PEERS.map((x) => x).join(' | ')} |`, `| --- | ---: | ${PEERS.map(() => '---').join(' | ')} |`);
  const notes: string[] = [];
  for (const c of p.cases) {
    const gate = median(c.cells['rekor-gate']);
    const cells = PEERS.map((peer) => {
      const cell = c.cells[peer];
      if ('cannot' in cell) {
        notes.push(`- ${peer}, ${c.label}, N=${c.n}: ${esc(cell.cannot)}`);
        return `cannot (note ${notes.length})`;
      }
      const m = median(cell) ?? NaN;
      const ratio = peer !== 'rekor-gate' && gate !== undefined ? `; ${(m / gate).toFixed(1)}×` : '';
      return `${fmtSummary(summarize(cell.ms))}, ${cell.requests} req${ratio}`;
    });
    L.push(`| ${c.label} | ${c.n} | ${cells.join(' | ')} |`);
  }
  L.push('');
  if (notes.length > 0) L.push('What the peers said where they could not do a case (their own output, shortened):', '', ...notes.map((n, i) => n.replace(/^- /, `${i + 1}. `)), '');
  return L;
}
