/**
 * An SVG of measured against predicted throughput over worker counts: one small panel per
 * series of settings, all on the same scale, the model's predictions as a line and the
 * measurements as dots (hollow where calibration saw them, filled where it did not).
 */
import { esc, short, ticks } from '../svg.js';

export type PlotSeries = {
  name: string;
  points: Array<{ workers: number; predicted: number; measured?: number; calibration?: boolean }>;
};

export function throughputPlot(series: readonly PlotSeries[], title: string, subtitle = ''): string {
  const cols = Math.min(4, Math.max(1, series.length));
  const rows = Math.ceil(series.length / cols);
  const pw = 250;
  const ph = 180;
  const m = { left: 46, right: 12, top: 26, bottom: 30 };
  const head = 64;
  const width = cols * pw;
  const height = head + rows * ph + 10;
  const all = series.flatMap((s) => s.points);
  const maxW = Math.max(1, ...all.map((p) => p.workers));
  const y = ticks(Math.max(1, ...all.flatMap((p) => [p.predicted, p.measured ?? 0])));
  const yMax = y[y.length - 1];
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="10">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="18" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<text x="10" y="34" font-size="11">${esc(subtitle)}</text>`,
    `<g transform="translate(10,44)"><line x1="0" y1="6" x2="22" y2="6" stroke="#1f77b4" stroke-width="2"/><text x="26" y="9">model (calibrated on 1 worker)</text>`,
    `<circle cx="206" cy="6" r="3.5" fill="white" stroke="#d62728" stroke-width="1.5"/><text x="213" y="9">measured, calibration</text>`,
    `<circle cx="336" cy="6" r="3.5" fill="#d62728"/><text x="343" y="9">measured, held out</text></g>`,
  ];
  series.forEach((s, i) => {
    const ox = (i % cols) * pw;
    const oy = head + Math.floor(i / cols) * ph;
    const iw = pw - m.left - m.right;
    const ih = ph - m.top - m.bottom;
    const px = (w: number) => ox + m.left + (maxW === 1 ? iw / 2 : ((w - 1) / (maxW - 1)) * iw);
    const py = (v: number) => oy + m.top + ih - (v / yMax) * ih;
    out.push(`<text x="${ox + m.left}" y="${oy + 16}" font-weight="bold">${esc(s.name)}</text>`);
    for (const t of y) {
      out.push(`<line x1="${ox + m.left}" y1="${py(t).toFixed(1)}" x2="${ox + m.left + iw}" y2="${py(t).toFixed(1)}" stroke="#eee"/>`);
      out.push(`<text x="${ox + m.left - 4}" y="${(py(t) + 3).toFixed(1)}" text-anchor="end" fill="#555">${short(t)}</text>`);
    }
    for (let w = 1; w <= maxW; w++) {
      if (maxW > 8 && w % 2 === 0) continue;
      out.push(`<text x="${px(w).toFixed(1)}" y="${oy + m.top + ih + 12}" text-anchor="middle" fill="#555">${w}</text>`);
    }
    out.push(`<text x="${ox + m.left + iw / 2}" y="${oy + m.top + ih + 24}" text-anchor="middle" fill="#555">workers</text>`);
    out.push(`<rect x="${ox + m.left}" y="${oy + m.top}" width="${iw}" height="${ih}" fill="none" stroke="#999"/>`);
    const pts = [...s.points].sort((a, b) => a.workers - b.workers);
    out.push(`<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="${pts.map((p) => `${px(p.workers).toFixed(1)},${py(p.predicted).toFixed(1)}`).join(' ')}"/>`);
    for (const p of pts) {
      if (p.measured === undefined) continue;
      const fill = p.calibration ? 'white' : '#d62728';
      out.push(
        `<circle cx="${px(p.workers).toFixed(1)}" cy="${py(p.measured).toFixed(1)}" r="3.5" fill="${fill}" stroke="#d62728" stroke-width="1.5"><title>${esc(`${s.name} W${p.workers}: measured ${Math.round(p.measured)}, predicted ${Math.round(p.predicted)} jobs/s`)}</title></circle>`,
      );
    }
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
