/** Helpers for metrics tests: an engine on a real store with a fixed system source, and a failing-store wrapper. */
import { parseConfig } from '../../src/config/load.js';
import type { ConfigInput } from '../../src/config/schema.js';
import type { Clock } from '../../src/core/clock.js';
import { MetricsEngine, type MetricsEngineOptions } from '../../src/metrics/engine.js';
import { encodeSketch, newSketch, sketchAdd } from '../../src/metrics/sketch.js';
import type { SystemReading, SystemSource } from '../../src/metrics/system-source.js';
import type { Store } from '../../src/store/index.js';

/** A system source returning the readings it is given (the sampler's logic is under test, not the OS). */
export class FixedSystemSource implements SystemSource {
  reading: SystemReading = {
    cpuHostPercent: 50,
    cpuProcessPercent: 10,
    memoryPercent: 60,
    rssBytes: 100e6,
    heapUsedBytes: 40e6,
    disks: [{ path: '/data', usedPercent: 70, freeBytes: 30e9 }],
    eventLoopLagMs: 12,
    eventLoopUtilizationPercent: 25,
  };
  gc: ((ms: number) => void) | null = null;
  started = false;
  start(onGc: (ms: number) => void): void {
    this.gc = onGc;
    this.started = true;
  }
  async read(): Promise<SystemReading> {
    return structuredClone(this.reading);
  }
  stop(): void {
    this.started = false;
  }
}

/** A metrics engine for `instance` on `store` (not started: tests flush and sample by hand). */
export function testEngine(
  opts: {
    store?: Store;
    clock: Clock;
    instance?: string;
    metrics?: ConfigInput['metrics'];
    alerting?: ConfigInput['alerting'];
    dataDir?: string;
  } & Partial<Pick<MetricsEngineOptions, 'fetch' | 'hrtime' | 'systemSource'>>,
): MetricsEngine {
  const config = parseConfig(
    { instance: opts.instance ?? 'i1', metrics: opts.metrics ?? {}, alerting: opts.alerting ?? {} },
    { env: {}, dataDir: opts.dataDir ?? '/tmp/prodmon-metrics-test' },
  );
  const engine = new MetricsEngine({
    config,
    clock: opts.clock,
    systemSource: opts.systemSource ?? new FixedSystemSource(),
    fetch: opts.fetch,
    hrtime: opts.hrtime,
  });
  if (opts.store) engine.attachStore(opts.store);
  return engine;
}

/** The same store, except that rollup writes fail while `failing` is set (a database outage). */
export function flakyStore(store: Store): Store & { failing: boolean; attempts: number } {
  const flaky = Object.create(store) as Store & { failing: boolean; attempts: number };
  flaky.failing = false;
  flaky.attempts = 0;
  const rollups = Object.create(store.rollups) as Store['rollups'];
  rollups.upsert = async (rows) => {
    flaky.attempts++;
    if (flaky.failing) throw new Error('SQLITE_IOERR: disk I/O error');
    return store.rollups.upsert(rows);
  };
  Object.defineProperty(flaky, 'rollups', { value: rollups });
  return flaky;
}

/** The figures of a bucket of `values` as a row holds them, with its sketch's protobuf. */
export function bucketOf(values: readonly number[]): {
  count: number;
  sum: number;
  min: number;
  max: number;
  sketch: Buffer;
} {
  const s = newSketch();
  for (const v of values) sketchAdd(s, v);
  return {
    count: values.length,
    sum: values.reduce((a, b) => a + b, 0),
    min: Math.min(...values),
    max: Math.max(...values),
    sketch: Buffer.from(encodeSketch(s)),
  };
}
