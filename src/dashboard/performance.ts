/**
 * The performance section's data: the periods of the picker and, for one of them, the summary (from
 * the metrics engine's `summarize`) and the charts, read through the block cache for long periods and
 * reused for a moment so many viewers cost one computation.
 */
import type { Clock } from '../core/clock.js';
import type { PerformanceFigures } from '../domain/status.js';
import type { MetricsEngine } from '../metrics/engine.js';
import { COMPACTED_UNTIL_KEY, readEntries, readEntryPages, readRange } from '../metrics/read.js';
import { bucketStart, MINUTE_MS } from '../metrics/rollup.js';
import {
  type GroupFigures,
  type PerformanceSummary,
  SUMMARY_METRICS,
  summarize,
} from '../metrics/summary.js';
import type { Store } from '../store/index.js';
import { buildCharts, type ChartData, type DataSpan, dataSpan } from './charts.js';
import { HourCache } from './hours.js';
import { ViewEntries } from './reduce.js';

/** The periods of the performance picker. */
export const RANGES = {
  '15m': { ms: 15 * MINUTE_MS, stepMs: MINUTE_MS, label: '15 min', blocks: false },
  '1h': { ms: 60 * MINUTE_MS, stepMs: MINUTE_MS, label: '1 h', blocks: false },
  '6h': { ms: 360 * MINUTE_MS, stepMs: 2 * MINUTE_MS, label: '6 h', blocks: false },
  '24h': { ms: 1440 * MINUTE_MS, stepMs: 10 * MINUTE_MS, label: '24 h', blocks: true },
  '7d': { ms: 10_080 * MINUTE_MS, stepMs: 60 * MINUTE_MS, label: '7 d', blocks: true },
} as const;
export type RangeKey = keyof typeof RANGES;

/** A range key from a query value (default `1h`). */
export function rangeKey(v: unknown): RangeKey {
  return typeof v === 'string' && Object.hasOwn(RANGES, v) ? (v as RangeKey) : '1h';
}

/** Performance of a period: the summary and the charts. */
export interface PerformanceView {
  range: RangeKey;
  since: number;
  until: number;
  /**
   * The part of the period with data (the first to the last minute with anything recorded, to the
   * chart step for periods read in blocks); null when nothing was recorded in the period. Rates
   * (`throughput`) in the summary are over this span, not the whole period.
   */
  covered: DataSpan | null;
  summary: PerformanceSummary;
  charts: ChartData;
}

/** The summary with its rates over `ms` (the time covered by data) instead of the whole period. */
export function ratesOver(summary: PerformanceSummary, ms: number): PerformanceSummary {
  const seconds = ms / 1000;
  const over = (f: PerformanceFigures): PerformanceFigures => ({
    ...f,
    throughput: seconds > 0 ? f.count / seconds : 0,
  });
  const groups = (list: readonly GroupFigures[]) => list.map((g) => ({ ...g, figures: over(g.figures) }));
  return {
    ...summary,
    overall: over(summary.overall),
    routes: groups(summary.routes),
    slowest: groups(summary.slowest),
    queries: { overall: over(summary.queries.overall), byDatabase: groups(summary.queries.byDatabase) },
  };
}

/** What the reader needs. */
export interface PerformanceDeps {
  store: Store;
  clock: Clock;
  metrics: Pick<MetricsEngine, 'recorder'>;
}

/** Reads performance views. */
export class PerformanceReader {
  readonly #d: PerformanceDeps;
  readonly #hours: HourCache;
  readonly #perf = new Map<RangeKey, { at: number; view: Promise<PerformanceView> }>();
  #warming: Promise<void> | null = null;

  constructor(deps: PerformanceDeps) {
    this.#d = deps;
    this.#hours = new HourCache({
      read: (metrics, range) =>
        readEntries({ store: deps.store, recorder: deps.metrics.recorder }, metrics, range),
      compactedUntil: async () => (await deps.store.state.get<number>(COMPACTED_UNTIL_KEY)) ?? 0,
      withSketch: () => true,
    });
  }

  /**
   * Prepares the long periods in the background (the hours not compacted yet, newest first, one at a
   * time with a pause between, for 24 h and 7 d), so choosing them later is quick. One at a time.
   */
  warm(onError?: (err: unknown) => void): void {
    if (this.#warming) return;
    const until = this.#now;
    const pause = () => new Promise<void>((r) => setImmediate(r));
    this.#warming = this.#d.clock
      .sleep(250)
      .then(() =>
        this.#hours.warm(
          SUMMARY_METRICS,
          readRange(until - RANGES['7d'].ms, until),
          until,
          [RANGES['7d'].stepMs, RANGES['24h'].stepMs],
          pause,
        ),
      )
      .then(() => this.view('7d'))
      .then(
        () => undefined,
        (err) => onError?.(err),
      )
      .finally(() => {
        this.#warming = null;
      });
  }

  get #now(): number {
    return this.#d.clock.now();
  }

  /**
   * Performance over a period ending now: the summary (by route and method) and the charts. A view
   * is reused for a sixth of its chart step (10 s for 1 h, a minute for 24 h and 7 d), so many viewers
   * and the per-minute chart refresh cost one computation.
   */
  view(key: RangeKey): Promise<PerformanceView> {
    const now = this.#now;
    const ttl = Math.min(60_000, Math.max(2000, RANGES[key].stepMs / 6));
    const hit = this.#perf.get(key);
    if (hit && now - hit.at < ttl && now >= hit.at) return hit.view;
    const view = this.#computePerformance(key);
    this.#perf.set(key, { at: now, view });
    view.catch(() => this.#perf.delete(key));
    return view;
  }

  async #computePerformance(key: RangeKey): Promise<PerformanceView> {
    const r = RANGES[key];
    const until = this.#now;
    // Long periods start at a chart step (their first slot is whole): a 7-day view reads hourly rows
    // from its first hour on, not an hour of minute rows for the part of it inside the period.
    const since = r.blocks ? bucketStart(until - r.ms, r.stepMs) : until - r.ms;
    const range = readRange(since, until);
    // Each part is reduced as it comes, so a week of rows is never held at once.
    const reduced = new ViewEntries(range.from, until);
    if (r.blocks) {
      for (const read of await this.#hours.parts(SUMMARY_METRICS, range, until, r.stepMs)) {
        reduced.add(await read());
      }
    } else {
      // A page at a time, yielding between pages: an hour of 20,000 series is 1.2 million rows.
      const src = { store: this.#d.store, recorder: this.#d.metrics.recorder };
      for await (const page of readEntryPages(src, SUMMARY_METRICS, range)) reduced.add(page);
    }
    const entries = reduced.charts();
    const covered = dataSpan(entries, range.from, until);
    const summary = summarize(reduced.summary(), { ...range, since }, undefined, reduced.instances);
    return {
      range: key,
      since,
      until,
      covered,
      summary: covered ? ratesOver(summary, covered.until - covered.from) : summary,
      charts: buildCharts(entries, since, until, r.stepMs),
    };
  }
}
