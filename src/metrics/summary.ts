/**
 * The performance summary of a period: requests per route and overall (throughput, error rate,
 * quantiles), the slowest routes, query times and system resources. Read by the dashboard,
 * `prodmon report` and the alert rules.
 */

import type { Labels } from '../domain/labels.js';
import type { PerformanceFigures } from '../domain/status.js';
import { EntryMerger } from './merge.js';
import { METRIC } from './names.js';
import { groupEntries, type ReadRange, type RollupEntry } from './read.js';
import { MINUTE_MS, parseLabels, performanceFigures } from './rollup.js';

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

/** Metrics with a series per route or query: merged over the whole period by `SummaryEntries`. */
const PER_SERIES: ReadonlySet<string> = new Set<string>([METRIC.httpRequest, METRIC.dbQuery]);

/**
 * The entries of a period reduced for `summarize` as they are read, a page at a time: the request and
 * query series merged over the whole period per label set (all instances together: the summary groups
 * them by route and method, or by database and operation), the other metrics per label set and bucket
 * (the resources' latest-minute figure reads the last bucket); the instances seen kept aside. An hour
 * of 20,000 series (1.2 million rows) leaves `summarize` a few hundred entries, with the same figures.
 */
export class SummaryEntries {
  readonly #series = new EntryMerger();
  readonly #rest = new EntryMerger();
  readonly instances = new Set<string>();

  constructor(
    readonly from: number,
    readonly until: number,
  ) {}

  /** Takes in entries (they may all go afterwards). */
  add(entries: readonly RollupEntry[]): void {
    const whole = this.until - this.from;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      this.instances.add(e.instance);
      if (PER_SERIES.has(e.metric)) {
        this.#series.add(e.metric, e.labelsJson, '', 0, e, true, this.from, whole, e.labelsJson, '');
      } else {
        const width = e.resolution === MINUTE_MS ? 'm' : String(e.resolution);
        this.#rest.add(
          e.metric,
          e.labelsJson,
          width,
          e.bucket,
          e,
          true,
          e.bucket,
          e.resolution,
          e.labelsJson,
          '',
        );
      }
    }
  }

  /** The reduced entries. */
  entries(): RollupEntry[] {
    return [...this.#series.entries(true), ...this.#rest.entries()];
  }
}

/**
 * Builds the summary from the entries of `SUMMARY_METRICS` over a range; `instances` (default: those
 * of the entries) lists whose data it holds.
 */
export function summarize(
  entries: readonly RollupEntry[],
  range: ReadRange & { since: number },
  groupBy: readonly string[] = ['route', 'method'],
  instances?: Iterable<string>,
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
  const seen = new Set<string>(instances ?? []);
  for (const e of entries) {
    if (!instances) seen.add(e.instance);
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
    instances: [...seen].sort(),
  };
}
