// @ts-check
/**
 * Performance charts with uPlot (loaded before this module as the global `uPlot`). Data comes as
 * `{ times: [unix s...], charts: [{ id, title, unit, series: [{ label, values }] }], markers: [...] }`,
 * first from the page's `<script type="application/json">`, then from the API on each refresh. Colors
 * follow the theme (CSS variables), sizes follow the container. Every chart draws the deploy markers
 * of its period as dashed vertical lines with their version (elements over the plot, placed at each
 * drawing, the whole marker on hover).
 */
import { deployTitle, formatNumber } from './format.js';

/** @type {any} */
const uPlot = /** @type {any} */ (globalThis).uPlot;

/**
 * @typedef {{ label: string, values: (number | null)[] }} Series
 * @typedef {{ id: string, title: string, unit: string, series: Series[] }} Chart
 * @typedef {{ at: number, version: string, instance: string | null, note: string | null, by: string }} Marker
 * @typedef {{ times: number[], charts: Chart[], markers?: Marker[] }} ChartData
 */

/** @type {Map<string, { plot: any, chart: Chart }>} */
const plots = new Map();

/** The deploy markers of the charts' period (the same on every chart). @type {Marker[]} */
let markers = [];

/**
 * Draws the deploy markers over one plot (uPlot's `draw` hook: after every drawing, resize included).
 * A marker after the last slot's start (the slot still filling) is drawn at the right edge.
 * @param {any} u
 */
function placeMarkers(u) {
  /** @type {HTMLElement} */
  const over = u.over;
  for (const el of over.querySelectorAll('.deploy-marker')) el.remove();
  /** @type {number[]} */
  const times = u.data[0];
  if (times.length === 0) return;
  const first = times[0] ?? 0;
  const last = times[times.length - 1] ?? first;
  for (const m of markers) {
    if (m.at < first) continue;
    const el = document.createElement('div');
    el.className = 'deploy-marker';
    el.dataset.version = m.version;
    el.style.left = `${Math.round(u.valToPos(Math.min(m.at, last), 'x'))}px`;
    const label = document.createElement('span');
    label.className = 'deploy-label';
    label.textContent = m.version;
    label.title = deployTitle({ ...m, atMs: m.at * 1000 });
    el.append(label);
    over.append(el);
  }
}

/** @param {string} name */
function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

/**
 * A value with its unit, short, as the page's figures write it (format.js).
 * @param {number | null} v
 * @param {string} unit
 */
export function formatValue(v, unit) {
  if (v === null || v === undefined || !Number.isFinite(v)) return 'no data';
  return formatNumber(v, unit);
}

/**
 * The theme's chart colors, read once per drawing.
 * @typedef {{ grid: string, text: string, colors: string[] }} Theme
 * @returns {Theme}
 */
function theme() {
  return {
    grid: cssVar('--grid'),
    text: cssVar('--muted'),
    colors: [cssVar('--c1'), cssVar('--c2'), cssVar('--c3'), cssVar('--c4')],
  };
}

/**
 * @param {Chart} chart
 * @param {number} width
 * @param {Theme} t
 */
function options(chart, width, t) {
  const { grid, text, colors } = t;
  const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  return {
    width: Math.max(200, width),
    height: 180,
    legend: { live: true },
    cursor: { drag: { x: false, y: false } },
    hooks: { draw: [placeMarkers] },
    scales: {
      x: { time: true },
      y: {
        range: (/** @type {any} */ _u, /** @type {number} */ min, /** @type {number} */ max) => [
          Math.min(0, min),
          max > 0 ? max * 1.1 : 1,
        ],
      },
    },
    axes: [
      axis,
      {
        ...axis,
        size: 64,
        // The unit is in the chart's title; ticks stay short (bytes keep their KB/MB).
        values: (/** @type {any} */ _u, /** @type {number[]} */ ticks) =>
          ticks.map((t) => formatValue(t, chart.unit === 'bytes' ? 'bytes' : '')),
      },
    ],
    series: [
      {},
      ...chart.series.map((s, i) => ({
        label: s.label,
        stroke: colors[i % colors.length],
        width: 1.5,
        spanGaps: false,
        points: { show: false },
        value: (/** @type {any} */ _u, /** @type {number | null} */ v) => formatValue(v, chart.unit),
      })),
    ],
  };
}

/**
 * @param {ChartData} data
 * @param {Chart} chart
 */
function rows(data, chart) {
  return [data.times, ...chart.series.map((s) => s.values)];
}

/**
 * Draws (or redraws) every chart of `data` into its `[data-chart="id"]` element.
 * @param {ChartData} data
 */
export function drawCharts(data) {
  if (!uPlot) return;
  markers = data.markers ?? [];
  /** @type {{ chart: Chart, el: HTMLElement }[]} */
  const fresh = [];
  for (const chart of data.charts) {
    const el = /** @type {HTMLElement | null} */ (document.querySelector(`[data-chart="${chart.id}"]`));
    if (!el) continue;
    const known = plots.get(chart.id);
    if (known && known.chart.series.length === chart.series.length) {
      known.plot.setData(rows(data, chart));
      known.chart = chart;
      continue;
    }
    known?.plot.destroy();
    plots.delete(chart.id);
    fresh.push({ chart, el });
  }
  if (fresh.length === 0) return;
  // Every size and color is read before any chart is added: one layout of the page, not one per chart.
  const t = theme();
  const widths = fresh.map(({ el }) => el.clientWidth);
  fresh.forEach(({ chart, el }, i) => {
    el.textContent = '';
    const plot = new uPlot(options(chart, widths[i] ?? 0, t), rows(data, chart), el);
    plots.set(chart.id, { plot, chart });
  });
}

/** Fits every chart to its container. */
function resizeAll() {
  for (const [id, { plot }] of plots) {
    const el = /** @type {HTMLElement | null} */ (document.querySelector(`[data-chart="${id}"]`));
    if (el && el.clientWidth > 0) plot.setSize({ width: el.clientWidth, height: 180 });
  }
}

/**
 * Starts the charts from the page's embedded data; returns a function that redraws with new data.
 * @param {HTMLScriptElement | null} source
 */
export function initCharts(source) {
  /** @type {ChartData | null} */
  let current = null;
  if (source?.textContent) {
    try {
      current = JSON.parse(source.textContent);
    } catch {
      current = null;
    }
  }
  if (current) drawCharts(current);
  let pending = 0;
  addEventListener('resize', () => {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(resizeAll);
  });
  // Theme changed: rebuild with the new colors.
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
    for (const { plot } of plots.values()) plot.destroy();
    plots.clear();
    if (current) drawCharts(current);
  });
  return (/** @type {ChartData} */ data) => {
    current = data;
    drawCharts(data);
  };
}
