/**
 * The dashboard of one monitor: its data reads, static assets and live event hub. Built in app.ts and
 * shared by the page routes and the JSON API; their admin actions (resolve, silence) are the alert
 * actions (src/alerting/actions.ts).
 */
import { buildRules } from '../alerting/rules.js';
import type { ResolvedConfig } from '../config/load.js';
import type { Clock } from '../core/clock.js';
import type { Alert } from '../domain/alert.js';
import type { MetricsEngine } from '../metrics/engine.js';
import type { Store } from '../store/index.js';
import { AssetStore } from './assets.js';
import { DashboardData, type HealthSource, type LogReader } from './data.js';
import { LiveHub } from './live.js';
import type { Paths } from './views/layout.js';

/** The parts of the alert engine the dashboard uses. */
export interface AlertEnginePort {
  onChange?(fn: (alert: Alert, event: string) => void): () => void;
  readonly rules?: readonly { name: string }[];
}

/** What the dashboard is built from. */
export interface DashboardOptions {
  config: ResolvedConfig;
  clock: Clock;
  store: Store;
  metrics: Pick<MetricsEngine, 'recorder'>;
  health?: HealthSource;
  logs?: LogReader;
  engine?: AlertEnginePort | null;
  assets?: AssetStore;
  /** Live stream tuning (tests). */
  live?: { pollMs?: number; heartbeatMs?: number; tickMs?: number; maxClients?: number };
  onError?(err: unknown): void;
}

/** The dashboard service. */
export class Dashboard {
  readonly data: DashboardData;
  readonly assets: AssetStore;
  readonly live: LiveHub;
  readonly paths: Paths;
  /** Rule names, for filters and silence forms. */
  readonly rules: string[];
  readonly clock: Clock;
  /** Where background failures (live updates, warming) are reported. */
  readonly onError: (err: unknown) => void;
  readonly #unsubscribe: (() => void)[] = [];

  constructor(o: DashboardOptions) {
    this.clock = o.clock;
    this.onError = o.onError ?? (() => {});
    this.data = new DashboardData({
      store: o.store,
      clock: o.clock,
      metrics: o.metrics,
      health: o.health,
      logs: o.logs,
    });
    this.assets = o.assets ?? new AssetStore();
    const base = `${o.config.server.prefix}/production`;
    this.paths = { dashboard: `${base}/dashboard`, api: `${base}/api` };
    this.rules = (o.engine?.rules ?? buildRules(o.config.alerting)).map((r) => r.name).sort();
    this.live = new LiveHub({
      clock: o.clock,
      digest: () => this.data.digest(),
      maxClients: o.live?.maxClients ?? 50,
      pollMs: o.live?.pollMs,
      heartbeatMs: o.live?.heartbeatMs,
      tickMs: o.live?.tickMs,
      onError: o.onError,
    });
    for (const off of [
      o.engine?.onChange?.(() => this.live.notify()),
      o.health?.onResults?.(() => this.live.notify()),
    ]) {
      if (off) this.#unsubscribe.push(off);
    }
  }

  /** Ends live streams and subscriptions (before the HTTP server closes). */
  async close(): Promise<void> {
    for (const off of this.#unsubscribe.splice(0)) off();
    await this.live.close();
  }
}
