/**
 * A window of request figures for the deployment gate: per route (`METHOD route`) and overall, the
 * requests, failures and merged sketch of the whole window and the same per minute, read from the
 * per-minute rollups of `http_request_duration_ms` (every status class and every instance merged,
 * unless one instance is asked for). Only minute rows are read, never hourly ones: the statistics need
 * the minutes. The window is read a few minutes at a time, so memory holds one chunk's sketches.
 */
import { ProdmonError } from '../core/errors.js';
import { Slicer } from '../core/slice.js';
import { type BaselineMinute, type BaselineSeries, OVERALL_KEY } from '../domain/baseline.js';
import { entryFromRow, memoryEntry, type RollupEntry } from '../metrics/read.js';
import type { Recorder } from '../metrics/recorder.js';
import { bucketStart, MINUTE_MS, parseLabels } from '../metrics/rollup.js';
import { decodeSketch, encodeSketch, type Sketch, SketchSum, sketchQuantile } from '../metrics/sketch.js';
import type { Store } from '../store/index.js';

/** The metric the gate reads. */
export const REQUEST_METRIC = 'http_request_duration_ms';

/** Most routes a window keeps (more: narrow it with `--route`). */
export const MAX_WINDOW_ROUTES = 500;
/** Shortest and longest window (whole minutes). */
export const MIN_WINDOW_MS = 3 * MINUTE_MS;
export const MAX_WINDOW_MS = 24 * 60 * MINUTE_MS;
/** Minutes read at a time. */
const CHUNK_MINUTES = 15;
/** Longest `--route` glob. */
export const MAX_GLOB_LENGTH = 200;

/** The figures of one series over a window, its merged sketch decoded. */
export interface SeriesFigures extends Omit<BaselineSeries, 'sketch'> {
  sketch: Sketch | null;
}

/** A window's figures: whole minutes with starts in [from, until). */
export interface WindowFigures {
  from: number;
  until: number;
  overall: SeriesFigures;
  series: SeriesFigures[];
}

/** Where rollups are read from: the store, and (in a running monitor) its unflushed minutes. */
export interface WindowSource {
  store: Store | null;
  recorder?: Recorder | null;
}

/** What to read. */
export interface WindowQuery {
  from: number;
  until: number;
  /** Only this instance's rows. */
  instance?: string | null;
  /** Only routes matching this glob (see {@link routeMatcher}). */
  route?: string | null;
}

/**
 * A matcher of `--route` globs, written here because the three wildcards routes need do not justify a
 * dependency: `*` is any run of characters but `/`, `**` any run at all, `?` one character but `/`;
 * everything else is itself. A glob that starts with a method and a space (`GET /api/*`) matches the
 * method too; otherwise only the route template is matched. Throws a usage error naming `field` for a
 * glob that is empty or longer than {@link MAX_GLOB_LENGTH}.
 */
export function routeMatcher(glob: string, field = '--route'): (method: string, route: string) => boolean {
  if (glob.trim() === '' || glob.length > MAX_GLOB_LENGTH)
    throw new ProdmonError(
      'PRODMON_E_BAD_REQUEST',
      `${field}: expected a route glob such as "/api/*" or "GET /api/**" of 1 to ${MAX_GLOB_LENGTH} characters`,
      { exitCode: 2 },
    );
  const m = /^([A-Za-z]+) (.*)$/.exec(glob.trim());
  const method = m ? m[1]!.toUpperCase() : null;
  const pattern = m ? m[2]! : glob.trim();
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  const rx = new RegExp(`^${re}$`);
  return (mth, route) => (method === null || mth.toUpperCase() === method) && rx.test(route);
}

/** The key of a route's series. */
export function seriesKey(method: string, route: string): string {
  return `${method} ${route}`;
}

/** Sums of one series over part of a window. */
class Acc {
  count = 0;
  errors = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  sketch: SketchSum | null = null;

  add(e: RollupEntry): void {
    this.count += e.count;
    this.errors += e.errors;
    this.sum += e.sum;
    if (e.min < this.min) this.min = e.min;
    if (e.max > this.max) this.max = e.max;
    if (e.sketchBytes) {
      this.sketch ??= new SketchSum();
      this.sketch.addBytes(e.sketchBytes);
    } else {
      const s = e.sketch();
      if (s && s.count > 0) {
        this.sketch ??= new SketchSum();
        this.sketch.addSketch(s);
      }
    }
  }
}

/** A series being read: its totals and its minutes so far. */
interface Building {
  method: string;
  route: string;
  total: SketchSum | null;
  count: number;
  errors: number;
  sum: number;
  min: number;
  max: number;
  minutes: BaselineMinute[];
}

/** The minute entries of [from, until): stored minute rows, this process's unflushed minutes in their place. */
async function* minuteEntries(
  src: WindowSource,
  from: number,
  until: number,
  instance: string | null,
  slicer: Slicer,
): AsyncGenerator<RollupEntry[]> {
  const memory = new Map<string, RollupEntry>();
  const recorder = src.recorder ?? null;
  if (recorder && (instance === null || instance === recorder.instance)) {
    for (const m of recorder.memoryBuckets(new Set([REQUEST_METRIC]))) {
      if (m.bucket < from || m.bucket >= until) continue;
      memory.set(`${m.labelsJson}\u0000${m.bucket}`, memoryEntry(m));
    }
  }
  if (src.store) {
    const q = {
      metrics: [REQUEST_METRIC],
      resolution: MINUTE_MS,
      since: from,
      until,
      ...(instance !== null ? { instance } : {}),
    };
    const own = recorder?.instance;
    for await (const rows of src.store.rollups.pages(q, undefined, slicer)) {
      const page: RollupEntry[] = [];
      for (const r of rows) {
        if (r.instance === own && memory.has(`${r.labels}\u0000${r.bucket}`)) continue;
        page.push(entryFromRow(r));
      }
      yield page;
      await slicer.pause();
    }
  }
  if (memory.size > 0) yield [...memory.values()];
}

/** The figures of a minute from its sums. */
function minuteOf(t: number, a: Acc): { minute: BaselineMinute; sketch: Sketch | null } {
  const sketch = a.sketch?.toSketch() ?? null;
  const q = (p: number) => (sketch ? sketchQuantile(sketch, p, a.min, a.max) : null);
  return {
    minute: { t, count: a.count, errors: a.errors, p50: q(0.5), p95: q(0.95), p99: q(0.99) },
    sketch,
  };
}

function finish(key: string, b: Building): SeriesFigures {
  const has = b.count > 0;
  return {
    key,
    method: b.method,
    route: b.route,
    count: b.count,
    errors: b.errors,
    sum: b.sum,
    min: has ? b.min : 0,
    max: has ? b.max : 0,
    sketch: b.total?.toSketch() ?? null,
    minutes: b.minutes,
  };
}

const building = (method: string, route: string): Building => ({
  method,
  route,
  total: null,
  count: 0,
  errors: 0,
  sum: 0,
  min: Number.POSITIVE_INFINITY,
  max: Number.NEGATIVE_INFINITY,
  minutes: [],
});

/**
 * Reads a window: `from` and `until` must be whole minutes. Throws a usage error (exit 2, HTTP 400)
 * naming `routeField` when more than {@link MAX_WINDOW_ROUTES} routes match.
 */
export async function readWindow(
  src: WindowSource,
  q: WindowQuery,
  routeField = '--route',
  slicer = new Slicer(),
): Promise<WindowFigures> {
  const { from, until } = q;
  if (from % MINUTE_MS !== 0 || until % MINUTE_MS !== 0 || until <= from)
    throw new Error(`readWindow: [${from}, ${until}) is not a range of whole minutes`);
  const match = q.route ? routeMatcher(q.route, routeField) : null;
  const instance = q.instance ?? null;
  const routes = new Map<string, Building>();
  const overall = building('', '');
  const wanted = new Map<string, { method: string; route: string } | null>();

  for (let start = from; start < until; start += CHUNK_MINUTES * MINUTE_MS) {
    const end = Math.min(until, start + CHUNK_MINUTES * MINUTE_MS);
    // Per minute: per series key, and overall.
    const minutes = new Map<number, { all: Acc; by: Map<string, Acc> }>();
    for await (const page of minuteEntries(src, start, end, instance, slicer)) {
      for (const e of page) {
        if (e.metric !== REQUEST_METRIC || e.count <= 0) continue;
        let id = wanted.get(e.labelsJson);
        if (id === undefined) {
          const labels = parseLabels(e.labelsJson);
          const method = (labels.method ?? '').toUpperCase();
          const route = labels.route ?? '';
          id = !match || match(method, route) ? { method, route } : null;
          wanted.set(e.labelsJson, id);
        }
        if (id === null) continue;
        const key = seriesKey(id.method, id.route);
        let m = minutes.get(e.bucket);
        if (!m) {
          m = { all: new Acc(), by: new Map() };
          minutes.set(e.bucket, m);
        }
        let acc = m.by.get(key);
        if (!acc) {
          acc = new Acc();
          m.by.set(key, acc);
          if (!routes.has(key)) {
            if (routes.size >= MAX_WINDOW_ROUTES)
              throw new ProdmonError(
                'PRODMON_E_BAD_REQUEST',
                `more than ${MAX_WINDOW_ROUTES} routes in the window; narrow it with ${routeField} (e.g. "/api/**")`,
                { exitCode: 2 },
              );
            routes.set(key, building(id.method, id.route));
          }
        }
        acc.add(e);
        m.all.add(e);
      }
    }
    for (const t of [...minutes.keys()].sort((a, b) => a - b)) {
      const m = minutes.get(t)!;
      for (const [key, acc] of m.by) fold(routes.get(key)!, t, acc);
      fold(overall, t, m.all);
    }
    await slicer.pause();
  }
  const series = [...routes].map(([key, b]) => finish(key, b)).sort((a, b) => a.key.localeCompare(b.key));
  return { from, until, overall: finish(OVERALL_KEY, overall), series };
}

/** Adds a minute's sums to a series. */
function fold(b: Building, t: number, acc: Acc): void {
  if (acc.count <= 0) return;
  const { minute, sketch } = minuteOf(t, acc);
  b.minutes.push(minute);
  b.count += acc.count;
  b.errors += acc.errors;
  b.sum += acc.sum;
  if (acc.min < b.min) b.min = acc.min;
  if (acc.max > b.max) b.max = acc.max;
  if (sketch && sketch.count > 0) {
    b.total ??= new SketchSum();
    b.total.addSketch(sketch);
  }
}

/** A series as stored: its sketch encoded. */
export function storedSeries(s: SeriesFigures): BaselineSeries {
  return { ...s, sketch: s.sketch && s.sketch.count > 0 ? new Uint8Array(encodeSketch(s.sketch)) : null };
}

/** A stored series with its sketch decoded (an unreadable sketch reads as none). */
export function seriesFigures(s: BaselineSeries): SeriesFigures {
  let sketch: Sketch | null = null;
  if (s.sketch) {
    try {
      sketch = decodeSketch(s.sketch);
    } catch {
      sketch = null;
    }
  }
  return { ...s, sketch };
}

/** The window of whole minutes inside [from, to): `from` rounded up, `to` rounded down to the minute. */
export function wholeMinutes(from: number, to: number): { from: number; until: number } {
  const f = bucketStart(from, MINUTE_MS);
  return { from: f === from ? f : f + MINUTE_MS, until: bucketStart(to, MINUTE_MS) };
}
