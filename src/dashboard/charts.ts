/**
 * Chart series from rollup entries (pure): the period is cut into fixed slots; each entry's stats are
 * merged into the slots its bucket covers (an hourly row spread evenly over its slots), then each
 * chart's values are computed per slot. Bounded: at most a few hundred points per series.
 */

import type { Deployment } from '../domain/deployment.js';
import type { Labels } from '../domain/labels.js';
import { METRIC } from '../metrics/names.js';
import type { RollupEntry } from '../metrics/read.js';
import { emptyStats, mergeStats, parseLabels, type RollupStats, statsQuantile } from '../metrics/rollup.js';

/** One line of a chart. */
export interface ChartSeries {
  label: string;
  values: (number | null)[];
}

/** One chart. */
export interface Chart {
  id: string;
  title: string;
  /** `req/s`, `%`, `ms`, `bytes`. */
  unit: string;
  series: ChartSeries[];
}

/** What the page's charts draw: slot start times (unix seconds) and the charts. */
export interface ChartData {
  from: number;
  until: number;
  stepMs: number;
  times: number[];
  charts: Chart[];
}

/** A deploy marker on the time charts (drawn as a vertical line with its version). */
export interface ChartMarker {
  /** When it was deployed, unix seconds (as the charts' `times`). */
  at: number;
  version: string;
  instance: string | null;
  note: string | null;
  by: string;
}

/**
 * The deploy markers inside a chart's period [from, until] (ms), oldest first, for the page to draw;
 * `markers` may come in any order.
 */
export function chartMarkers(markers: readonly Deployment[], from: number, until: number): ChartMarker[] {
  return markers
    .filter((d) => d.at >= from && d.at <= until)
    .sort((a, b) => a.at - b.at || a.id.localeCompare(b.id))
    .map((d) => ({ at: d.at / 1000, version: d.version, instance: d.instance, note: d.note, by: d.by }));
}

interface Acc {
  slots: RollupStats[];
  sketch: boolean;
}

/** Which accumulator an entry feeds (null: not charted). */
function accKey(metric: string, labels: () => Labels): string | null {
  switch (metric) {
    case METRIC.httpRequest:
      return 'http';
    case METRIC.dbQuery:
      return 'db';
    case METRIC.cpu:
      return `cpu:${labels().scope ?? ''}`;
    case METRIC.memory:
      return 'memory';
    case METRIC.disk:
      return `disk:${labels().path ?? ''}`;
    case METRIC.eventLoopLag:
      return 'lag';
    case METRIC.eventLoopUtilization:
      return 'elu';
    case METRIC.heapUsed:
      return 'heap';
    case METRIC.processRss:
      return 'rss';
    default:
      return null;
  }
}

const WITH_SKETCH = new Set(['http', 'db', 'lag']);

/** Merges entries into per-slot stats: `from` aligned, `n` slots of `stepMs`. */
export function slotStats(
  entries: readonly RollupEntry[],
  from: number,
  stepMs: number,
  n: number,
  key: (e: RollupEntry, labels: () => Labels) => string | null,
  withSketch: (key: string) => boolean,
): Map<string, Acc> {
  const accs = new Map<string, Acc>();
  const parsed = new Map<string, Labels>();
  // One share of an entry, reused: a week of hourly rows is tens of thousands of entries.
  const part = { count: 0, sum: 0, errors: 0, min: 0, max: 0 };
  for (const e of entries) {
    if (e.count <= 0) continue;
    const labels = () => {
      let l = parsed.get(e.labelsJson);
      if (!l) {
        l = parseLabels(e.labelsJson);
        parsed.set(e.labelsJson, l);
      }
      return l;
    };
    const k = key(e, labels);
    if (k === null) continue;
    const first = Math.max(0, Math.floor((e.bucket - from) / stepMs));
    const last = Math.min(n - 1, Math.floor((e.bucket + Math.max(1, e.resolution) - 1 - from) / stepMs));
    if (last < first) continue;
    let acc = accs.get(k);
    if (!acc) {
      acc = { slots: Array.from({ length: n }, emptyStats), sketch: withSketch(k) };
      accs.set(k, acc);
    }
    const parts = last - first + 1;
    part.count = e.count / parts;
    part.sum = e.sum / parts;
    part.errors = e.errors / parts;
    part.min = e.min;
    part.max = e.max;
    const sketch = acc.sketch ? e.sketch() : null;
    for (let i = first; i <= last; i++) mergeStats(acc.slots[i]!, part, sketch);
  }
  return accs;
}

/** The part of a period that has data: the first to the last bucket with anything recorded in it. */
export interface DataSpan {
  from: number;
  until: number;
}

/**
 * The span of [from, until) covered by data: from the start of the first bucket with anything
 * recorded (any metric) to the end of the last one, within the period; null when nothing was recorded.
 */
export function dataSpan(entries: readonly RollupEntry[], from: number, until: number): DataSpan | null {
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const e of entries) {
    if (e.count <= 0) continue;
    if (e.bucket < first) first = e.bucket;
    const end = e.bucket + Math.max(1, e.resolution);
    if (end > last) last = end;
  }
  const span = { from: Math.max(from, first), until: Math.min(until, last) };
  return span.until > span.from ? span : null;
}

const avg = (s: RollupStats) => (s.count > 0 ? s.sum / s.count : null);
const round = (v: number | null) => (v === null || !Number.isFinite(v) ? null : Math.round(v * 1000) / 1000);

/** The charts of the performance section for a period [from, until) cut into `stepMs` slots. */
export function buildCharts(
  entries: readonly RollupEntry[],
  from: number,
  until: number,
  stepMs: number,
): ChartData {
  const start = from - (from % stepMs);
  const n = Math.max(1, Math.ceil((until - start) / stepMs));
  const accs = slotStats(
    entries,
    start,
    stepMs,
    n,
    (e, l) => accKey(e.metric, l),
    (k) => WITH_SKETCH.has(k),
  );
  const times = Array.from({ length: n }, (_, i) => (start + i * stepMs) / 1000);
  const map = (key: string, f: (s: RollupStats) => number | null) =>
    accs.get(key)?.slots.map((s) => round(f(s))) ?? null;
  const charts: Chart[] = [];
  const add = (id: string, title: string, unit: string, series: [string, (number | null)[] | null][]) => {
    const present = series.filter((s): s is [string, (number | null)[]] => s[1] !== null);
    if (present.length > 0)
      charts.push({ id, title, unit, series: present.map(([label, values]) => ({ label, values })) });
  };
  // A rate is over the part of its slot that has data: none before the first bucket with data or
  // after the last (nothing was recorded then, which is not a rate of zero), and the last slot, still
  // filling, over the part that has passed.
  const span = dataSpan(entries, start, until);
  const seconds = (i: number) => {
    if (!span) return null;
    const covered = Math.min(span.until, start + (i + 1) * stepMs) - Math.max(span.from, start + i * stepMs);
    return covered > 0 ? Math.max(1, covered) / 1000 : null;
  };
  const perSlot = (key: string, f: (s: RollupStats, i: number) => number | null) =>
    accs.get(key)?.slots.map((s, i) => round(f(s, i))) ?? null;
  add('throughput', 'Throughput', 'req/s', [
    [
      'requests/s',
      perSlot('http', (s, i) => {
        const sec = seconds(i);
        return sec === null ? null : s.count / sec;
      }),
    ],
  ]);
  add('errors', 'Error rate', '%', [
    ['errors', map('http', (s) => (s.count > 0 ? (100 * s.errors) / s.count : null))],
  ]);
  add('latency', 'Latency', 'ms', [
    ['p50', map('http', (s) => statsQuantile(s, 0.5))],
    ['p95', map('http', (s) => statsQuantile(s, 0.95))],
    ['p99', map('http', (s) => statsQuantile(s, 0.99))],
  ]);
  add('db', 'Database query time', 'ms', [
    ['p50', map('db', (s) => statsQuantile(s, 0.5))],
    ['p95', map('db', (s) => statsQuantile(s, 0.95))],
    ['max', map('db', (s) => (s.count > 0 ? s.max : null))],
  ]);
  add('cpu', 'CPU', '%', [
    ['host', map('cpu:host', avg)],
    ['process', map('cpu:process', avg)],
  ]);
  add('memory', 'Memory', '%', [['system used', map('memory', avg)]]);
  add('process-memory', 'Process memory', 'bytes', [
    ['RSS', map('rss', avg)],
    ['heap used', map('heap', avg)],
  ]);
  const disks = [...accs.keys()].filter((k) => k.startsWith('disk:')).sort();
  add(
    'disk',
    'Disk used',
    '%',
    disks.slice(0, 4).map((k) => [k.slice(5) || 'disk', map(k, avg)]),
  );
  add('eventloop', 'Event loop lag', 'ms', [
    ['avg', map('lag', avg)],
    ['p99', map('lag', (s) => statsQuantile(s, 0.99))],
  ]);
  return { from: start, until, stepMs, times, charts };
}

/**
 * Average value per slot of one series (e.g. a check's response time), for sparklines; null slots
 * where nothing was recorded.
 */
export function sparkline(
  entries: readonly RollupEntry[],
  filter: (labels: Labels) => string | null,
  from: number,
  until: number,
  slots: number,
): Map<string, (number | null)[]> {
  const stepMs = Math.max(1, Math.ceil((until - from) / slots));
  const accs = slotStats(
    entries,
    from,
    stepMs,
    slots,
    (_e, l) => filter(l()),
    () => false,
  );
  const out = new Map<string, (number | null)[]>();
  for (const [k, acc] of accs)
    out.set(
      k,
      acc.slots.map((s) => round(avg(s))),
    );
  return out;
}
