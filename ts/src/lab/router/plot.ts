/**
 * Performance profiles of routing strategies as an SVG: for each strategy, the share of clusters
 * it finishes within x times the reference (the optimum with known speeds), against x on a log
 * scale. A curve that rises earlier and reaches 1 sooner is better everywhere; where a curve meets
 * the top is the strategy's worst cluster. One panel per group of clusters (noise levels, say).
 */
import { esc } from '../svg.js';

/** One strategy's finish ÷ reference over the clusters of a panel. */
export type ProfileCurve = { strategy: string; ratios: readonly number[] };

export type ProfilePanel = { name: string; curves: readonly ProfileCurve[] };

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

/** Log-axis ticks from `lo` to `hi`: 1, 2, 5 times powers of ten, and the ends. */
function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let p = Math.floor(Math.log10(lo)); 10 ** p <= hi; p++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** p;
      if (v >= lo - 1e-12 && v <= hi + 1e-12) out.push(v);
    }
  }
  return out;
}

/** Ticks every 0.1 from `lo` to `hi`. */
function linearTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let v = Math.ceil(lo * 10 - 1e-9); v <= hi * 10 + 1e-9; v++) out.push(v / 10);
  return out;
}

/**
 * The step curve of one strategy: (x, share of ratios ≤ x) at each distinct ratio, from `lo` (the
 * share already at or below it) to `hi` (ratios beyond it never count).
 */
export function profilePoints(ratios: readonly number[], lo: number, hi: number): Array<[number, number]> {
  const sorted = ratios.filter((r) => Number.isFinite(r)).sort((a, b) => a - b);
  const n = ratios.length;
  if (n === 0) return [];
  let i = 0;
  while (i < sorted.length && sorted[i]! <= lo) i++;
  const points: Array<[number, number]> = [[lo, i / n]];
  while (i < sorted.length && sorted[i]! <= hi) {
    const x = sorted[i]!;
    points.push([x, points[points.length - 1]![1]]);
    while (i < sorted.length && sorted[i] === x) i++;
    points.push([x, i / n]);
  }
  points.push([hi, points[points.length - 1]![1]]);
  return points;
}

/**
 * The profiles of `panels` side by side over every ratio seen, and beneath them the same up to
 * `zoomTo` (default 1.5×), where strategies near the optimum part.
 */
export function profilePlot(panels: readonly ProfilePanel[], title: string, subtitle = '', zoomTo = 1.5): string {
  const strategies = [...new Set(panels.flatMap((p) => p.curves.map((c) => c.strategy)))];
  const colour = (s: string): string => COLOURS[strategies.indexOf(s) % COLOURS.length]!;
  const all = panels.flatMap((p) => p.curves.flatMap((c) => c.ratios)).filter((r) => Number.isFinite(r) && r > 0);
  const lo = Math.min(1, Math.floor(10 * Math.min(1, ...all)) / 10);
  const hi = Math.max(2, Math.min(100, Math.max(1, ...all) * 1.05));
  const pw = 300;
  const ph = 230;
  const m = { left: 40, right: 10, top: 24, bottom: 34 };
  const head = 64;
  const width = Math.max(620, panels.length * pw);
  const ranges: Array<[number, number]> = [[lo, hi]];
  if (zoomTo > lo && zoomTo < hi) ranges.push([lo, zoomTo]);
  const height = head + ranges.length * ph + 6;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="10">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="18" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<text x="10" y="34" font-size="11">${esc(subtitle)}</text>`,
  ];
  let lx = 10;
  out.push(`<g transform="translate(0,44)">`);
  for (const s of strategies) {
    out.push(`<line x1="${lx}" y1="6" x2="${lx + 18}" y2="6" stroke="${colour(s)}" stroke-width="2"/><text x="${lx + 22}" y="9">${esc(s)}</text>`);
    lx += 30 + 6 * s.length;
  }
  out.push('</g>');
  const iw = pw - m.left - m.right;
  const ih = ph - m.top - m.bottom;
  // Each row of panels over one range of ratios: every one seen, then the zoom.
  ranges.forEach(([from, to], row) => {
    const zoomed = row > 0;
    const xs = zoomed ? linearTicks(from, to) : logTicks(from, to);
    panels.forEach((panel, k) => {
      const ox = k * pw;
      const oy = head + row * ph;
      const px = (x: number): number => ox + m.left + (Math.log(Math.min(to, Math.max(from, x)) / from) / Math.log(to / from)) * iw;
      const py = (share: number): number => oy + m.top + ih - share * ih;
      out.push(`<text x="${ox + m.left}" y="${oy + 14}" font-weight="bold">${esc(zoomed ? `${panel.name}, up to ${to}×` : panel.name)}</text>`);
      for (const share of [0, 0.25, 0.5, 0.75, 1]) {
        out.push(`<line x1="${ox + m.left}" y1="${py(share).toFixed(1)}" x2="${ox + m.left + iw}" y2="${py(share).toFixed(1)}" stroke="#eee"/>`);
        out.push(`<text x="${ox + m.left - 4}" y="${(py(share) + 3).toFixed(1)}" text-anchor="end" fill="#555">${Math.round(share * 100)}%</text>`);
      }
      for (const x of xs) {
        out.push(`<line x1="${px(x).toFixed(1)}" y1="${oy + m.top}" x2="${px(x).toFixed(1)}" y2="${oy + m.top + ih}" stroke="#eee"/>`);
        out.push(`<text x="${px(x).toFixed(1)}" y="${oy + m.top + ih + 12}" text-anchor="middle" fill="#555">${+x.toFixed(2)}×</text>`);
      }
      out.push(`<text x="${ox + m.left + iw / 2}" y="${oy + m.top + ih + 26}" text-anchor="middle" fill="#555">finish ÷ optimum (log scale)</text>`);
      out.push(`<rect x="${ox + m.left}" y="${oy + m.top}" width="${iw}" height="${ih}" fill="none" stroke="#999"/>`);
      for (const curve of panel.curves) {
        const pts = profilePoints(curve.ratios, from, to);
        const worst = Math.max(...curve.ratios);
        out.push(
          `<polyline fill="none" stroke="${colour(curve.strategy)}" stroke-width="1.6" points="${pts.map(([x, share]) => `${px(x).toFixed(1)},${py(share).toFixed(1)}`).join(' ')}"><title>${esc(`${panel.name}, ${curve.strategy}: worst ${worst.toFixed(3)}× over ${curve.ratios.length} clusters`)}</title></polyline>`,
        );
      }
    });
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
