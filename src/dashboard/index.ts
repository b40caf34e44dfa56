/**
 * The dashboard of one monitor: its data reads, static assets, live event hub and the admin actions
 * (resolve, silence), each action going through the alerting functions that audit and notify.
 * Built in app.ts and shared by the page routes and the JSON API.
 */
import { resolveAlert } from '../alerting/resolve.js';
import { buildRules } from '../alerting/rules.js';
import { createSilence, expireSilence, type SilenceRequest } from '../alerting/silences.js';
import type { ResolvedConfig } from '../config/load.js';
import type { Clock } from '../core/clock.js';
import type { Alert } from '../domain/alert.js';
import type { Silence } from '../domain/silence.js';
import type { MetricsEngine } from '../metrics/engine.js';
import type { Store } from '../store/index.js';
import { AssetStore } from './assets.js';
import { DashboardData, type HealthSource, type LogReader } from './data.js';
import { LiveHub } from './live.js';
import type { Paths } from './views/layout.js';

/** The admin actions of the dashboard and the API. */
export interface AlertActions {
  /** Resolves an open alert by hand (400 without reason, 404 unknown, 409 already resolved). */
  resolve(r: { id: string; reason: string; actor: string }): Promise<Alert>;
  /** Creates a silence (400 naming what is wrong). */
  silence(req: SilenceRequest): Promise<Silence>;
  /** Ends a silence now (404 unknown, 409 already ended). */
  expireSilence(id: string, actor: string): Promise<Silence>;
}

/** The parts of the alert engine the dashboard uses. */
export interface AlertEnginePort {
  resolve(r: { id: string; reason: string; actor: string }): Promise<Alert>;
  onChange?(fn: (alert: Alert, event: string) => void): () => void;
  readonly rules?: readonly { name: string }[];
}

/**
 * The actions through the alert engine when there is one (it notifies the resolution at once),
 * otherwise through the same `resolveAlert` the CLI uses (the resolution is marked owed and the
 * running engine notifies it). Silences go through the alerting functions that audit them.
 */
export function alertActions(o: {
  store: Store;
  clock: Clock;
  engine?: AlertEnginePort | null;
}): AlertActions {
  return {
    resolve: (r) =>
      o.engine
        ? o.engine.resolve(r)
        : o.store.transaction((tx) => resolveAlert(tx, { ...r, now: o.clock.now() })),
    silence: (req) => o.store.transaction((tx) => createSilence(tx, req, o.clock.now())),
    expireSilence: (id, actor) => o.store.transaction((tx) => expireSilence(tx, id, actor, o.clock.now())),
  };
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
  /** Override the actions (default: {@link alertActions}). */
  actions?: AlertActions;
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
  readonly actions: AlertActions;
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
    this.actions = o.actions ?? alertActions({ store: o.store, clock: o.clock, engine: o.engine });
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
