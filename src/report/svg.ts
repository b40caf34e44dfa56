/** Small inline SVG charts for the HTML report (no script, no external asset): lines over time, bars. */

import { escapeHtml } from '../core/html.js';

/** One line of a chart. */
export interface Line {
  name: string;
  color: string;
  /** [time ms, value or null (a gap)]. */
  points: [number, number | null][];
  dashed?: boolean;
}

const W = 720;
const H = 220;
const PAD = { l: 56, r: 12, t: 28, b: 30 };

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const mag = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * mag >= v) return m * mag;
  return 10 * mag;
}

/** A line chart over [from, to]; `fmtY` labels the axis, `fmtX` the times. */
export function lineChart(o: {
  title: string;
  lines: Line[];
  from: number;
  to: number;
  fmtY: (v: number) => string;
  fmtX: (t: number) => string;
}): string {
  const values = o.lines.flatMap((l) =>
    l.points.map((p) => p[1]).filter((v): v is number => v !== null && Number.isFinite(v)),
  );
  const top = niceMax(Math.max(0, ...values));
  const span = Math.max(1, o.to - o.from);
  const x = (t: number) => PAD.l + ((t - o.from) / span) * (W - PAD.l - PAD.r);
  const y = (v: number) => H - PAD.b - (v / top) * (H - PAD.t - PAD.b);
  const parts: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const v = (top * i) / 4;
    parts.push(
      `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" class="grid"/>`,
      `<text x="${PAD.l - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${escapeHtml(o.fmtY(v))}</text>`,
    );
  }
  for (let i = 0; i <= 4; i++) {
    const t = o.from + (span * i) / 4;
    const anchor = i === 0 ? 'start' : i === 4 ? 'end' : 'middle';
    parts.push(
      `<text x="${x(t).toFixed(1)}" y="${H - 10}" text-anchor="${anchor}">${escapeHtml(o.fmtX(t))}</text>`,
    );
  }
  for (const l of o.lines) {
    let d = '';
    let pen = false;
    for (const [t, v] of l.points) {
      if (v === null || !Number.isFinite(v)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${x(t).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    }
    if (d) {
      parts.push(
        `<path d="${d}" fill="none" stroke="${l.color}" stroke-width="1.8"${l.dashed ? ' stroke-dasharray="5 4"' : ''}><title>${escapeHtml(l.name)}</title></path>`,
      );
    }
  }
  const legend = o.lines
    .map((l, i) => {
      const lx = PAD.l + i * 150;
      return `<line x1="${lx}" x2="${lx + 18}" y1="14" y2="14" stroke="${l.color}" stroke-width="3"${l.dashed ? ' stroke-dasharray="5 4"' : ''}/><text x="${lx + 24}" y="18">${escapeHtml(l.name)}</text>`;
    })
    .join('');
  const empty =
    values.length === 0
      ? `<text x="${W / 2}" y="${H / 2}" text-anchor="middle" class="empty">no data in this period</text>`
      : '';
  return `<figure><figcaption>${escapeHtml(o.title)}</figcaption><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(o.title)}" xmlns="http://www.w3.org/2000/svg">${parts.join('')}${legend}${empty}</svg></figure>`;
}

/** A horizontal bar chart (e.g. p95 per route). */
export function barChart(o: {
  title: string;
  bars: { label: string; value: number }[];
  fmt: (v: number) => string;
  color: string;
}): string {
  const rowH = 22;
  const h = PAD.t + Math.max(1, o.bars.length) * rowH + 8;
  const labelW = 240;
  const top = niceMax(Math.max(0, ...o.bars.map((b) => b.value)));
  const bw = (v: number) => (v / top) * (W - labelW - 90);
  const rows = o.bars
    .map((b, i) => {
      const yy = PAD.t + i * rowH;
      const label = b.label.length > 38 ? `${b.label.slice(0, 37)}…` : b.label;
      return `<text x="${labelW - 8}" y="${yy + 15}" text-anchor="end">${escapeHtml(label)}<title>${escapeHtml(b.label)}</title></text><rect x="${labelW}" y="${yy + 3}" width="${Math.max(1, bw(b.value)).toFixed(1)}" height="${rowH - 8}" fill="${o.color}"/><text x="${(labelW + bw(b.value) + 6).toFixed(1)}" y="${yy + 15}">${escapeHtml(o.fmt(b.value))}</text>`;
    })
    .join('');
  const empty =
    o.bars.length === 0
      ? `<text x="${W / 2}" y="${PAD.t + 14}" text-anchor="middle" class="empty">no data in this period</text>`
      : '';
  return `<figure><figcaption>${escapeHtml(o.title)}</figcaption><svg viewBox="0 0 ${W} ${h}" role="img" aria-label="${escapeHtml(o.title)}" xmlns="http://www.w3.org/2000/svg">${rows}${empty}</svg></figure>`;
}
