/**
 * Helpers for alert engine tests: a scripted metric source (the window values a test sets), a sink
 * that records every transition handed over, and an engine on a real store with a fake clock.
 */
import { join } from 'node:path';
import { AlertEngine, type AlertEngineOptions } from '../../src/alerting/engine.js';
import type { MetricSource, WindowQuery, WindowValue } from '../../src/alerting/sources.js';
import type { TransitionSink } from '../../src/alerting/transition.js';
import { parseConfig } from '../../src/config/load.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { FakeClock } from '../../src/core/clock.js';
import type { Labels } from '../../src/domain/labels.js';
import type { AlertTransition } from '../../src/domain/transition.js';
import { openStore, type Repos, type Store } from '../../src/store/index.js';
import { pgSchema, tempDir } from './services.js';

interface Series {
  labels: Labels;
  values: Partial<Record<string, number>>;
  count: number;
}

/** A metric source whose windows hold whatever the test set last. */
export class ScriptedMetrics implements MetricSource {
  readonly #series = new Map<string, Series[]>();
  readonly #listeners = new Set<(m: ReadonlySet<string>) => void>();
  /** How many window queries were made. */
  queries = 0;

  /**
   * Sets the window value of one series for one aggregation (null: the series has no data at all).
   * An aggregation never set reads as 0 for `rate`/`ratio` (no errors) and as no value otherwise.
   */
  set(metric: string, labels: Labels, value: number | null, aggregation = 'p95', count = 10): void {
    const key = JSON.stringify(labels);
    const list = this.#series.get(metric) ?? [];
    const found = list.find((s) => JSON.stringify(s.labels) === key);
    if (value === null) {
      this.#series.set(
        metric,
        list.filter((s) => s !== found),
      );
      return;
    }
    if (found) {
      found.values[aggregation] = value;
      found.count = count;
    } else {
      list.push({ labels, values: { [aggregation]: value }, count });
    }
    this.#series.set(metric, list);
  }

  /** Announces fresh data for these metrics to the engine. */
  emit(...metrics: string[]): void {
    for (const l of this.#listeners) l(new Set(metrics));
  }

  async windowValues(q: WindowQuery): Promise<WindowValue[]> {
    this.queries++;
    const matching = (this.#series.get(q.metric) ?? []).filter((s) =>
      Object.entries(q.labels ?? {}).every(([k, v]) => s.labels[k] === v),
    );
    const pick = (s: Series) =>
      s.values[q.aggregation] ?? (q.aggregation === 'rate' || q.aggregation === 'ratio' ? 0 : null);
    const by = q.groupBy ?? [];
    if (by.length === 0) {
      const s = matching[0];
      return [{ labels: { ...q.labels }, value: s ? pick(s) : null, count: s?.count ?? 0, errors: 0 }];
    }
    return matching.map((s) => {
      const labels: Labels = { ...q.labels };
      for (const k of by) labels[k] = s.labels[k] ?? '';
      return { labels, value: pick(s), count: s.count, errors: 0 };
    });
  }

  onData(listener: (m: ReadonlySet<string>) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The CPU time the engine said each evaluation of announced data took. */
  readonly evaluations: number[] = [];
  evaluated(cpuMs: number): void {
    this.evaluations.push(cpuMs);
  }
}

/** A sink that records every transition (optionally failing, to test the transaction). */
export class RecordingSink implements TransitionSink {
  readonly transitions: AlertTransition[] = [];
  fail = false;
  constructor(private readonly t0 = 0) {}

  async accept(tx: Repos, t: AlertTransition): Promise<void> {
    if (this.fail) throw new Error('sink down');
    // Proves the hand-over runs inside the transaction that stored the transition.
    await tx.audit.append({
      at: t.at,
      actor: 'sink',
      action: `sink.${t.kind}`,
      target: t.alert.id,
      detail: {},
    });
    this.transitions.push(structuredClone(t));
  }

  /** `+<seconds>s <rule> <kind> <severity>` per transition. */
  lines(): string[] {
    return this.transitions.map(
      (t) => `+${(t.at - this.t0) / 1000}s ${t.alert.rule} ${t.kind} ${t.alert.severity}`,
    );
  }
}

/** A migrated SQLite store in a temp dir (or PostgreSQL in a fresh schema). */
export async function testStore(
  driver: 'sqlite' | 'postgres' = 'sqlite',
): Promise<{ store: Store; reopen(): Promise<Store>; cleanup(): Promise<void> }> {
  const opened: Store[] = [];
  if (driver === 'sqlite') {
    const dir = tempDir('prodmon-alerting-');
    const open = async () => {
      const s = await openStore({ driver: 'sqlite', path: join(dir.path, 'prodmon.db') });
      await s.migrate(Date.now());
      opened.push(s);
      return s;
    };
    return {
      store: await open(),
      reopen: open,
      async cleanup() {
        for (const s of opened) await s.close();
        dir.cleanup();
      },
    };
  }
  const schema = pgSchema();
  const open = async () => {
    const s = await openStore({ driver: 'postgres', url: schema.url, schema: schema.schema, poolSize: 2 });
    await s.migrate(Date.now());
    opened.push(s);
    return s;
  };
  return {
    store: await open(),
    reopen: open,
    async cleanup() {
      for (const s of opened) await s.close();
      await schema.drop();
    },
  };
}

/** The validated `alerting` section of a config. */
export function alertingConfig(alerting: ConfigInput['alerting'] = {}) {
  return parseConfig({ alerting }, { env: {}, dataDir: '/tmp/prodmon-alerting-test' }).alerting;
}

/** An engine (not started) on `store` with a fake clock, scripted metrics and a recording sink. */
export function testEngine(opts: {
  store: Store;
  clock: FakeClock;
  alerting?: ConfigInput['alerting'];
  metrics?: ScriptedMetrics;
  sink?: RecordingSink;
  t0?: number;
  extra?: Partial<AlertEngineOptions>;
}): { engine: AlertEngine; metrics: ScriptedMetrics; sink: RecordingSink } {
  const metrics = opts.metrics ?? new ScriptedMetrics();
  const sink = opts.sink ?? new RecordingSink(opts.t0 ?? opts.clock.now());
  const engine = new AlertEngine({
    store: opts.store,
    clock: opts.clock,
    config: alertingConfig(opts.alerting),
    metrics,
    sink,
    ...opts.extra,
  });
  return { engine, metrics, sink };
}

/** Every stored event of every alert, oldest first (then by text): `+<seconds>s <rule> <kind> <severity>`. */
export async function history(store: Store, t0: number, opts: { kinds?: string[] } = {}): Promise<string[]> {
  const { items } = await store.alerts.list({ limit: 1000 });
  const lines: { at: number; id: string; line: string }[] = [];
  for (const a of items) {
    for (const e of await store.alerts.events(a.id)) {
      if (opts.kinds && !opts.kinds.includes(e.kind)) continue;
      const tag = e.detail.notified === false ? ' (not notified)' : '';
      lines.push({
        at: e.at,
        id: e.id,
        line: `+${(e.at - t0) / 1000}s ${a.rule} ${e.kind} ${e.severity}${tag}`,
      });
    }
  }
  return lines.sort((x, y) => x.at - y.at || x.line.localeCompare(y.line)).map((l) => l.line);
}

export { FakeClock };

/**
 * Stores a silence the way one of `999999999d` was stored before silences were bounded (its end beyond
 * any date), bypassing the checks of `createSilence`.
 */
export async function storeUnboundedSilence(
  store: Pick<Repos, 'silences'>,
  id: string,
  now: number,
): Promise<void> {
  await store.silences.create({
    id,
    matchers: { rule: 'legacy' },
    startsAt: now,
    endsAt: now + 999_999_999 * 86_400_000,
    createdBy: 'ops',
    comment: 'stored before the bounds',
    createdAt: now,
    expiredAt: null,
  });
}
