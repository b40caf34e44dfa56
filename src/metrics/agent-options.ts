/**
 * The agent's options (`createAgent(options)`): their names and defaults are the config's `metrics`
 * section's, checked by hand so that the agent's module graph holds no zod (see src/agent.ts).
 */
import { hostname } from 'node:os';
import { type Bounds, configDuration } from '../core/duration.js';
import { ConfigError } from '../core/errors.js';
import { METRICS_LIMITS as L } from '../core/limits.js';
import type { InstrumentationOptions } from './instrumentation.js';

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

/** The names of the agent's options (the README's table lists each). */
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

/** Checked options, or every problem with its field. */
export function checkAgentOptions(o: AgentOptions): Omit<InstrumentationOptions, 'clock'> {
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
