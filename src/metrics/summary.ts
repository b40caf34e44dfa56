/**
 * The performance summary of a period: requests per route and overall (throughput, error rate,
 * quantiles), the slowest routes, query times and system resources. Read by the dashboard,
 * `prodmon report` and the alert rules.
 */
import { METRIC } from '../core/metric-names.js';
import { parseLabels, performanceFigures } from '../core/rollup.js';
import type { Labels, PerformanceFigures } from '../core/types.js';
import { groupEntries, type ReadRange, type RollupEntry } from './read.js';

/** Figures of one group (route, or database + operation). */
export interface GroupFigures {
  labels: Labels;
  figures: PerformanceFigures;
}

/** A resource over the period: average, extremes, the latest minute's average, and p95. */
export interface ResourceFigures {
  /** Number of samples. */
  samples: number;
  avg: number | null;
  min: number | null;
  max: number | null;
  p95: number | null;
  /** Average of the most recent bucket (all instances together). */
  last: number | null;
}

/** System resources over the period (all instances together). */
export interface SystemFigures {
  cpuHost: ResourceFigures;
  cpuProcess: ResourceFigures;
  memory: ResourceFigures;
  processRss: ResourceFigures;
  heapUsed: ResourceFigures;
  eventLoopLag: ResourceFigures;
  eventLoopUtilization: ResourceFigures;
  gcPause: ResourceFigures;
  disks: { path: string; usedPercent: ResourceFigures; freeBytes: ResourceFigures }[];
}

/** Everything the dashboard and the report show for a period. */
export interface PerformanceSummary {
  since: number;
  until: number;
  /** Start of the first minute read (`since` aligned down to the minute). */
  from: number;
  groupBy: string[];
  overall: PerformanceFigures;
  /** One entry per group (by default route + method), busiest first. */
  routes: GroupFigures[];
  /** Up to 10 routes with the highest p95. */
  slowest: GroupFigures[];
  queries: { overall: PerformanceFigures; byDatabase: GroupFigures[] };
  system: SystemFigures;
  /** Instances whose data is included. */
  instances: string[];
}

/** Metrics the summary reads. */
export const SUMMARY_METRICS: readonly string[] = [
  METRIC.httpRequest,
  METRIC.dbQuery,
  METRIC.cpu,
  METRIC.memory,
  METRIC.processRss,
  METRIC.heapUsed,
  METRIC.disk,
  METRIC.diskFree,
  METRIC.eventLoopLag,
  METRIC.eventLoopUtilization,
  METRIC.gcPause,
];

function matching(entries: readonly RollupEntry[], metric: string, filter?: Labels): RollupEntry[] {
  return entries.filter((e) => {
    if (e.metric !== metric) return false;
    if (!filter) return true;
    const labels = parseLabels(e.labelsJson);
    return Object.entries(filter).every(([k, v]) => labels[k] === v);
  });
}

function resource(entries: readonly RollupEntry[], metric: string, filter?: Labels): ResourceFigures {
  const picked = matching(entries, metric, filter);
  const s = groupEntries(picked, { withSketch: true })[0]!.stats;
  let lastBucket = Number.NEGATIVE_INFINITY;
  let lastSum = 0;
  let lastCount = 0;
  for (const e of picked) {
    if (e.count === 0 || e.bucket < lastBucket) continue;
    if (e.bucket > lastBucket) {
      lastBucket = e.bucket;
      lastSum = 0;
      lastCount = 0;
    }
    lastSum += e.sum;
    lastCount += e.count;
  }
  const f = performanceFigures(s, 0);
  return {
    samples: s.count,
    avg: f.avg,
    min: s.count > 0 ? s.min : null,
    max: f.max,
    p95: f.p95,
    last: lastCount > 0 ? lastSum / lastCount : null,
  };
}

const byCountDesc = (a: GroupFigures, b: GroupFigures) => b.figures.count - a.figures.count;

/** Builds the summary from the entries of `SUMMARY_METRICS` over a range. */
export function summarize(
  entries: readonly RollupEntry[],
  range: ReadRange & { since: number },
  groupBy: readonly string[] = ['route', 'method'],
): PerformanceSummary {
  const windowMs = Math.max(0, range.until - range.from);
  const http = { metric: METRIC.httpRequest, withSketch: true };
  const [overall] = groupEntries(entries, http);
  const routes = groupEntries(entries, { ...http, groupBy })
    .map((g) => ({ labels: g.labels, figures: performanceFigures(g.stats, windowMs) }))
    .sort(byCountDesc);
  const slowest = routes
    .filter((r) => r.figures.count > 0 && r.figures.p95 !== null)
    .sort((a, b) => (b.figures.p95 ?? 0) - (a.figures.p95 ?? 0))
    .slice(0, 10);
  const db = { metric: METRIC.dbQuery, withSketch: true };
  const [dbOverall] = groupEntries(entries, db);
  const byDatabase = groupEntries(entries, { ...db, groupBy: ['db', 'operation'] })
    .map((g) => ({ labels: g.labels, figures: performanceFigures(g.stats, windowMs) }))
    .sort(byCountDesc);

  const diskPaths = new Set<string>();
  const instances = new Set<string>();
  for (const e of entries) {
    instances.add(e.instance);
    if (e.metric === METRIC.disk) diskPaths.add(parseLabels(e.labelsJson).path ?? '');
  }
  return {
    since: range.since,
    until: range.until,
    from: range.from,
    groupBy: [...groupBy],
    overall: performanceFigures(overall!.stats, windowMs),
    routes,
    slowest,
    queries: { overall: performanceFigures(dbOverall!.stats, windowMs), byDatabase },
    system: {
      cpuHost: resource(entries, METRIC.cpu, { scope: 'host' }),
      cpuProcess: resource(entries, METRIC.cpu, { scope: 'process' }),
      memory: resource(entries, METRIC.memory),
      processRss: resource(entries, METRIC.processRss),
      heapUsed: resource(entries, METRIC.heapUsed),
      eventLoopLag: resource(entries, METRIC.eventLoopLag),
      eventLoopUtilization: resource(entries, METRIC.eventLoopUtilization),
      gcPause: resource(entries, METRIC.gcPause),
      disks: [...diskPaths].sort().map((path) => ({
        path,
        usedPercent: resource(entries, METRIC.disk, { path }),
        freeBytes: resource(entries, METRIC.diskFree, { path }),
      })),
    },
    instances: [...instances].sort(),
  };
}
