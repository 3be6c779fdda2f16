/** A hand-built SVG line chart: time to verdict vs N, log scale on both axes, min–max whiskers. */
import type { Summary } from './stats.ts';

export type Series = { label: string; color: string; dashed?: boolean; points: Array<{ n: number; s: Summary }> };
export type Target = { n: number; ms: number; label: string };

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const msLabel = (ms: number): string => (ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`);

export function timeToVerdictSvg(o: { title: string; subtitle: string; series: Series[]; targets: Target[] }): string {
  const W = 760;
  const H = 470;
  const m = { left: 78, right: 200, top: 62, bottom: 56 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;

  const ns = o.series.flatMap((s) => s.points.map((p) => p.n));
  const values = [...o.series.flatMap((s) => s.points.flatMap((p) => [p.s.min, p.s.max])), ...o.targets.map((t) => t.ms)].filter(
    (v) => Number.isFinite(v) && v > 0,
  );
  const nMin = Math.min(...ns, 1);
  const nMax = Math.max(...ns, 10);
  const yMin = 10 ** Math.floor(Math.log10(Math.min(...values)));
  const yMax = 10 ** Math.ceil(Math.log10(Math.max(...values)));
  const x = (n: number): number => m.left + ((Math.log10(n) - Math.log10(nMin)) / (Math.log10(nMax) - Math.log10(nMin))) * pw;
  const y = (ms: number): number => m.top + ph - ((Math.log10(ms) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * ph;
  const f = (v: number): string => v.toFixed(1);

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${m.left}" y="24" font-size="16" font-weight="bold">${esc(o.title)}</text>`);
  out.push(`<text x="${m.left}" y="44" fill="#555">${esc(o.subtitle)}</text>`);

  // grid and axes
  for (let d = Math.log10(yMin); d <= Math.log10(yMax); d++) {
    for (const k of [1, 2, 5]) {
      const v = k * 10 ** d;
      if (v > yMax) break;
      const yy = y(v);
      out.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${f(yy)}" y2="${f(yy)}" stroke="${k === 1 ? '#ccc' : '#eee'}"/>`);
      if (k === 1 || ph / (Math.log10(yMax) - Math.log10(yMin)) > 90) {
        out.push(`<text x="${m.left - 8}" y="${f(yy + 4)}" text-anchor="end" fill="#333">${msLabel(v)}</text>`);
      }
    }
  }
  for (const n of [...new Set(ns)].sort((a, b) => a - b)) {
    const xx = x(n);
    out.push(`<line x1="${f(xx)}" x2="${f(xx)}" y1="${m.top}" y2="${m.top + ph}" stroke="#eee"/>`);
    out.push(`<text x="${f(xx)}" y="${m.top + ph + 18}" text-anchor="middle" fill="#333">${n}</text>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  out.push(`<text x="${m.left + pw / 2}" y="${H - 14}" text-anchor="middle">candidate entries for the digest, N (log scale)</text>`);
  out.push(`<text transform="translate(18 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">time to verdict (log scale)</text>`);

  // targets
  for (const t of o.targets) {
    const xx = x(t.n);
    const yy = y(t.ms);
    out.push(`<line x1="${f(xx - 14)}" x2="${f(xx + 14)}" y1="${f(yy)}" y2="${f(yy)}" stroke="#000" stroke-width="2" stroke-dasharray="3 2"/>`);
    out.push(`<text x="${f(xx + (t.n === nMax ? -18 : 18))}" y="${f(yy - 5)}" text-anchor="${t.n === nMax ? 'end' : 'start'}" fill="#000" font-size="11">${esc(t.label)}</text>`);
  }

  // series: median line, min–max whiskers, points
  for (const s of o.series) {
    const pts = [...s.points].sort((a, b) => a.n - b.n);
    if (pts.length === 0) continue;
    out.push(
      `<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''} points="${pts.map((p) => `${f(x(p.n))},${f(y(p.s.median))}`).join(' ')}"/>`,
    );
    for (const p of pts) {
      const xx = x(p.n);
      if (p.s.max > p.s.min) {
        out.push(`<line x1="${f(xx)}" x2="${f(xx)}" y1="${f(y(p.s.min))}" y2="${f(y(p.s.max))}" stroke="${s.color}" stroke-width="1.5"/>`);
        for (const v of [p.s.min, p.s.max]) out.push(`<line x1="${f(xx - 4)}" x2="${f(xx + 4)}" y1="${f(y(v))}" y2="${f(y(v))}" stroke="${s.color}" stroke-width="1.5"/>`);
      }
      out.push(`<circle cx="${f(xx)}" cy="${f(y(p.s.median))}" r="3.5" fill="${s.color}"><title>${esc(`${s.label}, N=${p.n}: median ${Math.round(p.s.median)} ms`)}</title></circle>`);
    }
  }

  // legend
  const lx = m.left + pw + 16;
  o.series.forEach((s, i) => {
    const ly = m.top + 10 + i * 40;
    out.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    const [first, ...rest] = s.label.split('\n');
    out.push(`<text x="${lx + 30}" y="${ly + 4}">${esc(first ?? '')}</text>`);
    rest.forEach((line, j) => out.push(`<text x="${lx + 30}" y="${ly + 18 + j * 14}" fill="#555" font-size="11">${esc(line)}</text>`));
  });
  const ly = m.top + 10 + o.series.length * 40;
  out.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="#000" stroke-width="2" stroke-dasharray="3 2"/>`);
  out.push(`<text x="${lx + 30}" y="${ly + 4}">target (whole process)</text>`);
  out.push(`<text x="${lx}" y="${ly + 30}" fill="#555" font-size="11">dot: median; bar: min–max</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
