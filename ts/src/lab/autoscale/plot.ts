/**
 * Replays as an SVG: one panel per preset over time, sharing the axes. The load is drawn in
 * replicas' worth (arrivals ÷ what one replica finishes per second), the replicas asked for as
 * a step line, the ready ones beneath, and the intervals in which arrivals broke the SLO shaded.
 */
import { esc, short, ticks } from '../svg.js';
import type { SimulationResult } from './simulate.js';

export type ReplayPanel = { name: string; result: SimulationResult; summary: string };

/** Draws each preset's replicas over a replayed trace, with the load, as one SVG. */
export function replayPlot(panels: readonly ReplayPanel[], perReplicaRate: number, title: string, subtitle = ''): string {
  const width = 900;
  const ph = 170;
  const m = { left: 46, right: 14, top: 22, bottom: 26 };
  const head = 60;
  const height = head + panels.length * ph + 8;
  const intervals = panels.flatMap((p) => p.result.intervals);
  const tMax = Math.max(1, ...intervals.map((i) => i.t));
  const y = ticks(Math.max(1, ...intervals.flatMap((i) => [i.replicas, i.arrivals / perReplicaRate])));
  const yMax = y[y.length - 1];
  const iw = width - m.left - m.right;
  const ih = ph - m.top - m.bottom;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="10">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="18" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<text x="10" y="34" font-size="11">${esc(subtitle)}</text>`,
    `<g transform="translate(10,42)"><rect x="0" y="0" width="16" height="10" fill="#f4c7c3"/><text x="20" y="9">SLO broken</text>`,
    `<line x1="90" y1="5" x2="112" y2="5" stroke="#999" stroke-width="1.5"/><text x="116" y="9">load, in replicas at 100%</text>`,
    `<line x1="250" y1="5" x2="272" y2="5" stroke="#1f77b4" stroke-width="2"/><text x="276" y="9">replicas</text>`,
    `<line x1="330" y1="5" x2="352" y2="5" stroke="#2ca02c" stroke-width="1" stroke-dasharray="3,2"/><text x="356" y="9">ready</text></g>`,
  ];
  panels.forEach((panel, k) => {
    const oy = head + k * ph;
    const px = (t: number) => m.left + (t / tMax) * iw;
    const py = (v: number) => oy + m.top + ih - (Math.min(v, yMax) / yMax) * ih;
    out.push(`<text x="${m.left}" y="${oy + 14}" font-weight="bold">${esc(panel.name)}</text><text x="${m.left + 110}" y="${oy + 14}" fill="#555">${esc(panel.summary)}</text>`);
    const rows = panel.result.intervals;
    rows.forEach((row, i) => {
      if (row.violationSeconds === 0) return;
      const from = i === 0 ? 0 : rows[i - 1].t;
      out.push(`<rect x="${px(from).toFixed(1)}" y="${oy + m.top}" width="${Math.max(0.5, px(row.t) - px(from)).toFixed(1)}" height="${ih}" fill="#f4c7c3"/>`);
    });
    for (const t of y) {
      out.push(`<line x1="${m.left}" y1="${py(t).toFixed(1)}" x2="${m.left + iw}" y2="${py(t).toFixed(1)}" stroke="#eee"/>`);
      out.push(`<text x="${m.left - 4}" y="${(py(t) + 3).toFixed(1)}" text-anchor="end" fill="#555">${short(t)}</text>`);
    }
    for (const t of ticks(tMax / 60)) {
      if (t * 60 > tMax) continue;
      out.push(`<text x="${px(t * 60).toFixed(1)}" y="${oy + m.top + ih + 12}" text-anchor="middle" fill="#555">${short(t)}</text>`);
    }
    out.push(`<text x="${m.left + iw}" y="${oy + m.top + ih + 22}" text-anchor="end" fill="#555">minutes</text>`);
    out.push(`<rect x="${m.left}" y="${oy + m.top}" width="${iw}" height="${ih}" fill="none" stroke="#999"/>`);
    const line = (value: (r: (typeof rows)[number]) => number, style: string, step: boolean) => {
      const pts: string[] = [];
      rows.forEach((r, i) => {
        if (step && i > 0) pts.push(`${px(r.t).toFixed(1)},${py(value(rows[i - 1])).toFixed(1)}`);
        pts.push(`${px(r.t).toFixed(1)},${py(value(r)).toFixed(1)}`);
      });
      out.push(`<polyline fill="none" ${style} points="${pts.join(' ')}"/>`);
    };
    line((r) => r.arrivals / perReplicaRate, 'stroke="#999" stroke-width="1.5"', false);
    line((r) => r.ready, 'stroke="#2ca02c" stroke-width="1" stroke-dasharray="3,2"', true);
    line((r) => r.replicas, 'stroke="#1f77b4" stroke-width="2"', true);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
