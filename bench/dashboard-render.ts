/**
 * Dashboard first render with 7 days of data for 50 routes, against the budgets (1 s, 150 KB gzipped).
 * Seeds a temp SQLite store through the metrics recorder (minute rollups with sketches, as a monitor
 * writes them) and compacts whole hours up to a day ago (what the daily cleanup job leaves), then
 * starts a fresh monitor on it and measures:
 *   - server time of the first (cold) and later page renders, 1 h and 7 d periods;
 *   - Chromium's time from navigation to every chart drawn (when /usr/bin/chromium exists);
 *   - page weight: the HTML and every asset it loads, gzipped as served.
 *
 *   node --import tsx bench/dashboard-render.ts
 */

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { FakeClock } from '../src/core/clock.js';
import { METRIC } from '../src/core/metric-names.js';
import { MINUTE_MS } from '../src/core/rollup.js';
import { Dashboard } from '../src/dashboard/index.js';
import { launchChromium } from '../src/dashboard/test-support/browser.js';
import { ADMIN_TOKEN, prng } from '../src/dashboard/test-support/fixture.js';
import { createMonitor } from '../src/index.js';
import { compact } from '../src/metrics/maintenance.js';
import { Recorder } from '../src/metrics/recorder.js';
import { openStore, type Store } from '../src/store/index.js';
import { tempDir } from '../test/support/services.js';
import { table } from './support.js';

const ROUTES = 50;
const DAYS = 7;
const SAMPLES = 4; // requests recorded per route and minute (the sketch and counts are what is stored)
const BUDGET_MS = 1000;
const BUDGET_KB = 150;

async function seed(store: Store, now: number): Promise<number> {
  const rnd = prng(7);
  const start = now - DAYS * 86_400_000;
  let rows = 0;
  for (let day = 0; day < DAYS; day++) {
    const rec = new Recorder({
      clock: new FakeClock(now),
      instance: 'shop-1',
      maxSeries: 1000,
      maxBufferedRows: 10_000_000,
    });
    const dayStart = start + day * 86_400_000;
    const dayEnd = Math.min(now, dayStart + 86_400_000);
    const series = Array.from({ length: ROUTES }, (_, i) => ({
      ok: rec.series(METRIC.httpRequest, {
        route: `/api/v1/resource${i}/:id`,
        method: i % 3 ? 'GET' : 'POST',
        status_class: '2xx',
      }),
      err: rec.series(METRIC.httpRequest, {
        route: `/api/v1/resource${i}/:id`,
        method: i % 3 ? 'GET' : 'POST',
        status_class: '5xx',
      }),
      ms: 5 + (i % 10) * 20,
    }));
    const sys = [
      [METRIC.cpu, { scope: 'host' }, 35],
      [METRIC.cpu, { scope: 'process' }, 12],
      [METRIC.memory, {}, 62],
      [METRIC.processRss, {}, 2e8],
      [METRIC.heapUsed, {}, 9e7],
      [METRIC.disk, { path: '/data' }, 71],
      [METRIC.diskFree, { path: '/data' }, 3e10],
      [METRIC.eventLoopLag, {}, 2],
      [METRIC.eventLoopUtilization, {}, 15],
    ] as const;
    const sysSeries = sys.map(([m, l, v]) => [rec.series(m, l), v] as const);
    const db = rec.series(METRIC.dbQuery, { db: 'main', operation: 'select' });
    for (let t = dayStart; t < dayEnd; t += MINUTE_MS) {
      for (const s of series) {
        for (let k = 0; k < SAMPLES; k++) rec.observe(s.ok, s.ms * (0.5 + rnd() * 2), false, t + k * 1000);
        if (rnd() < 0.05) rec.observe(s.err, s.ms * 3, true, t + 5000);
      }
      for (const [s, v] of sysSeries)
        for (let k = 0; k < 6; k++) rec.observe(s, v * (0.9 + rnd() * 0.2), false, t + k * 10_000);
      for (let k = 0; k < 10; k++) rec.observe(db, 2 + rnd() * 6, false, t + k * 5000);
    }
    const batch = rec.collect(dayEnd + MINUTE_MS);
    await store.rollups.upsert(batch.rows);
    batch.commit();
    rows += batch.rows.length;
  }
  return rows;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const dir = tempDir('prodmon-bench-dash-');
const now = Date.now();
const dbPath = join(dir.path, 'prodmon.db');
const store = await openStore({ driver: 'sqlite', path: dbPath });
await store.migrate(now);
let t = performance.now();
const minuteRows = await seed(store, now);
const seedMs = performance.now() - t;
t = performance.now();
const compaction = await compact(store, { now: now - 86_400_000 });
const compactMs = performance.now() - t;
process.stdout.write(
  `seeded ${minuteRows} minute rows (${ROUTES} routes x ${DAYS} days, with sketches) in ${(seedMs / 1000).toFixed(1)} s; ` +
    `compacted ${compaction.hours} hours into ${compaction.rows} hourly rows up to a day ago in ${(compactMs / 1000).toFixed(1)} s\n\n`,
);

/** A fresh monitor on the seeded store (nothing in memory, as after a restart). */
async function fresh() {
  const m = createMonitor(
    {
      data_dir: dir.path,
      instance: 'dashboard-bench',
      logs: { stdout: false },
      health: { builtin_checks: false },
      auth: { tokens: [{ name: 'bench', token: ADMIN_TOKEN, role: 'admin' }] },
    },
    { env: {}, fileLogs: false, store },
  );
  await m.start();
  return { m, url: await m.listen('127.0.0.1', 0) };
}
const headers = { authorization: `Bearer ${ADMIN_TOKEN}`, 'accept-encoding': 'gzip' };

async function render(base: string, range: string): Promise<{ ms: number; bytes: number; html: string }> {
  const t0 = performance.now();
  const res = await fetch(`${base}/production/dashboard/?range=${range}`, { headers });
  const html = await res.text();
  if (res.status !== 200) throw new Error(`dashboard answered ${res.status}`);
  // fetch decodes gzip; content-length is what went over the wire.
  return {
    ms: performance.now() - t0,
    bytes: Number(res.headers.get('content-length')) || gzipSync(html).length,
    html,
  };
}

const rows: (string | number)[][] = [];
const vs = (ms: number) => `${(ms / BUDGET_MS).toFixed(2)}x of 1 s`;
// A: the very first request after a start asks for 7 days (nothing prepared).
let run = await fresh();
const cold7d = await render(run.url, '7d');
rows.push(['server: 7 d as the first request after start', `${cold7d.ms.toFixed(0)} ms`, vs(cold7d.ms)]);
await run.m.stop({ drainDelayMs: 0 });
// B: a fresh start, the dashboard as opened (1 h), then 7 d chosen in the picker.
run = await fresh();
const { url, m: monitor } = run;
const first1h = await render(url, '1h');
rows.push([
  'server: dashboard (1 h) first request after start',
  `${first1h.ms.toFixed(0)} ms`,
  vs(first1h.ms),
]);
await new Promise((r) => setTimeout(r, 5000)); // someone reading the page before choosing 7 d
const then7d = await render(url, '7d');
rows.push(['server: 7 d chosen 5 s later (prepared meanwhile)', `${then7d.ms.toFixed(0)} ms`, vs(then7d.ms)]);
const warm7d: number[] = [];
const warm1h: number[] = [];
for (let i = 0; i < 5; i++) {
  warm7d.push((await render(url, '7d')).ms);
  warm1h.push((await render(url, '1h')).ms);
}
rows.push(['server: 7 d, median of 5 more', `${median(warm7d).toFixed(0)} ms`, vs(median(warm7d))]);
rows.push(['server: 1 h, median of 5 more', `${median(warm1h).toFixed(0)} ms`, vs(median(warm1h))]);
const first7d = await render(url, '7d');
{
  // The 7 d view recomputed once its minute of reuse is over (hours prepared, view not cached).
  const clock = new FakeClock(Date.now());
  const d = new Dashboard({ config: monitor.config, clock, store, metrics: monitor.metrics });
  await d.data.performance('7d');
  await clock.advance(61_000);
  const t0 = performance.now();
  await d.data.performance('7d');
  const ms = performance.now() - t0;
  rows.push(['7 d view recomputed (hours prepared)', `${ms.toFixed(0)} ms`, vs(ms)]);
  await d.close();
}

// Page weight: the HTML and every asset it references, gzipped as served.
const assetUrls = [...first7d.html.matchAll(/(?:src|href)="(\/production\/dashboard\/assets\/[^"]+)"/g)].map(
  (m) => m[1]!,
);
const moduleImports = ['charts.js', 'live.js', 'dom.js'].map((n) => `/production/dashboard/assets/${n}`);
let weight = first7d.bytes;
const parts: string[] = [`html ${(first7d.bytes / 1024).toFixed(1)}`];
for (const path of new Set([...assetUrls, ...moduleImports])) {
  const res = await fetch(`${url}${path}`, { headers });
  const body = Buffer.from(await res.arrayBuffer());
  const sent = Number(res.headers.get('content-length')) || gzipSync(body).length;
  weight += sent;
  parts.push(`${path.split('/').pop()!.split('?')[0]} ${(sent / 1024).toFixed(1)}`);
}
rows.push([
  'page weight (7 d view), gzipped, all assets',
  `${(weight / 1024).toFixed(1)} KB`,
  `${(weight / 1024 / BUDGET_KB).toFixed(2)}x of 150 KB`,
]);

if (existsSync('/usr/bin/chromium')) {
  const browser = await launchChromium();
  try {
    for (const range of ['7d', '1h']) {
      const ctx = await browser.newContext({
        extraHTTPHeaders: { authorization: `Bearer ${ADMIN_TOKEN}` },
        viewport: { width: 1440, height: 900 },
      });
      const page = await ctx.newPage();
      await page.goto(`${url}/production/dashboard/?range=${range}`);
      const charts = await page.locator('[data-chart]').count();
      await page.waitForFunction(`document.querySelectorAll('[data-chart] canvas').length >= ${charts}`);
      const ms = Number(await page.evaluate('performance.now()'));
      rows.push([
        `browser (new tab, view prepared): navigation to ${charts} charts drawn, ${range}`,
        `${ms.toFixed(0)} ms`,
        `${(ms / BUDGET_MS).toFixed(2)}x of 1 s`,
      ]);
      await ctx.close();
    }
  } finally {
    await browser.close();
  }
} else {
  rows.push(['browser render', 'skipped', '/usr/bin/chromium not installed']);
}

table(['measure', 'value', 'vs budget'], rows);
process.stdout.write(`\nweight by part (KB): ${parts.join(', ')}\n`);
await monitor.stop({ drainDelayMs: 0 });
await store.close();
dir.cleanup();
