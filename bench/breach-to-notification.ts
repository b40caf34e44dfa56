/**
 * Breach to notification: from the first slow request of a route to the firing notification arriving at
 * a webhook receiver on loopback, end to end through a real instrumented node:http app in a child
 * process. Side by side, in one run:
 *   - embedded: prodmon embedded in the app (`monitor.handler` in front of it, webhook channel),
 *     default config; measured from the end of the first slow response;
 *   - pushed: the app instrumented by `prodmon/agent` (push and flush every 1 s), pushing to a standalone
 *     prodmon (the hub, default config, webhook channel) through a forwarding proxy in this process,
 *     which stamps each push as its body has arrived: measured from the arrival of the first push that
 *     carries the breach (the goal's figure), and from the end of the first slow response (which adds
 *     the agent's flush and push intervals);
 *   - the same app instrumented with a prom-client histogram, scraped by Prometheus, whose alerting
 *     rule goes to Alertmanager, whose webhook goes to the same kind of receiver: at the upstream
 *     defaults (1m scrape and evaluation, group_wait 30s), at Debian's shipped prometheus.yml
 *     (15 s scrape and evaluation), and tuned (1 s scrape and evaluation, group_wait 0s).
 *
 * Goal (prodmon, default config, embedded and pushed from the push's arrival): p50 < 50 ms and
 * p99 < 100 ms. Each p50 and p99 is printed with a 90 % interval from resampling the trials; a goal is
 * met when the whole interval is under it, not met when the whole interval is at or over it, else the
 * bench cannot tell (and it cannot tell from fewer than 10 trials).
 *
 * One trial, on a route of its own (`/api/t<k>`, so one new alert per trial, and for Alertmanager one
 * new alert group: `group_by: [alertname, route]`): 10 fast requests (the route is healthy), then
 * every 250 ms two concurrent requests that take 2.1 s, above the api_response_time critical threshold
 * (2000 ms), until the notification arrives or the trial's bound passes. t0 = when the first slow
 * response is complete (its duration is the data that shows the breach; add 2.1 s for "since the
 * request started"). Two at a time so that the first completed pair puts the route's p95 over the
 * threshold in both systems: one slow request among 10 fast ones already does for Prometheus'
 * histogram_quantile (rank 0.95 x 11 falls in the slow bucket), not for prodmon's sketch (rank
 * 0.95 x (11 - 1) is still a fast one). Fast requests to `/api/items` flow all along (20/s), so the
 * data never stops: a breach falls into a coalescing window already open as often as not.
 *
 * The rules (both p95 per route over 5 minutes, above 2 s, firing at once):
 *   prodmon:    the built-in api_response_time rule, unchanged (p95 by route, 5m window, critical 2000 ms)
 *   Prometheus: histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket[5m]))) > 2
 *
 * Prometheus and Alertmanager come from the Debian packages; the bench installs them with apt-get when
 * missing (as root) and runs them as child processes on free loopback ports with temp data dirs. If they
 * cannot be had, the prodmon rows are printed and the reason instead of the peer rows.
 *
 * The peers at 1m and 15 s intervals are slow by design (minutes per trial): their trials start at
 * random moments within one scrape interval, all at once, and run in the background while the prodmon
 * and tuned rows are measured one trial after the other.
 *
 *   node --import tsx bench/breach-to-notification.ts
 *     BENCH_RUNS=40       trials of each prodmon row and of the tuned peer row (at most 200)
 *     BENCH_PEER_RUNS=6   trials of the peers at their default and Debian intervals (at most 30)
 *     BENCH_PEERS=0       skip Prometheus + Alertmanager
 *     BENCH_VERBOSE=1     also print every trial's latency, in order
 * Takes about 7 minutes with the defaults (the 1m peer trials and the pushed trials bound it).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { decodeRows } from '../src/metrics/open-minutes.js';
import { PUSH_ROWS_TYPE } from '../src/metrics/push-rows.js';
import { startHttpReceiver } from '../test/support/receivers.js';
import { tempDir } from '../test/support/services.js';
import {
  type Daemon,
  ensurePromStack,
  firstScrape,
  type PromSettings,
  startAlertmanager,
  startPrometheus,
} from './promstack.js';
import { quantile, quantileInterval, startChild, stopChild, table } from './support.js';

/** The webhook's signing secret (`whsec_` + base64, as Standard Webhooks has it). */
const BENCH_SECRET = `whsec_${Buffer.from('bench-signing-secret-0123456789').toString('base64')}`;
/** The hub's push token (role `push`). */
const PUSH_TOKEN = 'bench-push-token-0123456789abcdef';

const RUNS = Math.max(1, Math.min(200, Number(process.env.BENCH_RUNS ?? 40)));
const PEER_RUNS = Math.max(1, Math.min(30, Number(process.env.BENCH_PEER_RUNS ?? 6)));
const PEERS = process.env.BENCH_PEERS !== '0';
const SLOW_MS = 2100;
const THRESHOLD_MS = 2000;
const HEALTHY_REQUESTS = 10;
const SLOW_EVERY_MS = 250;
const SLOW_CONCURRENCY = 2;
const ALERT = 'ApiResponseTime';
const PROM_RULE =
  'histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket[5m]))) > 2';
/** The goal, at prodmon's default config: p50 and p99 under these (ms). */
const GOAL = { p50: 50, p99: 100 };
/** Trials below which no verdict is given. */
const MIN_TRIALS = 10;

const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(', ');

// The receiver: the first firing notification of each (path, route) wakes its waiter.
const firstArrival = new Map<string, number>();
const firings = new Map<string, number>();
const waiters = new Map<string, (at: number) => void>();
function arrived(key: string, at: number): void {
  firings.set(key, (firings.get(key) ?? 0) + 1);
  if (firstArrival.has(key)) return;
  firstArrival.set(key, at);
  waiters.get(key)?.(at);
}
// The same kind of loopback receiver as the notification tests; it stamps each request's arrival.
const receiver = await startHttpReceiver();
receiver.answer((r) => {
  const body = r.json as Record<string, unknown>;
  if (r.path.startsWith('/prodmon')) {
    // prodmon's webhook payload v1: { type: 'alert.firing', data: { alert: { rule, labels } } }
    const alert = (body.data as { alert?: { rule: string; labels: Record<string, string> } }).alert;
    if (body.type === 'alert.firing' && alert?.rule === 'api_response_time' && alert.labels.route)
      arrived(`${r.path} ${alert.labels.route}`, r.at);
  } else {
    // Alertmanager's webhook payload v4: { alerts: [{ status, labels }] }
    for (const a of (body as { alerts: { status: string; labels: Record<string, string> }[] }).alerts) {
      if (a.status === 'firing' && a.labels.alertname === ALERT && a.labels.route)
        arrived(`${r.path} ${a.labels.route}`, r.at);
    }
  }
  return { status: 200 };
});
const hookBase = receiver.url;

const get = (url: string) =>
  fetch(url).then(
    (r) => r.arrayBuffer(),
    () => undefined,
  );

/** Fast requests to `/api/items` every 50 ms until `stop()`. */
function healthyTraffic(base: string): { stop: () => Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      await Promise.all([get(`${base}/api/items`), sleep(50)]);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** One trial's times (performance.now() of this process). */
interface TrialTimes {
  /** The end of the first slow response. */
  t0: number;
  /** The firing notification's arrival at the receiver (Infinity: none within the bound). */
  at: number;
}

/**
 * One trial on `route`: healthy, then slow until the firing notification for (`hookPath`, `route`)
 * arrives or `boundMs` after t0.
 */
async function trial(base: string, route: string, hookPath: string, boundMs: number): Promise<TrialTimes> {
  for (let i = 0; i < HEALTHY_REQUESTS; i++) await Promise.all([get(`${base}${route}`), sleep(50)]);
  const key = `${hookPath} ${route}`;
  const notified = new Promise<number>((r) => waiters.set(key, r));
  let firstSlow: (t: number) => void = () => {};
  const t0 = new Promise<number>((r) => {
    firstSlow = r;
  });
  let slow = true;
  const inFlight: Promise<unknown>[] = [];
  const slowLoop = (async () => {
    while (slow) {
      for (let c = 0; c < SLOW_CONCURRENCY; c++) {
        inFlight.push(get(`${base}${route}?delay=${SLOW_MS}`).then(() => firstSlow(performance.now())));
      }
      await sleep(SLOW_EVERY_MS);
    }
  })();
  const bound = sleep(SLOW_MS + 1000).then(() => sleep(boundMs));
  const at = await Promise.race([notified, bound.then(() => Number.POSITIVE_INFINITY)]);
  slow = false;
  waiters.delete(key);
  await slowLoop;
  // A notification before the first slow response ended would count as negative (not hidden).
  const start = await t0;
  // The route stays slow for the requests in flight; they end on their own (not awaited: the next
  // trial starts at once, on another route).
  void Promise.all(inFlight);
  return { t0: start, at };
}

interface Row {
  name: string;
  latencies: number[];
  /** The goal applies to this row. */
  goal?: boolean;
  note?: string;
}

const ROUTES = Math.max(RUNS, PEER_RUNS);
const APP = fileURLToPath(new URL('./breach-app.ts', import.meta.url));
const HUB = fileURLToPath(new URL('../test/support/hub-child.ts', import.meta.url));

/** A child app (`prodmon` or `agent` with its config, or `prom`); returns its base URL and the child. */
async function startApp(mode: 'prodmon' | 'agent' | 'prom', config: unknown = {}) {
  const { port, child } = await startChild(APP, [mode, JSON.stringify(config), String(ROUTES)], {
    pin: false,
  });
  return { base: `http://127.0.0.1:${port}`, port, child };
}

/** A webhook channel to the receiver, one group per route (as the peers' `group_by: [alertname, route]`). */
function notifications(hookPath: string) {
  return {
    channels: [{ name: 'hook', kind: 'webhook', url: `${hookBase}${hookPath}`, secret: BENCH_SECRET }],
    // Each trial's alert is the first of its group (grouped per rule only, a trial within
    // group_interval of the last would wait for it).
    grouping: { group_by: ['route'] },
  };
}

/** Sequential trials against prodmon embedded in a child app, default config. */
async function embeddedRow(name: string): Promise<Row> {
  const dir = tempDir('prodmon-bench-');
  const hookPath = '/prodmon-embedded';
  const { base, child } = await startApp('prodmon', {
    data_dir: dir.path,
    logs: { stdout: false },
    notifications: notifications(hookPath),
  });
  const traffic = healthyTraffic(base);
  await sleep(2000);
  const latencies: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const t = await trial(base, `/api/t${i}`, hookPath, 10_000);
      latencies.push(t.at - t.t0);
    }
  } finally {
    await traffic.stop();
    await stopChild(child);
    dir.cleanup();
  }
  return { name, latencies, goal: true };
}

/**
 * A proxy in front of the hub that stamps when each push's body has arrived, and for each trial route
 * the arrival of the first push whose rows hold both slow requests of the first pair (a row's sum over
 * `THRESHOLD_MS` counts its slow samples: its fast ones add a few ms). Then forwards the push as it is.
 */
async function pushProxy(hubUrl: string) {
  /** route -> bucket -> slow samples in the newest row of that minute. */
  const slowSeen = new Map<string, Map<number, number>>();
  const breachArrival = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const at = performance.now();
      const body = Buffer.concat(chunks);
      try {
        type Seen = { metric: string; labels: Record<string, string>; bucket: number; sum: number };
        // the agent's binary body (src/metrics/push-rows.ts), or JSON
        const rows: Seen[] =
          req.headers['content-type'] === PUSH_ROWS_TYPE
            ? decodeRows(body).map((r) => ({ ...r, labels: JSON.parse(r.labels) as Record<string, string> }))
            : ((JSON.parse(body.toString('utf8')) as { rows?: Seen[] }).rows ?? []);
        for (const row of rows) {
          const route = row.labels?.route;
          if (row.metric !== 'http_request_duration_ms' || !route || breachArrival.has(route)) continue;
          const byBucket = slowSeen.get(route) ?? new Map<number, number>();
          slowSeen.set(route, byBucket);
          byBucket.set(row.bucket, Math.floor(row.sum / THRESHOLD_MS));
          let slow = 0;
          for (const n of byBucket.values()) slow += n;
          if (slow >= SLOW_CONCURRENCY) breachArrival.set(route, at);
        }
      } catch {
        // not a push body: forwarded as it is, the hub answers it
      }
      try {
        const up = await fetch(`${hubUrl}${req.url}`, {
          method: req.method,
          headers: {
            'content-type': String(req.headers['content-type'] ?? 'application/json'),
            ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
          },
          body,
        });
        const answer = Buffer.from(await up.arrayBuffer());
        const headers: Record<string, string> = {};
        for (const h of ['content-type', 'retry-after', 'x-prodmon-max-rows']) {
          const v = up.headers.get(h);
          if (v) headers[h] = v;
        }
        res.writeHead(up.status, headers);
        res.end(answer);
      } catch (err) {
        res.writeHead(502);
        res.end((err as Error).message);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    breachArrival,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/**
 * Sequential trials against a standalone prodmon (default config) fed by an agent in a child app: two
 * rows, from the push's arrival at the hub and from the end of the first slow response.
 */
async function pushedRows(): Promise<Row[]> {
  const dir = tempDir('prodmon-bench-hub-');
  const hookPath = '/prodmon-pushed';
  const hub = await startChild(
    HUB,
    [
      JSON.stringify({
        instance: 'hub',
        data_dir: dir.path,
        logs: { stdout: false },
        auth: { tokens: [{ name: 'agents', token: PUSH_TOKEN, role: 'push' }] },
        notifications: notifications(hookPath),
      }),
    ],
    { pin: false },
  );
  const proxy = await pushProxy(`http://127.0.0.1:${hub.port}`);
  const app = await startApp('agent', {
    instance: 'app-1',
    push: { url: proxy.url, token: PUSH_TOKEN, interval: '1s' },
    flush_interval: '1s',
  });
  const traffic = healthyTraffic(app.base);
  await sleep(3000);
  const fromPush: number[] = [];
  const fromRequest: number[] = [];
  let unmatched = 0;
  try {
    for (let i = 0; i < RUNS; i++) {
      const route = `/api/t${i}`;
      const t = await trial(app.base, route, hookPath, 15_000);
      fromRequest.push(t.at - t.t0);
      const pushedAt = proxy.breachArrival.get(route);
      if (pushedAt === undefined) unmatched++;
      else fromPush.push(t.at - pushedAt);
    }
  } finally {
    await traffic.stop();
    await stopChild(app.child);
    await proxy.close();
    await stopChild(hub.child);
    dir.cleanup();
  }
  return [
    {
      name: "prodmon pushed (agent -> hub), from the push's arrival at the hub",
      latencies: fromPush,
      goal: true,
      ...(unmatched > 0 ? { note: `${unmatched} trial(s) without a push seen to carry the breach` } : {}),
    },
    {
      name: 'prodmon pushed, from the first slow response (+ agent flush and push, 1 s each)',
      latencies: fromRequest,
    },
  ];
}

/** A Prometheus + Alertmanager pair over its own prom-instrumented app. */
async function peerStack(bins: { prometheus: string; alertmanager: string }, s: PromSettings, tag: string) {
  const hookPath = `/am-${tag}`;
  const app = await startApp('prom');
  const daemons: Daemon[] = [];
  const traffic = healthyTraffic(app.base);
  const stop = async () => {
    await traffic.stop();
    for (const d of daemons.reverse()) await d.stop();
    await stopChild(app.child);
  };
  try {
    const am = await startAlertmanager(bins.alertmanager, `${hookBase}${hookPath}`, s);
    daemons.push(am);
    const rules = [
      'groups:',
      '  - name: bench',
      '    rules:',
      `      - alert: ${ALERT}`,
      `        expr: ${PROM_RULE}`,
      '        labels: { severity: critical }',
      '',
    ].join('\n');
    daemons.push(
      await startPrometheus(bins.prometheus, {
        target: `127.0.0.1:${app.port}`,
        rules,
        alertmanager: am,
        settings: s,
      }),
    );
  } catch (err) {
    await stop();
    throw err;
  }
  const prometheus = daemons[1]!;
  return { base: app.base, hookPath, stop, scraped: () => firstScrape(prometheus, 90_000) };
}

type Stack = Awaited<ReturnType<typeof peerStack>>;

/**
 * Peer trials all at once, each starting at a random moment within `spreadMs` (one scrape interval, so
 * t0 falls anywhere between scrapes), each bounded by `boundMs`.
 */
async function peerRowConcurrent(
  stack: Stack,
  name: string,
  spreadMs: number,
  boundMs: number,
): Promise<Row> {
  try {
    await stack.scraped();
    const latencies = await Promise.all(
      Array.from({ length: PEER_RUNS }, async (_, i) => {
        await sleep(Math.random() * spreadMs);
        const t = await trial(stack.base, `/api/t${i}`, stack.hookPath, boundMs);
        return t.at - t.t0;
      }),
    );
    return { name, latencies };
  } finally {
    await stack.stop();
  }
}

/** Sequential peer trials (for the tuned pair, whose trials take seconds). */
async function peerRowSequential(
  bins: { prometheus: string; alertmanager: string },
  name: string,
  tag: string,
  s: PromSettings,
  boundMs: number,
): Promise<Row> {
  const stack = await peerStack(bins, s, tag);
  const latencies: number[] = [];
  try {
    await stack.scraped();
    for (let i = 0; i < RUNS; i++) {
      const t = await trial(stack.base, `/api/t${i}`, stack.hookPath, boundMs);
      latencies.push(t.at - t.t0);
    }
    return { name, latencies };
  } finally {
    await stack.stop();
  }
}

const failed = (name: string, err: unknown): Row => ({
  name,
  latencies: [],
  note: `not measured: ${(err as Error).message}`,
});

// --- the run ---------------------------------------------------------------------------------------

const started = performance.now();
log(`breach to notification: ${SLOW_MS} ms requests (api_response_time critical threshold 2000 ms)`);
log(`prodmon rule: built-in api_response_time (p95 by route over 5m > 2000 ms, critical fires at once)`);
log(`Prometheus rule: ${PROM_RULE}`);
log(`load average at start (1, 5, 15 min): ${load()}`);

let stack: ReturnType<typeof ensurePromStack> = { ok: false, reason: 'skipped (BENCH_PEERS=0)' };
if (PEERS) stack = ensurePromStack(log);
if (stack.ok) log(`peers: ${stack.versions}`);
else log(`peers not measured: ${stack.reason}`);

const GROUP_BY = ['alertname', 'route'];
const background: Promise<Row>[] = [];
if (stack.ok) {
  const slowPeers = [
    {
      // Upstream defaults: no scrape/evaluation interval set (1m each), group_wait unset (30s).
      name: 'Prometheus + Alertmanager, upstream defaults (1m scrape + eval, group_wait 30s)',
      tag: 'default',
      settings: { groupBy: GROUP_BY },
      spreadMs: 60_000,
      boundMs: 300_000,
    },
    {
      // Debian's shipped prometheus.yml sets 15s scrape and evaluation (its alertmanager.yml: group_wait 30s).
      name: "Prometheus + Alertmanager, Debian's prometheus.yml (15s scrape + eval, group_wait 30s)",
      tag: 'debian',
      settings: { groupBy: GROUP_BY, scrapeInterval: '15s', evaluationInterval: '15s', groupWait: '30s' },
      spreadMs: 15_000,
      boundMs: 120_000,
    },
  ];
  // Started (and ready) before the prodmon rows, so their start-up does not disturb them.
  for (const p of slowPeers) {
    const ready = await peerStack(stack, p.settings, p.tag).catch((err: unknown) => err as Error);
    background.push(
      ready instanceof Error
        ? Promise.resolve(failed(p.name, ready))
        : peerRowConcurrent(ready, p.name, p.spreadMs, p.boundMs).catch((err) => failed(p.name, err)),
    );
  }
}

const rows: Row[] = [];
const EMBEDDED = 'prodmon embedded (node:http), from the first slow response';
rows.push(await embeddedRow(EMBEDDED).catch((err) => failed(EMBEDDED, err)));
log(`  measured prodmon embedded (${((performance.now() - started) / 1000).toFixed(0)} s)`);
rows.push(...(await pushedRows().catch((err) => [failed('prodmon pushed (agent -> hub)', err)])));
log(`  measured prodmon pushed (${((performance.now() - started) / 1000).toFixed(0)} s)`);
if (stack.ok) {
  const name = 'Prometheus + Alertmanager, tuned (1s scrape + eval, group_wait 0s)';
  rows.push(
    await peerRowSequential(
      stack,
      name,
      'tuned',
      { groupBy: GROUP_BY, scrapeInterval: '1s', evaluationInterval: '1s', groupWait: '0s' },
      20_000,
    ).catch((err) => failed(name, err)),
  );
  log(`  measured the tuned peers (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  rows.push(...(await Promise.all(background)));
  log(`  measured the peers at default intervals (${((performance.now() - started) / 1000).toFixed(0)} s)`);
}

await receiver.close();

const fmt = (x: number) =>
  !Number.isFinite(x) ? 'not notified' : x < 10_000 ? `${Math.round(x)} ms` : `${(x / 1000).toFixed(1)} s`;
const withInterval = (xs: number[], q: number) => {
  const i = quantileInterval(xs, q);
  return `${fmt(quantile(xs, q))} (${fmt(i.lo)}-${fmt(i.hi)})`;
};

log('');
log('Latency quantiles with a 90 % interval from resampling the trials:');
table(
  ['configuration', 'trials', 'p50 (90 % interval)', 'p95', 'p99 (90 % interval)', 'max'],
  rows.map((r) =>
    r.latencies.length === 0
      ? [r.name, 0, r.note ?? '', '', '', '']
      : [
          r.name,
          r.latencies.length,
          withInterval(r.latencies, 0.5),
          fmt(quantile(r.latencies, 0.95)),
          withInterval(r.latencies, 0.99),
          fmt(Math.max(...r.latencies)),
        ],
  ),
);
for (const r of rows.filter((r) => r.note && r.latencies.length > 0)) log(`  ${r.name}: ${r.note}`);

/** met / not met / cannot tell for one quantile against its goal, from its interval. */
function verdict(xs: number[], q: number, goalMs: number): 'met' | 'not met' | 'cannot tell' {
  if (xs.length < MIN_TRIALS) return 'cannot tell';
  const i = quantileInterval(xs, q);
  if (i.hi < goalMs) return 'met';
  if (i.lo >= goalMs) return 'not met';
  return 'cannot tell';
}

log('');
log(`Goal at the default config: p50 < ${GOAL.p50} ms and p99 < ${GOAL.p99} ms`);
for (const r of rows.filter((r) => r.goal)) {
  const p50 = verdict(r.latencies, 0.5, GOAL.p50);
  const p99 = verdict(r.latencies, 0.99, GOAL.p99);
  const all =
    p50 === 'not met' || p99 === 'not met'
      ? 'not met'
      : p50 === 'met' && p99 === 'met'
        ? 'met'
        : 'cannot tell';
  const short = r.latencies.length < MIN_TRIALS ? ` (fewer than ${MIN_TRIALS} trials)` : '';
  log(`  ${r.name}: ${all}${short} (p50 ${p50}, p99 ${p99})`);
}

const p99 = (r: Row | undefined) => (r && r.latencies.length > 0 ? quantile(r.latencies, 0.99) : undefined);
const ours = rows.find((r) => r.name === EMBEDDED);
const x = p99(ours);
if (x !== undefined && Number.isFinite(x)) {
  for (const peer of rows.filter((r) => r.name.startsWith('Prometheus'))) {
    const y = p99(peer);
    if (y !== undefined && Number.isFinite(y))
      log(
        `p99 ratio prodmon embedded / ${peer.name.replace('Prometheus + Alertmanager, ', 'peer ')}: ${(x / y).toFixed(4)}`,
      );
  }
}
if (process.env.BENCH_VERBOSE === '1') {
  for (const r of rows) log(`${r.name}, in trial order: ${r.latencies.map(fmt).join(', ')}`);
}
const extra = [...firings].filter(([, n]) => n > 1);
log(
  `\nfiring notifications per trial: ${extra.length === 0 ? 'exactly one each' : `more than one for ${extra.map(([k, n]) => `${k} (${n})`).join(', ')}`}`,
);
log(`load average at the end (1, 5, 15 min): ${load()}`);
log(`total ${((performance.now() - started) / 1000).toFixed(0)} s; the machine is shared (2 CPUs).`);
