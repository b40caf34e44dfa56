/**
 * Deploy markers in a real browser (Debian's Chromium through playwright-core) against a real monitor
 * with an hour of history: a marker recorded over the API is drawn on every performance chart at its
 * time, with its version, and on the checks' sparklines; one recorded while the page is open is drawn
 * without a reload; the Deployments page lists them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, signInPage } from '../../src/dashboard/test-support/browser.js';
import {
  ADMIN_TOKEN,
  type MonitorFixture,
  PASSWORD,
  startMonitor,
} from '../../src/dashboard/test-support/fixture.js';

let f: MonitorFixture;
let browser: Browser;
const MIN = 60_000;

before(async () => {
  f = await startMonitor({
    backfillMinutes: 60,
    config: { health: { builtin_checks: false }, metrics: { sample_interval: '5m' } },
  });
  // A check whose durations the fixture backfilled: its sparkline spans the hour.
  f.monitor.health.register('db', async () => ({ status: 'healthy' }));
  await f.monitor.health.run();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await f?.close();
});

async function mark(body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${f.url}/production/api/deployments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 201, await res.text());
}

/** Where a marker should be on a chart: its time's share of the chart's x range (the slots' starts). */
async function expectedShare(page: Page, atMs: number): Promise<number> {
  const times = (await page.evaluate(
    'JSON.parse(document.getElementById("chart-data").textContent).times',
  )) as number[];
  const first = times[0]!;
  const last = times.at(-1)!;
  return (Math.min(atMs / 1000, last) - first) / (last - first);
}

describe('deploy markers in a browser', () => {
  test('drawn on every chart at its time with its version, on the sparklines, and live when a new one is recorded', async () => {
    const at = Date.now() - 20 * MIN;
    await mark({ version: 'v1.4.2', note: 'faster checkout', at });
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await ctx.newPage();
    await signInPage(page, f.dashboard, 'reader', PASSWORD);

    const charts = page.locator('[data-chart]');
    const ids = await charts.evaluateAll((els) => els.map((e) => e.getAttribute('data-chart')));
    assert.ok(ids.includes('latency') && ids.length >= 5, `charts: ${ids.join(', ')}`);
    const share = await expectedShare(page, at);
    for (const id of ids) {
      const marker = page.locator(`[data-chart="${id}"] .deploy-marker[data-version="v1.4.2"]`);
      await marker.waitFor({ timeout: 15_000 });
      const box = await marker.evaluate((el) => {
        const plot = el.parentElement!;
        return {
          left: (el as unknown as { offsetLeft: number }).offsetLeft,
          width: plot.clientWidth,
          height: el.getBoundingClientRect().height,
          plotHeight: plot.getBoundingClientRect().height,
          label: el.textContent,
          title: el.querySelector('.deploy-label')?.getAttribute('title'),
        };
      });
      assert.ok(
        Math.abs(box.left - share * box.width) <= 2,
        `${id}: at ${box.left}px of ${box.width}, expected ${share * box.width}`,
      );
      assert.equal(box.height, box.plotHeight, `${id}: a line across the plot`);
      assert.equal(box.label, 'v1.4.2');
      assert.match(
        box.title ?? '',
        /^deploy v1\.4\.2 · \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC · by ops-token · faster checkout$/,
      );
    }
    assert.match(
      (await page.locator('.deploys-line').textContent()) ?? '',
      /Deploys in this period \(dashed lines on the charts\): v1\.4\.2/,
    );
    const sparkMark = page.locator('[data-check="db"] svg.spark line.deploy-mark');
    assert.equal(await sparkMark.count(), 1);
    assert.match((await sparkMark.locator('title').textContent()) ?? '', /^deploy v1\.4\.2 ·/);

    // Recorded while the page is open: drawn without a reload (the live stream redraws the charts).
    await page.evaluate('window.stillHere = 1');
    const at2 = Date.now() - 5 * MIN;
    await mark({ version: 'v1.4.3', instance: 'web-1', at: at2 });
    const live = page.locator('[data-chart="latency"] .deploy-marker[data-version="v1.4.3"]');
    await live.waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('[data-chart="latency"] .deploy-marker').count(), 2);
    assert.match(
      (await live.locator('.deploy-label').getAttribute('title')) ?? '',
      /^deploy v1\.4\.3 on web-1 ·/,
    );
    assert.equal(await page.evaluate('window.stillHere'), 1, 'no reload');

    // The list, from the navigation.
    await page.getByRole('link', { name: 'Deployments', exact: true }).click();
    await page.waitForURL(`${f.dashboard}/deployments`);
    const rows = page.locator('[data-section="deployments"] tr[data-version]');
    assert.deepEqual(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-version'))), [
      'v1.4.3',
      'v1.4.2',
    ]);
    assert.match((await rows.first().textContent()) ?? '', /v1\.4\.3\s*web-1\s*ops-token/);
    await ctx.close();
  });
});
