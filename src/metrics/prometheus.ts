/**
 * The Prometheus export, on prom-client with a Registry of its own (never the global one). Request and
 * query histograms and counters are read from the recorder's running totals at scrape time, so the
 * hot path does its work once; system gauges are the latest samples; prodmon's own health comes from
 * optional providers other parts plug in.
 */
import {
  collectDefaultMetrics,
  type Metric,
  type OpenMetricsContentType,
  openMetricsContentType,
  Registry,
} from 'prom-client';
import { SEVERITIES, type Severity } from '../domain/alert.js';
import { HEALTH_STATUSES, type HealthCheckResult } from '../domain/health.js';
import type { Labels } from '../domain/labels.js';
import { METRIC } from './names.js';
import type { Recorder } from './recorder.js';
import type { Series } from './series.js';

/** Histogram upper bounds in ms, per metric exported as a histogram. */
export const HISTOGRAM_BOUNDS_MS: Readonly<Record<string, readonly number[]>> = {
  [METRIC.httpRequest]: [5, 10, 25, 50, 100, 250, 500, 1000, 2000, 5000, 10_000],
  [METRIC.dbQuery]: [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000],
  [METRIC.gcPause]: [1, 2, 5, 10, 25, 50, 100, 250],
  [METRIC.checkDuration]: [10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000],
};

interface HistogramSpec {
  metric: string;
  name: string;
  help: string;
  /** Counters of the same series: total and errors (optional). */
  total?: [string, string];
  errors?: [string, string];
}

const HISTOGRAMS: HistogramSpec[] = [
  {
    metric: METRIC.httpRequest,
    name: 'prodmon_http_request_duration_seconds',
    help: 'Duration of HTTP requests by route template, method and status class.',
    total: ['prodmon_http_requests_total', 'HTTP requests by route template, method and status class.'],
    errors: [
      'prodmon_http_request_errors_total',
      'Failed HTTP requests (5xx, thrown errors; see metrics.error_statuses).',
    ],
  },
  {
    metric: METRIC.dbQuery,
    name: 'prodmon_db_query_duration_seconds',
    help: 'Duration of database queries by database and operation.',
    total: ['prodmon_db_queries_total', 'Database queries by database and operation.'],
    errors: ['prodmon_db_query_errors_total', 'Database queries that failed.'],
  },
  { metric: METRIC.gcPause, name: 'prodmon_gc_pause_seconds', help: 'Garbage collection pauses.' },
  {
    metric: METRIC.checkDuration,
    name: 'prodmon_check_duration_seconds',
    help: 'Duration of health checks.',
  },
];

/**
 * The system gauges: `[recorded metric, exported name, help, divisor]`. prodmon records percentages and
 * milliseconds; Prometheus gets base units (ratios 0-1, seconds). A division, not a multiplication by
 * 0.01, so that 70 % is exported as 0.7 and not 0.7000000000000001.
 */
const GAUGES: [metric: string, name: string, help: string, divisor: number][] = [
  [
    METRIC.cpu,
    'prodmon_system_cpu_ratio',
    'CPU utilisation as a ratio (0-1) of the whole machine (scope host or process).',
    100,
  ],
  [
    METRIC.memory,
    'prodmon_system_memory_ratio',
    'Memory used as a ratio (0-1) of the machine (of the cgroup limit when set).',
    100,
  ],
  [METRIC.processRss, 'prodmon_process_rss_bytes', 'Resident set size of the process.', 1],
  [METRIC.heapUsed, 'prodmon_process_heap_used_bytes', 'V8 heap used by the process.', 1],
  [METRIC.disk, 'prodmon_disk_used_ratio', 'Disk used as a ratio (0-1) per configured path.', 100],
  [METRIC.diskFree, 'prodmon_disk_free_bytes', 'Disk space available per configured path.', 1],
  [
    METRIC.eventLoopLag,
    'prodmon_event_loop_lag_seconds',
    'p99 event-loop delay over the last sample interval.',
    1000,
  ],
  [
    METRIC.eventLoopUtilization,
    'prodmon_event_loop_utilization_ratio',
    'Event-loop utilisation as a ratio (0-1) over the last sample interval.',
    100,
  ],
];

/**
 * Node default metrics left out: prom-client exports them as gauges with a counter's `_total` suffix,
 * which `promtool check metrics` rejects. Their totals are the sums of `nodejs_active_handles`,
 * `nodejs_active_requests` and `nodejs_active_resources` (by type), which stay.
 */
export const OMITTED_DEFAULT_METRICS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
] as const;

/** The two exposition formats `GET /metrics` speaks. */
export type ExpositionFormat = 'text' | 'openmetrics';

export const TEXT_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;
export const OPENMETRICS_CONTENT_TYPE = Registry.OPENMETRICS_CONTENT_TYPE;

/**
 * The format an `Accept` header asks for: OpenMetrics when `application/openmetrics-text` has a higher
 * q-value than any `text/plain` or wildcard, the text format 0.0.4 otherwise (also without a header).
 */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  if (!accept) return 'text';
  let open = 0;
  let text = 0;
  for (const part of accept.split(',')) {
    const [type, ...params] = part.split(';').map((x) => x.trim().toLowerCase());
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!Number.isFinite(q)) continue;
    if (type === 'application/openmetrics-text') open = Math.max(open, q);
    else if (type === 'text/plain' || type === 'text/*' || type === '*/*') text = Math.max(text, q);
  }
  return open > 0 && open > text ? 'openmetrics' : 'text';
}

/** Optional sources of prodmon's own health, plugged in by the parts that own them. */
export interface HealthProviders {
  /** Latest result per health check. */
  checks?: () => readonly HealthCheckResult[] | Promise<readonly HealthCheckResult[]>;
  /** Notifications waiting in the outbox. */
  outboxBacklog?: () => number | Promise<number>;
  /** Active (unresolved) alerts per severity. */
  activeAlerts?: () => Partial<Record<Severity, number>> | Promise<Partial<Record<Severity, number>>>;
}

/** Figures about prodmon's own metrics pipeline. */
export interface SelfStats {
  bufferedRows: number;
  droppedRows: number;
  flushFailures: number;
  overflowed: number;
  push: { buffered: number; failures: number; dropped: number } | null;
}

type Value = { value: number; labels?: Record<string, string | number>; metricName?: string };

/** A metric whose values are computed at scrape time (prom-client formats it like its own). */
class Collected {
  readonly aggregator = 'sum';
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
    private readonly collect: () => Value[] | Promise<Value[]>,
  ) {}
  async get() {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: await this.collect(),
    };
  }
  reset(): void {}
}

/** A sample value as the text format spells it. */
function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

/** A HELP text escaped as the format wants (backslash and newline). */
function escapeHelp(s: string): string {
  return s.replaceAll('\\', '\\\\').replaceAll('\n', '\\n');
}

/** A label value escaped as the format wants (backslash, double quote, newline). */
function escapeLabel(v: string): string {
  if (!v.includes('\\') && !v.includes('"') && !v.includes('\n')) return v;
  return v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}

/** `k="v",k2="v2"` of a series' labels, in their order. */
function labelText(labels: Readonly<Labels>): string {
  let out = '';
  for (const k in labels) out += `${out ? ',' : ''}${k}="${escapeLabel(labels[k]!)}"`;
  return out;
}

/** One family of the recorder's series, written straight as text (no value objects per sample). */
interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  /** Appends the sample lines of the family. */
  write(lines: string[]): void;
}

function histogramFamily(h: HistogramSpec, recorder: Recorder): Family {
  const les = (HISTOGRAM_BOUNDS_MS[h.metric] ?? []).map((b) => num(b / 1000));
  const bucket = `${h.name}_bucket`;
  return {
    name: h.name,
    help: h.help,
    type: 'histogram',
    write(lines) {
      for (const s of recorder.allSeries(h.metric)) {
        const counts = s.bucketCounts;
        if (!s.bounds || !counts || s.totalCount === 0) continue;
        const l = labelText(s.labels);
        const lc = l ? `${l},` : '';
        let cum = 0;
        for (let i = 0; i < s.bounds.length; i++) {
          cum += counts[i]!;
          lines.push(`${bucket}{${lc}le="${les[i] ?? num(s.bounds[i]! / 1000)}"} ${cum}`);
        }
        cum += counts[s.bounds.length]!;
        lines.push(`${bucket}{${lc}le="+Inf"} ${cum}`);
        const braces = l ? `{${l}}` : '';
        lines.push(`${h.name}_sum${braces} ${num(s.totalSum / 1000)}`);
        lines.push(`${h.name}_count${braces} ${s.totalCount}`);
      }
    },
  };
}

function seriesFamily(
  name: string,
  help: string,
  type: 'counter' | 'gauge',
  series: () => Iterable<Series>,
  value: (s: Series) => number | null,
): Family {
  return {
    name,
    help,
    type,
    write(lines) {
      for (const s of series()) {
        const v = value(s);
        if (v === null) continue;
        const l = labelText(s.labels);
        lines.push(`${name}${l ? `{${l}}` : ''} ${num(v)}`);
      }
    },
  };
}

/**
 * prom-client writes NaN as `Nan`; the exposition format spells it `NaN` (a sample's value is its last
 * token). Line by line, without a regular expression: a global replace would leave the whole text
 * referenced by the RegExp statics (`RegExp.input`) until the next match anywhere, megabytes on a big
 * scrape.
 */
function spellNaN(text: string): string {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.endsWith(' Nan') && !l.startsWith('#')) lines[i] = `${l.slice(0, -3)}NaN`;
  }
  return lines.join('\n');
}

/** What a prom-client registry holds, as far as the OpenMetrics stand-ins need it. */
interface RegisteredMetric {
  name: string;
  type: string;
  help: string;
  get(): Promise<object>;
  getForPromString?: () => Promise<object>;
}

/** The /metrics registry of one monitor. */
export class PrometheusExporter {
  /** prom-client's registry: prodmon's own health and the Node default metrics. */
  readonly registry = new Registry();
  /** The recorder's series (requests, queries, system): written here, not through prom-client. */
  readonly #families: Family[] = [];
  #providers: HealthProviders = {};
  #defaults = false;

  constructor(
    recorder: Recorder,
    private readonly selfStats: () => SelfStats,
  ) {
    const add = (m: Collected) => this.registry.registerMetric(m as unknown as Metric);
    const all = (metric: string) => () => recorder.allSeries(metric);
    for (const h of HISTOGRAMS) {
      this.#families.push(histogramFamily(h, recorder));
      if (h.total)
        this.#families.push(
          seriesFamily(h.total[0], h.total[1], 'counter', all(h.metric), (s) =>
            s.totalCount > 0 ? s.totalCount : null,
          ),
        );
      if (h.errors)
        this.#families.push(
          seriesFamily(h.errors[0], h.errors[1], 'counter', all(h.metric), (s) =>
            s.totalCount > 0 ? s.totalErrors : null,
          ),
        );
    }
    for (const [metric, name, help, divisor] of GAUGES) {
      this.#families.push(
        seriesFamily(name, help, 'gauge', all(metric), (s) =>
          Number.isFinite(s.last) ? s.last / divisor : null,
        ),
      );
    }
    this.#registerSelf(add);
    this.#registerHealth(add);
  }

  /** Plugs in (or replaces) sources of prodmon's own health. */
  setProviders(p: HealthProviders): void {
    this.#providers = { ...this.#providers, ...p };
  }

  /**
   * Adds the Node default metrics (process CPU, memory, event loop, GC...) to this registry, once,
   * without those in {@link OMITTED_DEFAULT_METRICS}.
   */
  enableDefaultMetrics(): void {
    if (this.#defaults) return;
    this.#defaults = true;
    collectDefaultMetrics({ register: this.registry });
    for (const name of OMITTED_DEFAULT_METRICS) this.registry.removeSingleMetric(name);
  }

  /**
   * The exposition: the recorder's families, then the registry's. The text format 0.0.4 by default
   * (families apart by a blank line); OpenMetrics 1.0 on request (a counter's family named without its
   * `_total`, no blank lines, `# EOF` at the end, no exemplars).
   */
  async metrics(format: ExpositionFormat = 'text'): Promise<string> {
    const open = format === 'openmetrics';
    const lines: string[] = [];
    for (const f of this.#families) {
      if (lines.length > 0 && !open) lines.push('');
      const family = open && f.type === 'counter' ? f.name.replace(/_total$/, '') : f.name;
      lines.push(`# HELP ${family} ${escapeHelp(f.help)}`, `# TYPE ${family} ${f.type}`);
      f.write(lines);
    }
    const own = lines.join('\n');
    const text = open ? await this.#openMetrics() : await this.registry.metrics();
    return `${own}\n${open ? '' : '\n'}${text.includes(' Nan') ? spellNaN(text) : text}`;
  }

  /**
   * The registry in OpenMetrics, through a registry of that content type made for this scrape. It holds
   * stand-ins, not the metrics: prom-client renames a counter it formats as OpenMetrics (drops its
   * `_total`), which must not reach the text format of the next scrape.
   */
  async #openMetrics(): Promise<string> {
    // prom-client's typings omit the constructor's content type argument
    const OpenRegistry = Registry as unknown as new (contentType: OpenMetricsContentType) => Registry;
    const reg = new OpenRegistry(openMetricsContentType);
    for (const m of this.registry.getMetricsAsArray() as unknown as RegisteredMetric[]) {
      const standIn = {
        name: m.name,
        type: m.type,
        help: m.help,
        async get() {
          const data = m.getForPromString ? await m.getForPromString() : await m.get();
          return { ...data, name: standIn.name };
        },
      };
      reg.registerMetric(standIn as unknown as Metric);
    }
    return reg.metrics();
  }

  /** The content type of an exposition format. */
  contentTypeOf(format: ExpositionFormat): string {
    return format === 'openmetrics' ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE;
  }

  /** The content type of the text format. */
  get contentType(): string {
    return this.registry.contentType;
  }

  #registerSelf(add: (m: Collected) => void): void {
    const one = (
      name: string,
      help: string,
      type: 'counter' | 'gauge',
      pick: (s: SelfStats) => number | null,
    ) =>
      add(
        new Collected(name, help, type, () => {
          const v = pick(this.selfStats());
          return v === null ? [] : [{ value: v }];
        }),
      );
    one(
      'prodmon_rollup_buffered_rows',
      'Closed rollup buckets waiting to be written to the store.',
      'gauge',
      (s) => s.bufferedRows,
    );
    one(
      'prodmon_rollup_dropped_total',
      'Rollup buckets dropped because the buffer was full.',
      'counter',
      (s) => s.droppedRows,
    );
    one(
      'prodmon_rollup_flush_failures_total',
      'Failed writes of rollups to the store.',
      'counter',
      (s) => s.flushFailures,
    );
    one(
      'prodmon_series_overflow_total',
      'Samples whose label set exceeded metrics.max_series.',
      'counter',
      (s) => s.overflowed,
    );
    one(
      'prodmon_push_buffered_rows',
      'Rollup rows waiting to be pushed.',
      'gauge',
      (s) => s.push?.buffered ?? null,
    );
    one(
      'prodmon_push_failures_total',
      'Failed pushes of rollups.',
      'counter',
      (s) => s.push?.failures ?? null,
    );
  }

  #registerHealth(add: (m: Collected) => void): void {
    // A failing provider leaves its metric empty for this scrape; it never fails the scrape.
    const safe = async <T>(fn: (() => T | Promise<T>) | undefined): Promise<T | undefined> => {
      try {
        return fn ? await fn() : undefined;
      } catch {
        return undefined;
      }
    };
    add(
      new Collected(
        'prodmon_check_status',
        'Latest status of each health check (1 for its current status, 0 for the others).',
        'gauge',
        async () =>
          ((await safe(this.#providers.checks)) ?? []).flatMap((r) =>
            HEALTH_STATUSES.map((st) => ({
              labels: { check: r.name, status: st },
              value: r.status === st ? 1 : 0,
            })),
          ),
      ),
    );
    add(
      new Collected(
        'prodmon_check_response_seconds',
        'Response time of the latest run of each health check.',
        'gauge',
        async () =>
          ((await safe(this.#providers.checks)) ?? []).map((r) => ({
            labels: { check: r.name },
            value: r.responseTimeMs / 1000,
          })),
      ),
    );
    add(
      new Collected('prodmon_outbox_backlog', 'Notifications waiting in the outbox.', 'gauge', async () => {
        const n = await safe(this.#providers.outboxBacklog);
        return n === undefined ? [] : [{ value: n }];
      }),
    );
    add(
      new Collected('prodmon_alerts_active', 'Active (unresolved) alerts by severity.', 'gauge', async () => {
        const by = await safe(this.#providers.activeAlerts);
        return by ? SEVERITIES.map((sev) => ({ labels: { severity: sev }, value: by[sev] ?? 0 })) : [];
      }),
    );
  }
}
