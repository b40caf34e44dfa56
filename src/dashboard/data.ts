/**
 * What the dashboard and its JSON API show, read from the parts that own it: the health service (or
 * stored results), the metrics engine's rollup reads, the alert store, the outbox, the logs. The page
 * and `/production/api/...` call the same functions, so they always agree.
 */
import { createHash } from 'node:crypto';
import { publicAlert } from '../alerting/plan.js';
import { silenceActive, silenceMatches } from '../alerting/silences.js';
import type { Clock } from '../core/clock.js';
import type { AlertEvent, AlertFilter } from '../domain/alert.js';
import { type Alert, SEVERITIES, type Severity } from '../domain/alert.js';
import type { AuditEntry } from '../domain/audit.js';
import type { Deployment, DeploymentQuery } from '../domain/deployment.js';
import { type HealthCheckResult, overallStatus } from '../domain/health.js';
import type { Delivery, OutboxItem } from '../domain/outbox.js';
import type { Silence } from '../domain/silence.js';
import type { LogLine } from '../logging/query.js';
import type { MetricsEngine } from '../metrics/engine.js';
import { METRIC } from '../metrics/names.js';
import { readEntries, readRange } from '../metrics/read.js';
import { MINUTE_MS } from '../metrics/rollup.js';
import type { Store } from '../store/index.js';
import { type ChartMarker, chartMarkers, sparkline } from './charts.js';
import { PerformanceReader, type PerformanceView, type RangeKey } from './performance.js';
import { banner, type StatusView, statusSince } from './status.js';

export { type PerformanceView, RANGES, type RangeKey, rangeKey } from './performance.js';
export {
  alertLevel,
  type BannerAlert,
  type BannerStatus,
  type StatusView,
  worseOf,
} from './status.js';

/** The latest results of the health checks (the app's HealthService). */
export interface HealthSource {
  latest(): Promise<readonly HealthCheckResult[]> | readonly HealthCheckResult[];
  /**
   * The cached picture: when the overall status last changed while this process watched, and the
   * checks that have no result yet.
   */
  report?(): { since: number | null; pending?: readonly string[] };
  /** Called with the results of every run; returns an unsubscribe. */
  onResults?(fn: (results: HealthCheckResult[]) => void): () => void;
}

/** Error-log lines in a period (the logger's `errorLinesAround`, bound to the log directory). */
export type LogReader = (opts: { from: number; to: number; limit: number }) => Promise<readonly LogLine[]>;

/** What the data layer reads from. */
export interface DashboardDeps {
  store: Store;
  clock: Clock;
  metrics: Pick<MetricsEngine, 'recorder'>;
  health?: HealthSource;
  logs?: LogReader;
}

/** A check's latest result with its recent response times (oldest first). */
export interface CheckView extends HealthCheckResult {
  recent: (number | null)[];
  /**
   * The start of the hour `recent` cuts into equal slots (ms); null when `recent` is the check's last
   * stored results instead (no recorded durations in the hour), which no clock places.
   */
  recentSince: number | null;
}

/** An alert as listed: how long it has lasted, whether a silence mutes it. */
export interface AlertView extends Alert {
  durationMs: number;
  silenced: boolean;
}

/** Everything about one alert. */
export interface AlertDetail {
  alert: AlertView;
  events: AlertEvent[];
  notifications: (OutboxItem & { deliveries: Delivery[] })[];
  audit: AuditEntry[];
  silences: Silence[];
  logs: { available: boolean; from: number; to: number; lines: readonly LogLine[] };
}

const SPARK_SLOTS = 30;
/** The span of the checks' sparklines. */
export const SPARK_SPAN_MS = 60 * MINUTE_MS;
/** Most deploy markers one chart draws (the newest of its period): more are no longer lines one can tell apart. */
export const MAX_CHART_MARKERS = 200;

/** How many of the newest deploy markers the live digest covers. */
const DIGEST_DEPLOYMENTS = 20;

const hash = (v: unknown) => createHash('sha256').update(JSON.stringify(v)).digest('base64url').slice(0, 16);

/** The dashboard's reads. */
export class DashboardData {
  readonly #d: DashboardDeps;

  readonly #perf: PerformanceReader;

  constructor(deps: DashboardDeps) {
    this.#d = deps;
    this.#perf = new PerformanceReader(deps);
  }

  /** Prepares the long periods in the background (see {@link PerformanceReader.warm}). */
  warm(onError?: (err: unknown) => void): void {
    this.#perf.warm(onError);
  }

  /** Performance over a period ending now (see {@link PerformanceReader.view}). */
  performance(key: RangeKey): Promise<PerformanceView> {
    return this.#perf.view(key);
  }

  get #now(): number {
    return this.#d.clock.now();
  }

  /** Checks of the health service that have no result yet (since this process started). */
  pendingChecks(): string[] {
    return [...(this.#d.health?.report?.().pending ?? [])].sort((a, b) => a.localeCompare(b));
  }

  /**
   * Latest result of each check: the health service's; the stored ones only when it has no check at
   * all (a check still waiting for its first run is pending, never shown with an older stored result).
   */
  async latestChecks(): Promise<HealthCheckResult[]> {
    const live = this.#d.health ? await this.#d.health.latest() : null;
    const useLive = live !== null && (live.length > 0 || this.pendingChecks().length > 0);
    const results = useLive ? [...live] : await this.#d.store.checks.latest();
    return results
      .map(({ id: _id, ...r }: HealthCheckResult & { id?: string }) => r)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Open alerts (pending and firing), most severe and oldest first, with silence flags. */
  async activeAlerts(): Promise<AlertView[]> {
    const [open, silences] = await Promise.all([
      this.#d.store.alerts.listOpen(),
      this.#d.store.silences.active(this.#now),
    ]);
    const rank = (s: Severity) => SEVERITIES.indexOf(s);
    return open
      .map((a) => this.#view(a, silences))
      .sort(
        (a, b) =>
          (a.status === b.status ? 0 : a.status === 'firing' ? -1 : 1) ||
          rank(b.severity) - rank(a.severity) ||
          a.createdAt - b.createdAt,
      );
  }

  #view(a: Alert, silences: readonly Silence[]): AlertView {
    const now = this.#now;
    const start = a.firingAt ?? a.createdAt;
    return {
      ...publicAlert(a),
      durationMs: (a.resolvedAt ?? now) - start,
      silenced:
        a.status !== 'resolved' &&
        silences.some((s) => silenceActive(s, now) && silenceMatches(s.matchers, a)),
    };
  }

  /** The banner, from given checks, alerts and pending checks (so a page reads each once); see {@link banner}. */
  statusOf(
    checks: readonly HealthCheckResult[],
    alerts: readonly AlertView[],
    since: number | null,
    pending: readonly string[] = [],
  ): StatusView {
    return { ...banner(checks, alerts, since, pending), generatedAt: this.#now };
  }

  /**
   * Since when the overall status holds: the health service watches every run but only since this
   * process started; the stored history (one result per check every `persist_interval`) reaches back
   * further, so when it ends in the same status the earlier of the two is taken.
   */
  async since(latest: readonly HealthCheckResult[]): Promise<number | null> {
    const current = overallStatus(latest);
    const history = await this.#d.store.checks.history({ since: this.#now - 7 * 86_400_000, limit: 5000 });
    const watched = this.#d.health?.report?.().since ?? null;
    if (watched === null) return statusSince([...history, ...latest], current);
    const stored = statusSince(history, current);
    return stored !== null ? Math.min(stored, watched) : watched;
  }

  /** The banner: status, since when, alert counts. */
  async status(): Promise<StatusView> {
    const [checks, alerts] = await Promise.all([this.latestChecks(), this.activeAlerts()]);
    return this.statusOf(checks, alerts, await this.since(checks), this.pendingChecks());
  }

  /** Checks with their recent response times (the last hour, from recorded check durations or stored results). */
  async checks(latest?: readonly HealthCheckResult[]): Promise<CheckView[]> {
    const results = latest ?? (await this.latestChecks());
    const until = this.#now;
    const from = until - SPARK_SPAN_MS;
    const entries = await readEntries(
      { store: this.#d.store, recorder: this.#d.metrics.recorder },
      [METRIC.checkDuration],
      readRange(from, until),
    );
    const sparks = sparkline(entries, (l) => l.check ?? null, from, until, SPARK_SLOTS);
    const out: CheckView[] = [];
    for (const r of results) {
      const recent = sparks.get(r.name);
      if (recent) {
        out.push({ ...r, recent, recentSince: from });
        continue;
      }
      const stored = await this.#d.store.checks.history({ name: r.name, limit: SPARK_SLOTS });
      out.push({ ...r, recent: stored.reverse().map((s) => s.responseTimeMs), recentSince: null });
    }
    return out;
  }

  /** Deploy markers, newest first. */
  deployments(q: DeploymentQuery): Promise<Deployment[]> {
    return this.#d.store.deployments.list(q);
  }

  /**
   * The deploy markers a time chart of the period [from, until] (ms) draws, oldest first. Up to now: a
   * view is reused for a few seconds, a marker recorded meanwhile is drawn at once (at the right edge).
   */
  async chartMarkers(from: number, until: number): Promise<ChartMarker[]> {
    const to = Math.max(until, this.#now);
    const list = await this.deployments({ since: from, until: to + 1, limit: MAX_CHART_MARKERS });
    return chartMarkers(list, from, to);
  }

  /** A page of alerts (history), newest first. */
  async alerts(filter: AlertFilter): Promise<{ items: AlertView[]; total: number }> {
    const [page, silences] = await Promise.all([
      this.#d.store.alerts.list(filter),
      this.#d.store.silences.active(this.#now),
    ]);
    return { items: page.items.map((a) => this.#view(a, silences)), total: page.total };
  }

  /** One alert with its timeline, notifications (and their delivery attempts), audit and error logs. */
  async alertDetail(id: string): Promise<AlertDetail | null> {
    const a = await this.#d.store.alerts.get(id);
    if (!a) return null;
    const now = this.#now;
    const [events, outbox, audit, silences] = await Promise.all([
      this.#d.store.alerts.events(id),
      this.#d.store.outbox.forAlert(id),
      this.#d.store.audit.list({ target: id, limit: 50 }),
      this.#d.store.silences.list(200),
    ]);
    const notifications = await Promise.all(
      outbox.map(async (o) => ({ ...o, deliveries: await this.#d.store.outbox.deliveries(o.id) })),
    );
    const from = (a.firingAt ?? a.createdAt) - 5 * MINUTE_MS;
    const to = Math.min(now, (a.resolvedAt ?? now) + MINUTE_MS);
    let lines: readonly LogLine[] = [];
    if (this.#d.logs) lines = await this.#d.logs({ from, to, limit: 200 }).catch(() => []);
    return {
      alert: this.#view(a, silences),
      events,
      notifications,
      audit,
      silences: silences.filter(
        (s) => silenceMatches(s.matchers, a) && (silenceActive(s, now) || s.startsAt > now),
      ),
      logs: { available: this.#d.logs !== undefined, from, to, lines },
    };
  }

  /** Silences, newest first. */
  async silences(): Promise<Silence[]> {
    return this.#d.store.silences.list(200);
  }

  /** Short digests of the live sections: a section changed when its digest did. */
  async digest(): Promise<Record<string, string>> {
    const [checks, alerts, silences, deploys] = await Promise.all([
      this.latestChecks(),
      this.activeAlerts(),
      this.#d.store.silences.active(this.#now),
      this.deployments({ limit: DIGEST_DEPLOYMENTS }),
    ]);
    return {
      ...this.digestOf(
        checks,
        alerts,
        silences.map((s) => s.id),
        this.pendingChecks(),
      ),
      deployments: this.deploymentsDigest(deploys),
    };
  }

  /** The digest of the deploy markers (the newest ones): a new marker changes it, charts redraw. */
  deploymentsDigest(newest: readonly Deployment[]): string {
    return hash(newest.slice(0, DIGEST_DEPLOYMENTS).map((d) => d.id));
  }

  /** Digests from already-read data (the page embeds the ones it was rendered with). */
  digestOf(
    checks: readonly HealthCheckResult[],
    alerts: readonly AlertView[],
    silenceIds: readonly string[],
    pending: readonly string[] = [],
  ) {
    const alertKey = alerts.map((a) => [a.id, a.status, a.severity, a.updatedAt, a.silenced]);
    return {
      // The banner names the most severe firing alert: a change of which one fires changes it.
      banner: hash([
        checks.map((c) => [c.name, c.status, c.critical]),
        pending,
        alerts.map((a) => [a.id, a.rule, a.status, a.severity, a.silenced]),
      ]),
      checks: hash([checks.map((c) => [c.name, c.status, c.checkedAt]), pending]),
      alerts: hash([alertKey, silenceIds]),
      history: hash(alertKey.map((k) => k[0])),
    };
  }
}
