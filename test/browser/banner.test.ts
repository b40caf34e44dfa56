/**
 * The dashboard's status banner and figures in a real browser (Debian's Chromium through
 * playwright-core) against a real monitor whose only check is healthy and which has recorded nothing:
 * the banner shows the worst of the checks and the firing alerts, on the first render and live, and a
 * figure without data says so.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { launchChromium, signInPage } from '../../src/dashboard/test-support/browser.js';
import {
  ADMIN_TOKEN,
  insertAlert,
  type MonitorFixture,
  PASSWORD,
  startMonitor,
} from '../../src/dashboard/test-support/fixture.js';

let f: MonitorFixture;
let browser: Browser;

before(async () => {
  f = await startMonitor({
    // One check, always healthy (no host check that a busy machine could degrade), and no system
    // sample within the test: nothing is recorded but what a test adds.
    config: { health: { builtin_checks: false }, metrics: { sample_interval: '5m' } },
  });
  f.monitor.health.register('app', async () => ({ status: 'healthy' }));
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await f?.close();
});

/** The text of an element ('' when none). */
const text = async (l: Locator) => ((await l.textContent()) ?? '').replace(/\s+/g, ' ').trim();

async function adminPage(): Promise<{ ctx: BrowserContext; page: Page }> {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await ctx.newPage();
  await signInPage(page, f.dashboard, 'admin', PASSWORD);
  return { ctx, page };
}

/** Waits until the banner shows `status` (the live stream replaces it without a reload). */
async function bannerIs(page: Page, status: string): Promise<Locator> {
  const banner = page.locator(`[data-section="banner"] .banner[data-status="${status}"]`);
  await banner.waitFor({ timeout: 15_000 });
  return banner;
}

async function resolve(id: string): Promise<void> {
  const res = await fetch(`${f.url}/production/api/alerts/${id}/resolve`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ reason: 'handled in the banner test' }),
  });
  assert.equal(res.status, 200);
}

describe('dashboard banner and figures in a browser', () => {
  test('with nothing recorded, every performance card says "no data"', async () => {
    const { ctx, page } = await adminPage();
    const cards = page.locator('#performance .stat');
    assert.equal(await cards.count(), 9);
    for (const card of await cards.all()) {
      const label = await text(card.locator('.label'));
      assert.equal(await text(card.locator('.value')), 'no data', label);
    }
    await ctx.close();
  });

  test('a critical alert firing while every check is healthy: red and named on the first render, green again once resolved, amber for a lesser one', async () => {
    const { ctx: first, page: before } = await adminPage();
    await bannerIs(before, 'healthy');
    assert.match(await text(before.locator('[data-section="banner"]')), /Checks: 1 healthy/);
    await first.close();

    const critical = await insertAlert(f.monitor.store, Date.now(), {
      rule: 'checkout_errors',
      message: 'Checkout fails for 12% of requests',
      severity: 'critical',
    });
    const { ctx, page } = await adminPage();
    // The first render: no live update involved.
    const red = page.locator('[data-section="banner"] .banner');
    assert.equal(await red.getAttribute('data-status'), 'unhealthy');
    assert.match(await text(red.locator('.state')), /^Unhealthy$/);
    assert.match(await text(red), /critical alert firing: checkout_errors/);
    assert.match(await text(red), /Checks: 1 healthy/);
    assert.equal(
      await red.locator('a.banner-alert').getAttribute('href'),
      `/production/dashboard/alerts/${critical.id}`,
    );
    await page.evaluate('window.marker = 1');

    // Resolved: the live stream turns the banner green without a reload.
    await resolve(critical.id);
    const green = await bannerIs(page, 'healthy');
    assert.match(await text(green.locator('.state')), /^Healthy$/);
    assert.doesNotMatch(await text(green), /checkout_errors/);

    // A lesser alert (a rule's warning level) fires: amber, named.
    const warning = await insertAlert(f.monitor.store, Date.now(), {
      rule: 'checkout_latency',
      message: 'Checkout p95 is 900 ms',
      severity: 'medium',
    });
    const amber = await bannerIs(page, 'degraded');
    assert.match(await text(amber), /medium alert firing: checkout_latency/);
    // And a critical one on top of it: red, naming the critical one.
    const worse = await insertAlert(f.monitor.store, Date.now(), {
      rule: 'payments_down',
      message: 'Payments API unreachable',
      severity: 'critical',
    });
    const red2 = await bannerIs(page, 'unhealthy');
    assert.match(await text(red2), /critical alert firing: payments_down and 1 more/);
    assert.match(await page.title(), /^Unhealthy · /);
    await resolve(worse.id);
    await bannerIs(page, 'degraded');
    await resolve(warning.id);
    await bannerIs(page, 'healthy');
    assert.equal(await page.evaluate('window.marker'), 1, 'no reload');
    await ctx.close();
  });
});
