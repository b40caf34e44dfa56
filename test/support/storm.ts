/**
 * The alert engine and the notification pipeline together on a FakeClock over a real SQLite store, as
 * the app wires them: scripted metric windows and health check results in, real channels out to
 * loopback receivers. For storm tests: grouping, the per-rule cap, inhibition.
 */
import { join } from 'node:path';
import { after, afterEach, before } from 'node:test';
import { AlertEngine } from '../../src/alerting/engine.js';
import type { MetricSource, WindowQuery, WindowValue } from '../../src/alerting/sources.js';
import { parseConfig, type ResolvedConfig } from '../../src/config/load.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { FakeClock } from '../../src/core/clock.js';
import type { HealthCheckResult } from '../../src/domain/health.js';
import { type Labels, labelsKey } from '../../src/domain/labels.js';
import { NotificationPipeline } from '../../src/notifiers/pipeline.js';
import { openStore, type Store } from '../../src/store/index.js';
import { T0 } from './notify-fixtures.js';
import { type HttpReceiver, startHttpReceiver } from './receivers.js';
import { tempDir } from './services.js';

/**
 * Metric windows a test sets (indexed, so thousands of series stay cheap): the value of each series
 * for one aggregation (others read as no data).
 */
export class StormMetrics implements MetricSource {
  readonly #series = new Map<string, Map<string, { labels: Labels; value: number }>>();
  readonly #listeners = new Set<(m: ReadonlySet<string>) => void>();

  /** Sets the window value of one series for one aggregation (null: no data). */
  set(metric: string, labels: Labels, value: number | null, aggregation = 'p95'): void {
    const key = `${metric}\u0000${aggregation}`;
    const m = this.#series.get(key) ?? new Map();
    this.#series.set(key, m);
    if (value === null) m.delete(labelsKey(labels));
    else m.set(labelsKey(labels), { labels, value });
  }

  /** Announces fresh data for these metrics to the engine. */
  emit(...metrics: string[]): void {
    for (const l of this.#listeners) l(new Set(metrics));
  }

  async windowValues(q: WindowQuery): Promise<WindowValue[]> {
    const out: WindowValue[] = [];
    for (const s of this.#series.get(`${q.metric}\u0000${q.aggregation}`)?.values() ?? []) {
      if (!Object.entries(q.labels ?? {}).every(([k, v]) => s.labels[k] === v)) continue;
      const labels: Labels = { ...q.labels };
      for (const k of q.groupBy ?? []) labels[k] = s.labels[k] ?? '';
      out.push({ labels, value: s.value, count: 10, errors: 0 });
    }
    return out;
  }

  onData(listener: (m: ReadonlySet<string>) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** A running engine + pipeline. */
export interface Storm {
  /** The directory whose `.prodmon/prodmon.db` is the store (run the CLI here). */
  dir: string;
  config: ResolvedConfig;
  clock: FakeClock;
  store: Store;
  metrics: StormMetrics;
  /** The health check results the engine reads (replace to change them). */
  checks: HealthCheckResult[];
  engine: AlertEngine;
  pipeline: NotificationPipeline;
  /** Runs a full evaluation, then waits until the worker has sent what is due. */
  evaluate(): Promise<void>;
  /** Moves fake time by `ms` in steps of `step`, letting the worker finish after each. */
  advance(ms: number, step?: number): Promise<void>;
  close(): Promise<void>;
}

/** A check result at `at` (unhealthy unless told otherwise). */
export function checkResult(name: string, at: number, status: HealthCheckResult['status'] = 'unhealthy') {
  return {
    name,
    kind: 'tcp',
    status,
    responseTimeMs: 3,
    details: {},
    error: status === 'healthy' ? null : 'connection refused',
    critical: true,
    checkedAt: at,
  } satisfies HealthCheckResult;
}

/** Starts an engine (no loop: tests evaluate) and a pipeline for these channels and config. */
export async function startStorm(opts: {
  channels: Record<string, unknown>[];
  alerting?: ConfigInput['alerting'];
  notifications?: Record<string, unknown>;
}): Promise<Storm> {
  // The store where `prodmon` run in `dir` finds it (the CLI's default data directory).
  const dir = tempDir('prodmon-storm-');
  const db = join(dir.path, '.prodmon', 'prodmon.db');
  const config = parseConfig(
    {
      server: { public_url: 'https://prodmon.example' },
      alerting: opts.alerting ?? {},
      notifications: { ...opts.notifications, channels: opts.channels },
    } as ConfigInput,
    { dataDir: join(dir.path, '.prodmon'), env: {} },
  );
  const clock = new FakeClock(T0);
  const store = await openStore({ driver: 'sqlite', path: db });
  await store.migrate(T0);
  const metrics = new StormMetrics();
  const pipeline = new NotificationPipeline({ config, store, clock, random: () => 0.5 });
  const s = {
    checks: [] as HealthCheckResult[],
  };
  const engine = new AlertEngine({
    store,
    clock,
    config: config.alerting,
    metrics,
    checks: { latest: () => s.checks },
    sink: pipeline.sink,
    escalateAfterMs: config.notifications.escalate_after,
  });
  pipeline.start();
  await engine.start({ loop: false });
  const settle = () => pipeline.worker.idle();
  return Object.assign(s, {
    dir: dir.path,
    config,
    clock,
    store,
    metrics,
    engine,
    pipeline,
    async evaluate() {
      await engine.evaluateNow();
      await settle();
    },
    async advance(ms: number, step = 1000) {
      for (let done = 0; done < ms; done += step) {
        await clock.advance(Math.min(step, ms - done));
        await settle();
      }
    },
    async close() {
      await engine.stop();
      await pipeline.stop();
      await store.close();
      dir.cleanup();
    },
  });
}

/**
 * For a `describe` block: a loopback HTTP receiver answering 204 (until told otherwise), and the storm
 * each test starts with `start`, closed after the test.
 */
export function stormFixture(): {
  readonly rx: HttpReceiver;
  start(opts: Parameters<typeof startStorm>[0]): Promise<Storm>;
} {
  let rx: HttpReceiver | undefined;
  let current: Storm | undefined;
  before(async () => {
    rx = await startHttpReceiver();
    rx.answer(() => ({ status: 204 }));
  });
  after(() => rx?.close());
  afterEach(async () => {
    await current?.close();
    current = undefined;
    if (rx) rx.requests.length = 0;
  });
  return {
    get rx() {
      if (!rx) throw new Error('the receiver starts in before()');
      return rx;
    },
    async start(opts) {
      current = await startStorm(opts);
      return current;
    },
  };
}
