/**
 * Takes the dashboard's screenshots (docs/screenshots/*.png) from a realistic monitor:
 * three hours of shop traffic fed through the recorder, live traffic from the Express shop through
 * prodmon's middleware, real checks (SQLite, Redis, an unreachable payments API), alerts fired by the
 * engine, notifications delivered to a local webhook, a silence.
 *
 *   node --import tsx test/browser/screenshots.ts [out-dir]     (default docs/screenshots)
 */
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { alertActions } from '../../src/alerting/actions.js';
import { launchChromium, signInPage } from '../../src/dashboard/test-support/browser.js';
import {
  insertAlert,
  PASSWORD,
  startMonitor,
  startShop,
  traffic,
} from '../../src/dashboard/test-support/fixture.js';

const out = resolve(process.argv[2] ?? 'docs/screenshots');
mkdirSync(out, { recursive: true });

// A webhook receiver that accepts notifications, and a chat hook that is down.
const hook = createServer((req, res) => {
  req.resume();
  res.statusCode = req.url === '/chat' ? 503 : 200;
  res.end();
});
await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}`;

const dataDir = resolve('.prodmon-screens-db');
mkdirSync(dataDir, { recursive: true });
const shopDb = join(dataDir, 'shop.db');
new Database(shopDb).exec('create table if not exists orders (id integer primary key)');

const f = await startMonitor({
  backfillMinutes: 180,
  fileLogs: true,
  config: {
    health: {
      checks: [
        { name: 'db', kind: 'sqlite', path: shopDb },
        {
          name: 'cache',
          kind: 'redis',
          url: 'redis://127.0.0.1:6379',
          key_prefix: `prodmon:screens:${process.pid}:`,
          critical: false,
        },
        { name: 'payments', kind: 'http', url: 'http://127.0.0.1:9/health', timeout: '1s', critical: false },
      ],
    },
    notifications: {
      channels: [
        { name: 'ops-hook', kind: 'webhook', url: `${hookUrl}/hook` },
        { name: 'chat', kind: 'webhook', url: `${hookUrl}/chat` },
      ],
    },
  },
});
const shop = await startShop(f.monitor);
const browser = await launchChromium();
try {
  await traffic(shop.url, 20);
  const now = Date.now();
  f.monitor.logger.error.error(
    { route: '/checkout', provider: 'payments', err: 'ETIMEDOUT' },
    'payment provider timed out',
  );
  f.monitor.logger.error.error({ route: '/checkout', status: 502 }, 'upstream returned 502 Bad Gateway');
  // The engine fires `checkout_latency` from a really slow checkout.
  shop.slow.ms = 2300;
  await fetch(`${shop.url}/checkout`, { method: 'POST' });
  shop.slow.ms = 0;
  await insertAlert(f.monitor.store, now - 25 * 60_000, {
    rule: 'disk_usage',
    message: 'Disk /var/lib/shop is 91% full (threshold 85%)',
    severity: 'medium',
    type: 'system',
    labels: { path: '/var/lib/shop', runbook: 'https://runbooks.example/disk' },
    value: 91,
    threshold: 85,
  });
  // The engine fires `error_rate` from the shop's failing /broken route; someone resolves it by hand.
  for (
    let i = 0;
    i < 50 && !(await f.monitor.store.alerts.listOpen()).some((a) => a.rule === 'error_rate');
    i++
  ) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const errors = (await f.monitor.store.alerts.listOpen()).find((a) => a.rule === 'error_rate');
  const actions = alertActions({
    store: f.monitor.store,
    clock: f.monitor.clock,
    logger: f.monitor.logger,
    engine: f.monitor.alerting,
  });
  if (errors)
    await actions.resolve({ id: errors.id, reason: 'Rolled back release 2026.11.3', actor: 'admin' });
  await actions.silence({
    rule: 'cpu_usage',
    durationMs: 4 * 3_600_000,
    comment: 'Batch re-index tonight',
    createdBy: 'admin',
  });
  await new Promise((r) => setTimeout(r, 3000)); // checks run, notifications go out

  const shoot = async (
    name: string,
    url: string,
    opts: { dark?: boolean; phone?: boolean; full?: boolean; signIn?: boolean } = {},
  ) => {
    const ctx = await browser.newContext({
      viewport: opts.phone ? { width: 390, height: 844 } : { width: 1440, height: 900 },
      deviceScaleFactor: opts.phone ? 2 : 1,
      isMobile: opts.phone ?? false,
      colorScheme: opts.dark ? 'dark' : 'light',
    });
    const page = await ctx.newPage();
    if (opts.signIn !== false) await signInPage(page, f.dashboard, 'admin', PASSWORD);
    await page.goto(url);
    if (opts.signIn !== false)
      await page
        .locator('#live-state[data-state="live"]')
        .waitFor({ timeout: 5000 })
        .catch(() => {});
    await page.waitForTimeout(800);
    await page.screenshot({ path: join(out, `${name}.png`), fullPage: opts.full ?? true });
    await ctx.close();
    console.log(`${name}.png`);
  };
  const alerts = await f.monitor.store.alerts.list({ limit: 50 });
  const fired = alerts.items.find((a) => a.rule === 'checkout_latency') ?? alerts.items[0]!;
  await shoot('overview', `${f.dashboard}/`);
  await shoot('overview-dark', `${f.dashboard}/?range=6h`, { dark: true });
  await shoot('phone', `${f.dashboard}/`, { phone: true, full: false });
  await shoot('alerts', `${f.dashboard}/alerts`);
  await shoot('alert-detail', `${f.dashboard}/alerts/${fired.id}`);
  await shoot('silences', `${f.dashboard}/silences`);
  await shoot('login', `${f.dashboard}/login`, { signIn: false, full: false });
} finally {
  await browser.close();
  shop.server.close();
  hook.close();
  await f.close();
  (await import('node:fs')).rmSync(dataDir, { recursive: true, force: true });
}
