/** The report's time series: fixed steps over the period, each merging the buckets inside it. */
import { METRIC } from '../metrics/names.js';
import type { RollupEntry } from '../metrics/read.js';
import { emptyStats, mergeStats, parseLabels, type RollupStats, statsQuantile } from '../metrics/rollup.js';

/** One step of the period. */
export interface SeriesPoint {
  /** Step start, ms. */
  t: number;
  requests: number;
  /** Requests per second in the step. */
  throughput: number;
  /** Errors / requests (null without requests). */
  errorRate: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  /** Query p95, ms. */
  queryP95: number | null;
  /** Averages of host CPU % and memory % in the step. */
  cpu: number | null;
  memory: number | null;
}

interface Acc {
  http: RollupStats;
  db: RollupStats;
  cpu: RollupStats;
  memory: RollupStats;
}

const avg = (s: RollupStats) => (s.count > 0 ? s.sum / s.count : null);

/** Merges entries into `stepMs` steps from `since` to `until` (every step present, empty ones too). */
export function buildSeries(
  entries: readonly RollupEntry[],
  o: { since: number; until: number; stepMs: number },
): SeriesPoint[] {
  const steps = Math.max(1, Math.ceil((o.until - o.since) / o.stepMs));
  const acc: Acc[] = Array.from({ length: steps }, () => ({
    http: emptyStats(),
    db: emptyStats(),
    cpu: emptyStats(),
    memory: emptyStats(),
  }));
  for (const e of entries) {
    const i = Math.floor((e.bucket - o.since) / o.stepMs);
    const a = acc[Math.min(steps - 1, Math.max(0, i))]!;
    if (e.metric === METRIC.httpRequest) mergeStats(a.http, e, e.sketch());
    else if (e.metric === METRIC.dbQuery) mergeStats(a.db, e, e.sketch());
    else if (e.metric === METRIC.cpu && parseLabels(e.labelsJson).scope === 'host') mergeStats(a.cpu, e);
    else if (e.metric === METRIC.memory) mergeStats(a.memory, e);
  }
  return acc.map((a, i) => {
    const t = o.since + i * o.stepMs;
    const width = Math.min(o.stepMs, o.until - t);
    return {
      t,
      requests: a.http.count,
      throughput: width > 0 ? a.http.count / (width / 1000) : 0,
      errorRate: a.http.count > 0 ? a.http.errors / a.http.count : null,
      p50: statsQuantile(a.http, 0.5),
      p95: statsQuantile(a.http, 0.95),
      p99: statsQuantile(a.http, 0.99),
      queryP95: statsQuantile(a.db, 0.95),
      cpu: avg(a.cpu),
      memory: avg(a.memory),
    };
  });
}
