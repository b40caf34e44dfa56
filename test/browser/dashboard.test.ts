/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core) against a real monitor:
 * SQLite store, the alert engine firing from an Express shop's traffic (prodmon's middleware), history
 * fed through the metrics recorder.
 */
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { launchChromium, signInPage } from '../../src/dashboard/test-support/browser.js';
import {
  insertAlert,
  type MonitorFixture,
  PASSWORD,
  startMonitor,
  startShop,
  traffic,
  withoutEvaluation,
} from '../../src/dashboard/test-support/fixture.js';

let f: MonitorFixture;
let shop: Awaited<ReturnType<typeof startShop>>;
let browser: Browser;

before(async () => {
  f = await startMonitor({ backfillMinutes: 60, config: { auth: { login_max_failures: 3 } } });
  shop = await startShop(f.monitor);
  await traffic(shop.url, 5);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  shop?.server.close();
  await f?.close();
});

async function adminPage(): Promise<{ ctx: BrowserContext; page: Page; dialogs: string[] }> {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await ctx.newPage();
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await signInPage(page, f.dashboard, 'admin', PASSWORD);
  return { ctx, page, dialogs };
}

/** The text of an element ('' when none). */
const text = async (l: Locator) => (await l.textContent()) ?? '';
const row = (page: Page, message: string) => page.locator('[data-section="alerts"] tr', { hasText: message });

describe('dashboard in a browser', () => {
  test('signed out, the dashboard sends the browser to the sign-in page', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${f.dashboard}/alerts`);
    assert.match(page.url(), /\/production\/dashboard\/login\?next=%2Fproduction%2Fdashboard%2Falerts$/);
    assert.equal(await page.getByRole('heading', { name: 'Sign in to prodmon' }).isVisible(), true);
    await ctx.close();
  });

  test('after signing in: the status banner, checks and charts drawn from the shop and the backfilled hour', async () => {
    const { ctx, page } = await adminPage();
    const banner = page.locator('[data-section="banner"] .banner');
    assert.match((await banner.getAttribute('data-status')) ?? '', /^(healthy|degraded|unhealthy)$/);
    assert.match(await text(banner), /since/);
    assert.ok((await page.locator('[data-section="checks"] tbody tr').count()) >= 3);
    for (const id of ['throughput', 'errors', 'latency', 'db', 'cpu', 'memory', 'disk', 'eventloop']) {
      await page.locator(`[data-chart="${id}"] canvas`).first().waitFor({ timeout: 30_000 });
    }
    const requests = await text(page.locator('.stat', { hasText: 'Requests' }).locator('.value'));
    assert.ok(Number(requests.replace('k', '')) > 0, `requests: ${requests}`);
    assert.match(await text(page.locator('#performance')), /\/checkout/);
    // Times are shown in the viewer's zone, with UTC on hover.
    const t = page.locator('[data-section="banner"] time').first();
    assert.match((await t.getAttribute('title')) ?? '', /UTC$/);
    await page.locator('#live-state[data-state="live"]').waitFor({ timeout: 30_000 });
    // The period picker reloads the charts for 6 hours.
    await page.getByRole('link', { name: '6 h' }).click();
    await page.waitForURL(/range=6h/);
    await page.locator('[data-chart="latency"] canvas').first().waitFor();
    await ctx.close();
  });

  test('a new alert from the engine appears live; resolved with a reason it moves to the history', async () => {
    const { ctx, page } = await adminPage();
    await page.evaluate('window.marker = 1');
    shop.slow.ms = 2100;
    await fetch(`${shop.url}/checkout`, { method: 'POST' });
    shop.slow.ms = 0;
    const alert = row(page, 'Checkout is slow');
    await alert.waitFor({ timeout: 15_000 });
    assert.equal(await page.evaluate('window.marker'), 1, 'no reload');
    assert.match(await text(page.locator('[data-section="banner"]')), /1 critical/);
    await alert.locator('summary', { hasText: 'Resolve' }).click();
    const reason = alert.getByLabel('Reason (required)');
    assert.equal(
      await reason.evaluate((el) => el === el.ownerDocument.activeElement),
      true,
      'the reason field has focus',
    );
    await reason.fill('Slow payment provider, fixed upstream');
    await Promise.all([
      page.waitForURL(/notice=resolved/),
      alert.getByRole('button', { name: 'Resolve alert' }).click(),
    ]);
    assert.equal(await row(page, 'Checkout is slow').count(), 0);
    await page.getByRole('link', { name: 'Alerts', exact: true }).click();
    const hist = page.locator('[data-section="history"] tr', { hasText: 'Checkout is slow' }).first();
    assert.match(await text(hist), /resolved/);
    assert.match(await text(hist), /Slow payment provider, fixed upstream/);
    await ctx.close();
  });

  test('silencing a rule from its alert', () =>
    withoutEvaluation(f, async () => {
      const a = await insertAlert(f.monitor.store, Date.now(), {
        rule: 'disk_usage',
        message: 'Disk /var/lib/shop is 91% full',
        severity: 'medium',
        type: 'system',
        labels: { path: '/var/lib/shop' },
        value: 91,
        threshold: 85,
      });
      const { ctx, page } = await adminPage();
      const r = row(page, 'Disk /var/lib/shop');
      await r.locator('summary', { hasText: 'Silence' }).click();
      await r.getByLabel('For').selectOption('8h');
      await r.getByLabel('Comment (required)').fill('Volume resize scheduled');
      await Promise.all([
        page.waitForURL(/notice=silenced/),
        r.getByRole('button', { name: 'Silence' }).click(),
      ]);
      assert.match(await text(row(page, 'Disk /var/lib/shop')), /silenced/);
      await page.getByRole('link', { name: 'Silences' }).click();
      const s = page.locator('tr[data-silence-id]', { hasText: 'Volume resize scheduled' });
      assert.match(await text(s), /rule disk_usage/);
      assert.match(await text(s), /active/);
      const [stored] = await f.monitor.store.silences.active(Date.now());
      assert.equal(stored?.matchers.rule, a.rule);
      await ctx.close();
    }));

  test('operable with the keyboard alone: open the resolve form, type, submit', () =>
    withoutEvaluation(f, async () => {
      await insertAlert(f.monitor.store, Date.now(), {
        rule: 'kbd_rule',
        message: 'Keyboard resolves this',
        severity: 'low',
      });
      const { ctx, page } = await adminPage();
      const r = row(page, 'Keyboard resolves this');
      await r.locator('summary', { hasText: 'Resolve' }).focus();
      await page.keyboard.press('Enter');
      // the page moves the focus into the opened form itself; on a loaded machine that can lag the key
      const focused = (what: string) =>
        page.waitForFunction(`document.activeElement?.matches(${JSON.stringify(what)}) ?? false`, undefined, {
          timeout: 30_000,
        });
      await focused('textarea[name="reason"]');
      await page.keyboard.type('Handled from the keyboard');
      await page.keyboard.press('Tab');
      await focused('button[type="submit"]');
      await Promise.all([page.waitForURL(/notice=resolved/), page.keyboard.press('Enter')]);
      assert.equal(await row(page, 'Keyboard resolves this').count(), 0);
      await ctx.close();
    }));

  test('a read-only user sees no actions, and a forged resolve is refused', () =>
    withoutEvaluation(f, async () => {
      const a = await insertAlert(f.monitor.store, Date.now(), {
        rule: 'ro_rule',
        message: 'Read-only view of this alert',
        severity: 'high',
      });
      const ctx = await browser.newContext();
      const page = await ctx.newPage();
      await signInPage(page, f.dashboard, 'reader', PASSWORD);
      await row(page, 'Read-only view').waitFor();
      assert.equal(await page.locator('summary', { hasText: 'Resolve' }).count(), 0);
      assert.match(await text(page.locator('header')), /read-only/);
      // The page's own script context, with its session and CSRF token: still refused for this role.
      const status = await page.evaluate(`(async () => {
      const csrf = document.querySelector('meta[name="csrf-token"]').getAttribute('content');
      const res = await fetch('/production/api/alerts/${a.id}/resolve', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
        body: JSON.stringify({ reason: 'sneaky' }),
      });
      return res.status;
    })()`);
      assert.equal(status, 403);
      assert.equal((await f.monitor.store.alerts.get(a.id))?.status, 'firing');
      await ctx.close();
    }));

  test('an alert message with markup renders as text: no dialog, no javascript: link', () =>
    withoutEvaluation(f, async () => {
      const a = await insertAlert(f.monitor.store, Date.now(), {
        rule: 'xss_probe',
        message: '<img src=x onerror=alert(1)>',
        severity: 'low',
        labels: { runbook: 'javascript:alert(2)', route: '<svg onload=alert(3)>' },
      });
      const { ctx, page, dialogs } = await adminPage();
      const r = row(page, '<img src=x onerror=alert(1)>');
      await r.waitFor();
      assert.equal(await text(r.locator('.alert-msg')), '<img src=x onerror=alert(1)>');
      assert.equal(await page.locator('img[src="x"]').count(), 0);
      assert.equal(await page.locator('a[href^="javascript:" i]').count(), 0);
      assert.match(await text(r), /runbook=javascript:alert\(2\)/);
      await page.goto(`${f.dashboard}/alerts/${a.id}`);
      assert.equal(await text(page.locator('h1.alert-msg')), '<img src=x onerror=alert(1)>');
      assert.equal(await page.locator('a[href^="javascript:" i]').count(), 0);
      assert.equal(await page.locator('svg[onload]').count(), 0);
      await page.waitForTimeout(300);
      assert.deepEqual(dialogs, []);
      await ctx.close();
    }));

  test('a page of another origin cannot change anything, even with the session cookie', () =>
    withoutEvaluation(f, async () => {
      const a = await insertAlert(f.monitor.store, Date.now(), {
        rule: 'csrf_probe',
        message: 'Target of a forged form',
        severity: 'high',
      });
      const { ctx, page } = await adminPage();
      // Same site (127.0.0.1), another port: the browser sends the SameSite=Strict cookie along, so
      // only prodmon's own checks (CSRF token, Sec-Fetch-Site / Origin) stand in the way.
      const target = `${f.url}/production/dashboard/alerts/${a.id}/resolve`;
      const evil: Server = createServer((_req, res) => {
        res.setHeader('content-type', 'text/html');
        res.end(
          `<!doctype html><title>evil</title><form method="post" action="${target}"><input name="reason" value="forged"><input name="_csrf" value="guess"><button>win a prize</button></form>`,
        );
      });
      await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
      try {
        await page.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`);
        const [res] = await Promise.all([
          page.waitForNavigation(),
          page.getByRole('button', { name: 'win a prize' }).click(),
        ]);
        assert.equal(res?.status(), 403);
        assert.match(await text(page.locator('main')), /Request refused/);
        // A script of that page calling the JSON API gets nothing done either.
        await page.evaluate(
          async (url) => {
            await fetch(url, {
              method: 'POST',
              credentials: 'include',
              headers: { 'content-type': 'text/plain' },
              body: JSON.stringify({ reason: 'forged' }),
            }).catch(() => undefined);
          },
          target.replace('/dashboard/', '/api/'),
        );
        assert.equal((await f.monitor.store.alerts.get(a.id))?.status, 'firing');
      } finally {
        evil.close();
        await ctx.close();
      }
    }));

  test('repeated wrong passwords are rate-limited', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${f.dashboard}/login`);
    for (let i = 0; i < 4; i++) {
      await page.getByLabel('User name', { exact: true }).fill('mallory');
      await page.getByLabel('Password', { exact: true }).fill(`guess-${i}`);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.locator('#login-error').waitFor();
    }
    assert.match(await text(page.locator('#login-error')), /Too many failed sign-ins/);
    await ctx.close();
  });

  test('static assets refuse traversal and never serve the database, config or logs', async () => {
    const u = new URL(f.url);
    const get = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request({ host: u.hostname, port: u.port, path }, (res) => {
          let body = '';
          res.setEncoding('latin1');
          res.on('data', (c: string) => {
            body += c;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    for (const path of [
      '/production/dashboard/assets/..%2f..%2f..%2fprodmon.db',
      '/production/dashboard/assets/%252e%252e%252fprodmon.db',
      '/production/dashboard/assets/..\\..\\prodmon.db',
      '/production/dashboard/assets/..%5c..%5cprodmon.yaml',
      '/production/dashboard/assets/../../logs/error.log',
    ]) {
      const r = await get(path);
      assert.equal(r.status, 404, path);
      assert.ok(!r.body.includes('SQLite format'), path);
    }
  });

  test('the live stream reconnects after prodmon restarts, and the page catches up', async () => {
    const { ctx, page } = await adminPage();
    await page.locator('#live-state[data-state="live"]').waitFor({ timeout: 30_000 });
    const port = Number(new URL(f.url).port);
    const config = f.monitor.config;
    await f.monitor.stop({ drainDelayMs: 0 });
    await page.locator('#live-state:not([data-state="live"])').waitFor({ timeout: 30_000 });
    const { createApp } = await import('../../src/app.js');
    const restarted = createApp(config, { fileLogs: false });
    await restarted.start();
    await restarted.listen('127.0.0.1', port);
    f.monitor = restarted;
    await insertAlert(restarted.store, Date.now(), {
      rule: 'after_restart',
      message: 'Raised after the restart',
      severity: 'critical',
    });
    await row(page, 'Raised after the restart').waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('#live-state').getAttribute('data-state'), 'live');
    await ctx.close();
  });
});
