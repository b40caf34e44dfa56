/**
 * The agent: prodmon's instrumentation alone, for app processes that report to a standalone prodmon
 * (`import { createAgent } from 'prodmon/agent'`). It records requests, queries and the process's
 * system figures exactly as an embedded monitor does (same adapters, rollups and sketches) and pushes
 * its rollups to the standalone prodmon's `POST /production/ingest`, which stores them, alerts on them
 * and shows them. Nothing else runs in the app's process: no store, no health checks, no alerting, no
 * HTTP routes, no log files.
 *
 * Why a second entry: a whole embedded monitor costs about 20 MB of RSS before the first request
 * (zod and the config schemas, Kysely, SQLite, prom-client; bench/memory.ts), which a process that only
 * needs to be measured (a cluster worker, one of many replicas) should not pay. This module's graph
 * holds none of those packages (src/agent.test.ts checks it), options are checked by hand, and the
 * push goes through node:http rather than the global fetch (whose first use loads undici).
 */
import { hostname } from 'node:os';
import { type Clock, systemClock } from './core/clock.js';
import { type Bounds, configDuration } from './core/duration.js';
import { ConfigError } from './core/errors.js';
import { METRICS_LIMITS as L } from './core/limits.js';
import { Instrumentation, type InstrumentationOptions, type MetricsLog } from './metrics/instrumentation.js';

export { type Clock, FakeClock, systemClock } from './core/clock.js';
export { ConfigError, ProdmonError } from './core/errors.js';
export type { Labels } from './domain/labels.js';
export type { WrapOptions } from './instrument/node-http.js';
export type { QueryLabels } from './instrument/query-timer.js';
export type { SqlOperation } from './instrument/sql.js';
export { ABORTED, type RouteSource, templateFromPath, UNMATCHED } from './instrument/track.js';
export type { MetricsLog } from './metrics/instrumentation.js';
export { METRIC, type MetricName } from './metrics/names.js';
export { OVERFLOW } from './metrics/recorder.js';

/** The agent's options: the names and defaults of the config's `metrics` section. */
export interface AgentOptions {
  /**
   * Where and how to push (required): the standalone prodmon's base URL and an admin token; `interval`
   * is a duration with a unit, 1s to 5m (default 10s).
   */
  push: { url: string; token: string; interval?: string };
  /** This process's name in the pushed rows (default `<hostname>-<pid>`); give each process its own. */
  instance?: string;
  /** How often the open minutes are handed to the push: a duration with a unit, 1s to 5m (default 10s). */
  flush_interval?: string;
  /** How often CPU, memory, disk and event-loop figures are sampled: 1s to 5m (default 10s). */
  sample_interval?: string;
  /** Cap on distinct label sets per metric; more fold into an overflow series (default 1000; 10 to 100,000). */
  max_series?: number;
  /** Closed minutes kept while a flush fails (default 20000; 100 to 1,000,000). */
  max_buffered_rows?: number;
  /** Paths whose disk usage is sampled (default none: the standalone prodmon watches its host's disks). */
  disk_paths?: string[];
  /** Which responses count as errors (default 5xx). */
  error_statuses?: '5xx' | '4xx+5xx';
}

/** The names of the agent's options (the table in docs/metrics.md lists each). */
export const AGENT_OPTIONS = [
  'push',
  'instance',
  'flush_interval',
  'sample_interval',
  'disk_paths',
  'max_series',
  'max_buffered_rows',
  'error_statuses',
] as const satisfies readonly (keyof AgentOptions)[];

/** What the agent can be given besides its options (tests and special setups). */
export interface AgentRuntime {
  clock?: Clock;
  /** Where push and sampling failures are reported (default: a line on stderr, once per kind). */
  log?: MetricsLog;
  /** Monotonic ms for request and query durations (default performance.now). */
  hrtime?: () => number;
  /** Push transport (default node:http/https). */
  fetch?: typeof fetch;
}

/** Checked options, or every problem with its field. */
function checkOptions(o: AgentOptions): Omit<InstrumentationOptions, 'clock'> {
  const problems: string[] = [];
  const bad = (field: string, want: string, got: unknown) =>
    problems.push(
      `createAgent options: ${field}: expected ${want}, got ${JSON.stringify(got) ?? String(got)}`,
    );
  const known = new Set<string>(AGENT_OPTIONS);
  if (!o || typeof o !== 'object')
    throw new ConfigError(['createAgent options: expected an object with push: { url, token }']);
  for (const k of Object.keys(o))
    if (!known.has(k)) problems.push(`createAgent options: ${k}: unknown option`);
  // The same rule as the config's durations: a unit is required, and the metrics section's bounds hold.
  const ms = (field: string, v: unknown, bounds: Bounds, dflt: number) => {
    if (v === undefined) return dflt;
    const r = configDuration(v, bounds);
    if (r.ok) return r.value;
    problems.push(`createAgent options: ${field}: ${r.problem}`);
    return dflt;
  };
  const int = (field: string, v: unknown, b: { min: number; max: number }, dflt: number) => {
    if (v === undefined) return dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < b.min || v > b.max)
      bad(field, `a whole number from ${b.min} to ${b.max}`, v);
    return typeof v === 'number' ? v : dflt;
  };
  const push = o.push;
  let url = '';
  let token = '';
  let pushInterval = 10_000;
  if (!push || typeof push !== 'object') bad('push', 'an object { url, token }', push);
  else {
    url = push.url;
    token = push.token;
    let parsed: URL | null = null;
    try {
      parsed = typeof url === 'string' ? new URL(url) : null;
    } catch {}
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:'))
      bad('push.url', 'an http(s) URL such as "http://monitor.internal:9464"', url);
    // the token's value is never echoed (it may be a secret passed in the wrong field)
    if (typeof token !== 'string' || token.length === 0)
      problems.push(
        `createAgent options: push.token: expected a non-empty string, got ${token === '' ? 'an empty string' : typeof token}`,
      );
    for (const k of Object.keys(push)) {
      if (k !== 'url' && k !== 'token' && k !== 'interval')
        problems.push(`createAgent options: push.${k}: unknown option`);
    }
    pushInterval = ms('push.interval', push.interval, L.push_interval, 10_000);
  }
  const instance = o.instance ?? `${hostname()}-${process.pid}`;
  if (typeof instance !== 'string' || !/^[\w.:@-]{1,200}$/.test(instance))
    bad(
      'instance',
      '1-200 characters of letters, digits and _.:@- (what the ingest route accepts)',
      instance,
    );
  const diskPaths = o.disk_paths ?? [];
  if (!Array.isArray(diskPaths) || diskPaths.some((p) => typeof p !== 'string' || p === ''))
    bad('disk_paths', 'a list of paths', diskPaths);
  const errorStatuses = o.error_statuses ?? '5xx';
  if (errorStatuses !== '5xx' && errorStatuses !== '4xx+5xx')
    bad('error_statuses', '"5xx" or "4xx+5xx"', errorStatuses);
  const checked = {
    instance,
    maxSeries: int('max_series', o.max_series, L.max_series, 1000),
    maxBufferedRows: int('max_buffered_rows', o.max_buffered_rows, L.max_buffered_rows, 20_000),
    errorStatuses,
    flushIntervalMs: ms('flush_interval', o.flush_interval, L.flush_interval, 10_000),
    sampleIntervalMs: ms('sample_interval', o.sample_interval, L.sample_interval, 10_000),
    diskPaths,
    push: { url, token, intervalMs: pushInterval },
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return checked;
}

/**
 * The agent of one app process. Mount its adapters as an embedded monitor's (`app.use(agent.middleware())`,
 * `fastify.register(agent.fastifyPlugin)`, `agent.koa()`, `agent.wrap(handler)`, `agent.instrumentPg(pool)`,
 * `agent.timeQuery(...)`), call `start()` once, and `stop()` at shutdown (it pushes what is left).
 */
export class Agent extends Instrumentation {}

/**
 * Where an agent reports its own trouble unless given a logger: one line on stderr per kind of
 * failure (a push that fails keeps failing quietly until it works again or fails differently).
 */
const stderrLog: MetricsLog = {
  warn: (obj, msg) => process.stderr.write(`prodmon agent: ${msg} ${JSON.stringify(obj)}\n`),
  error: (obj, msg) => process.stderr.write(`prodmon agent: ${msg} ${JSON.stringify(obj)}\n`),
};

/** Creates an agent; throws a ConfigError naming every bad option. */
export function createAgent(options: AgentOptions, runtime: AgentRuntime = {}): Agent {
  const checked = checkOptions(options);
  return new Agent({
    ...checked,
    clock: runtime.clock ?? systemClock,
    log: runtime.log ?? stderrLog,
    hrtime: runtime.hrtime,
    fetch: runtime.fetch,
  });
}
