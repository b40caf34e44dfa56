/**
 * A running monitor for dashboard tests, browser tests, screenshots and the bench: real SQLite store
 * in a temp dir, tokens and users of both roles, alert rules that the engine fires from real traffic,
 * an Express shop instrumented with prodmon's middleware, and history fed through the recorder.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { tempDir } from '../../../test/support/services.js';
import { fingerprint } from '../../alerting/rules.js';
import { type App, createApp } from '../../app.js';
import type { ConfigInput } from '../../config/schema.js';
import type { Clock } from '../../core/clock.js';
import { newId } from '../../core/ids.js';
import type { Alert } from '../../domain/alert.js';
import { hashPassword } from '../../http/session.js';
import { METRIC } from '../../metrics/names.js';
import type { Recorder } from '../../metrics/recorder.js';
import type { Store } from '../../store/index.js';

export const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
export const READ_TOKEN = 'read-token-0123456789abcdef0';
export const PASSWORD = 'correct horse battery';

/** Routes of the demo shop with their typical latency (ms) and error share. */
export const SHOP_ROUTES = [
  { method: 'GET', route: '/products', ms: 18, errors: 0.002 },
  { method: 'GET', route: '/products/:id', ms: 12, errors: 0.001 },
  { method: 'GET', route: '/search', ms: 95, errors: 0.004 },
  { method: 'POST', route: '/cart/items', ms: 35, errors: 0.003 },
  { method: 'POST', route: '/checkout', ms: 240, errors: 0.02 },
  { method: 'GET', route: '/orders/:id', ms: 28, errors: 0.001 },
  { method: 'GET', route: '/recommendations', ms: 160, errors: 0.01 },
  { method: 'POST', route: '/payments/webhook', ms: 60, errors: 0.005 },
];

/** Typical latency (ms) of the checks the fixture's monitor runs, for their backfilled history. */
const CHECK_LATENCY: [string, number][] = [
  ['cpu', 250],
  ['disk', 2],
  ['event_loop', 250],
  ['memory', 1],
  ['self', 1.5],
  ['db', 4],
  ['cache', 0.8],
  ['payments', 120],
];

/** A deterministic pseudo-random sequence (so screenshots and benches are repeatable). */
export function prng(seed = 42): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * Feeds `minutes` of history ending at `now` through the recorder, in time order: requests per route,
 * database queries and system samples, with a slow spell in the middle. Call before `start()`.
 */
export function backfill(
  recorder: Recorder,
  now: number,
  minutes: number,
  opts: { perMinute?: number; seed?: number } = {},
): void {
  const rnd = prng(opts.seed);
  const perMinute = opts.perMinute ?? 40;
  const start = now - minutes * 60_000;
  for (let m = 0; m < minutes; m++) {
    const t0 = start + m * 60_000;
    const wave = 1 + 0.5 * Math.sin((m / 45) * Math.PI);
    const spell = m > minutes * 0.55 && m < minutes * 0.62 ? 3 : 1;
    for (const r of SHOP_ROUTES) {
      const n = Math.max(
        1,
        Math.round(perMinute * wave * (r.route === '/products/:id' ? 3 : 1) * (0.7 + rnd() * 0.6)),
      );
      for (let i = 0; i < n; i++) {
        const ms = r.ms * spell * (0.5 + rnd() * rnd() * 3);
        const failed = rnd() < r.errors * spell;
        const labels = { route: r.route, method: r.method, status_class: failed ? '5xx' : '2xx' };
        recorder.observe(
          recorder.series(METRIC.httpRequest, labels),
          ms,
          failed,
          t0 + Math.floor((i / n) * 59_000),
        );
      }
    }
    for (let i = 0; i < 30; i++) {
      const op = (['select', 'select', 'select', 'insert', 'update'] as const)[i % 5]!;
      recorder.observe(
        recorder.series(METRIC.dbQuery, { db: 'shop', operation: op }),
        (op === 'select' ? 3 : 7) * spell * (0.5 + rnd() * 2),
        false,
        t0 + i * 1900,
      );
    }
    for (let s = 0; s < 6; s++) {
      const t = t0 + s * 10_000;
      const put = (metric: string, labels: Record<string, string>, v: number) =>
        recorder.observe(recorder.series(metric, labels), v, false, t);
      put(METRIC.cpu, { scope: 'host' }, 22 + 15 * wave * spell + rnd() * 8);
      put(METRIC.cpu, { scope: 'process' }, 8 + 6 * wave * spell + rnd() * 4);
      put(METRIC.memory, {}, 61 + (m / minutes) * 4 + rnd());
      put(METRIC.processRss, {}, 180e6 + m * 20_000 + rnd() * 4e6);
      put(METRIC.heapUsed, {}, 90e6 + rnd() * 20e6);
      put(METRIC.disk, { path: '/var/lib/shop' }, 71.5 + m / minutes);
      put(METRIC.diskFree, { path: '/var/lib/shop' }, 28e9 - m * 1e6);
      put(METRIC.eventLoopLag, {}, 1.2 + rnd() * 2 * spell);
      put(METRIC.eventLoopUtilization, {}, 12 + rnd() * 10 * spell);
      for (const [check, ms] of CHECK_LATENCY)
        put(METRIC.checkDuration, { check }, ms * (0.6 + rnd() * 0.8) * (check === 'db' ? spell : 1));
    }
  }
}

/** Stores an alert the way the engine does (alert row + its `firing` event), for states the engine cannot reach in a test. */
export async function insertAlert(
  store: Store,
  now: number,
  a: Partial<Alert> & Pick<Alert, 'rule' | 'message'>,
): Promise<Alert> {
  const labels = a.labels ?? {};
  const alert = {
    id: newId(now, 'al_'),
    fingerprint: fingerprint(a.rule, labels),
    type: 'performance' as const,
    severity: 'high' as const,
    status: 'firing' as const,
    value: null,
    threshold: null,
    metadata: {},
    createdAt: now,
    updatedAt: now,
    firingAt: now,
    resolvedAt: null,
    resolution: null,
    ...a,
    labels,
  };
  await store.alerts.insert({ ...alert, state: {} });
  await store.alerts.addEvent({
    id: newId(now, 'ev_'),
    alertId: alert.id,
    at: now,
    kind: 'firing',
    status: 'firing',
    severity: alert.severity,
    value: alert.value,
    threshold: alert.threshold,
    actor: null,
    detail: {},
  });
  return alert;
}

/** A started monitor, listening, with its sign-in credentials. */
export interface MonitorFixture {
  monitor: App;
  /** Where prodmon listens (`http://127.0.0.1:port`). */
  url: string;
  dashboard: string;
  dir: string;
  close(): Promise<void>;
}

/** Alert rules the engine fires from the fixture's traffic. */
export const FIXTURE_RULES = [
  {
    name: 'checkout_latency',
    metric: METRIC.httpRequest,
    labels: { route: '/checkout' },
    aggregation: 'max' as const,
    window: '1m',
    warning: 1200,
    critical: 2000,
    for: '0s',
    message: 'Checkout is slow: {{value}} ms (threshold {{threshold}} ms)',
  },
];

/** Starts a monitor on a free port (standalone form) with the fixture's config merged with `config`. */
export async function startMonitor(
  opts: {
    config?: ConfigInput;
    clock?: Clock;
    backfillMinutes?: number;
    fileLogs?: boolean;
    hashN?: number;
  } = {},
): Promise<MonitorFixture> {
  const dir = tempDir('prodmon-dash-');
  const hash = await hashPassword(PASSWORD, { N: opts.hashN ?? 1024 });
  const base: ConfigInput = {
    data_dir: dir.path,
    logs: { stdout: false },
    auth: {
      tokens: [
        { name: 'ops-token', token: ADMIN_TOKEN, role: 'admin' },
        { name: 'viewer-token', token: READ_TOKEN, role: 'read' },
      ],
      users: [
        { name: 'admin', password_hash: hash, role: 'admin' },
        { name: 'reader', password_hash: hash, role: 'read' },
      ],
    },
    alerting: { rules: FIXTURE_RULES },
  };
  const config = { ...base, ...opts.config, auth: { ...base.auth, ...opts.config?.auth } } as ConfigInput;
  const monitor = createApp(config, { env: {}, fileLogs: opts.fileLogs ?? false, clock: opts.clock });
  if (opts.backfillMinutes)
    backfill(monitor.metrics.recorder, (opts.clock ?? { now: Date.now }).now(), opts.backfillMinutes);
  await monitor.start();
  await monitor.metrics.flush();
  const url = await monitor.listen('127.0.0.1', 0);
  const fixture: MonitorFixture = {
    monitor,
    url,
    dashboard: `${url}/production/dashboard`,
    dir: dir.path,
    async close() {
      // The monitor in use now (a test may have restarted it).
      await fixture.monitor.stop({ drainDelayMs: 0 });
      dir.cleanup();
    },
  };
  return fixture;
}

/** The demo shop: an Express app recording every request through prodmon's middleware. */
export async function startShop(
  monitor: App,
): Promise<{ url: string; server: Server; slow: { ms: number } }> {
  const slow = { ms: 0 };
  const app = express();
  app.use(monitor.middleware());
  app.use(express.json());
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
  app.get('/products', async (_req, res) => {
    await wait(2);
    res.json([{ id: 1 }, { id: 2 }]);
  });
  app.get('/products/:id', (req, res) => {
    res.json({ id: req.params.id });
  });
  app.get('/search', async (_req, res) => {
    await wait(15);
    res.json({ hits: [] });
  });
  app.post('/checkout', async (_req, res) => {
    await wait(5 + slow.ms);
    monitor.timeQuery({ db: 'shop', operation: 'insert' }, () => undefined);
    res.status(201).json({ ok: true });
  });
  app.get('/broken', (_req, res) => {
    res.status(500).json({ error: 'boom' });
  });
  const server = createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, slow };
}

/** Sends `n` requests to each of the shop's routes. */
export async function traffic(shop: string, n = 5): Promise<void> {
  for (let i = 0; i < n; i++) {
    await Promise.all([
      fetch(`${shop}/products`).then((r) => r.arrayBuffer()),
      fetch(`${shop}/products/${i + 1}`).then((r) => r.arrayBuffer()),
      fetch(`${shop}/search?q=x`).then((r) => r.arrayBuffer()),
      fetch(`${shop}/checkout`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      }).then((r) => r.arrayBuffer()),
      fetch(`${shop}/broken`).then((r) => r.arrayBuffer()),
    ]);
  }
}

/**
 * Runs `fn` with the monitor's alert evaluation stopped: at any evaluation (its traffic triggers them)
 * the engine resolves an open alert whose rule it does not know, as a rule no longer configured, which
 * an alert put in by `insertAlert` is. Started again afterwards.
 */
export async function withoutEvaluation<T>(f: MonitorFixture, fn: () => Promise<T>): Promise<T> {
  await f.monitor.alerting.stop();
  try {
    return await fn();
  } finally {
    await f.monitor.alerting.start();
  }
}
