import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { tempDir } from '../../test/support/services.js';
import { newId } from '../core/ids.js';
import type { RollupRow } from '../domain/rollup.js';
import { METRIC } from '../metrics/names.js';
import { canonicalLabels } from '../metrics/rollup.js';
import { encodeSketch, newSketch, sketchAdd } from '../metrics/sketch.js';
import { openStore, type Store } from '../store/index.js';
import { buildReport } from './data.js';
import { renderReport } from './index.js';

const HOUR = 3_600_000;
const UNTIL = Date.UTC(2026, 4, 10, 12, 0, 0);
const SINCE = UNTIL - HOUR;

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function store(): Promise<Store> {
  const dir = tempDir();
  const s = await openStore({ driver: 'sqlite', path: join(dir.path, 'p.db') });
  await s.migrate(UNTIL);
  cleanups.push(
    () => dir.cleanup(),
    () => s.close(),
  );
  return s;
}

/** A minute row of `n` requests all taking `value` ms, `errors` of them failed. */
function row(
  metric: string,
  labels: Record<string, string>,
  bucket: number,
  n: number,
  value: number,
  errors = 0,
  instance = 'i1',
): RollupRow {
  const sk = newSketch();
  sketchAdd(sk, value, n);
  return {
    metric,
    labels: canonicalLabels(labels),
    instance,
    resolution: 60_000,
    bucket,
    count: n,
    sum: n * value,
    min: value,
    max: value,
    errors,
    sketch: encodeSketch(sk),
  };
}

async function seed(s: Store): Promise<void> {
  const rows: RollupRow[] = [];
  for (let m = 0; m < 60; m++) {
    const cur = SINCE + m * 60_000;
    const prev = cur - HOUR;
    // This hour: 60/min on /checkout at 100 ms (1 error a minute), 30/min on /home at 20 ms, from two instances.
    rows.push(row(METRIC.httpRequest, { method: 'POST', route: '/checkout' }, cur, 60, 100, 1));
    rows.push(row(METRIC.httpRequest, { method: 'GET', route: '/home' }, cur, 15, 20, 0, 'i1'));
    rows.push(row(METRIC.httpRequest, { method: 'GET', route: '/home' }, cur, 15, 20, 0, 'i2'));
    rows.push(row(METRIC.dbQuery, { db: 'shop', operation: 'select' }, cur, 100, 5));
    rows.push(row(METRIC.cpu, { scope: 'host' }, cur, 6, 40));
    rows.push(row(METRIC.memory, {}, cur, 6, 70));
    // The hour before: half the traffic on /checkout at 50 ms, no errors; /home the same.
    rows.push(row(METRIC.httpRequest, { method: 'POST', route: '/checkout' }, prev, 30, 50));
    rows.push(row(METRIC.httpRequest, { method: 'GET', route: '/home' }, prev, 30, 20));
  }
  rows.push(row(METRIC.httpRequest, { method: 'GET', route: '/<script>alert(1)</script>' }, SINCE, 1, 5));
  await s.rollups.upsert(rows);
  const alert = (id: string, start: number, end: number | null, severity: 'high' | 'critical') => ({
    id,
    rule: 'api_response_time',
    fingerprint: `f-${id}`,
    type: 'performance' as const,
    severity,
    status: end === null ? ('firing' as const) : ('resolved' as const),
    message: 'p95 <b>slow</b>',
    value: 900,
    threshold: 500,
    labels: {},
    metadata: {},
    createdAt: start,
    updatedAt: end ?? start,
    firingAt: start,
    resolvedAt: end,
    resolution: end === null ? null : { kind: 'auto' as const, by: 'prodmon', at: end, reason: 'ok' },
    state: {},
  });
  // One started before the period and resolved 10 min into it; one fired 20 min and is still open.
  await s.alerts.insert(alert(newId(SINCE - 600_000, 'al_'), SINCE - 600_000, SINCE + 600_000, 'high'));
  await s.alerts.insert(alert(newId(UNTIL - 1_200_000, 'al_'), UNTIL - 1_200_000, null, 'critical'));
  await s.alerts.insert(
    alert(newId(SINCE - 2 * HOUR, 'al_'), SINCE - 2 * HOUR, SINCE - HOUR - 60_000, 'high'),
  );
  const check = (name: string, at: number, status: 'healthy' | 'unhealthy') => ({
    name,
    kind: 'tcp',
    status,
    responseTimeMs: 1,
    details: {},
    error: status === 'healthy' ? null : 'connection refused',
    critical: true,
    checkedAt: at,
  });
  await s.checks.insert([
    check('db', SINCE + 60_000, 'healthy'),
    check('db', SINCE + 120_000, 'unhealthy'),
    check('db', SINCE + 180_000, 'healthy'),
    check('db', SINCE + 240_000, 'healthy'),
    check('cache', SINCE + 60_000, 'healthy'),
  ]);
}

describe('performance report', () => {
  test('figures per route and overall, queries, resources, alerts with durations, check failures, change vs the hour before', async () => {
    const s = await store();
    await seed(s);
    const r = await buildReport({ store: s }, { since: SINCE, until: UNTIL, now: UNTIL });
    const c = r.current.overall;
    assert.equal(c.count, 60 * 90 + 1);
    assert.equal(c.errors, 60);
    assert.ok(Math.abs(c.throughput - (60 * 90 + 1) / 3600) < 1e-9);
    assert.ok(Math.abs(c.p95! - 100) <= 1, `p95 ${c.p95}`);
    assert.equal(r.previous.overall.count, 60 * 60);
    assert.equal(r.previous.overall.errors, 0);
    const checkout = r.routes.find((x) => x.labels.route === '/checkout')!;
    assert.equal(checkout.figures.count, 3600);
    assert.ok(Math.abs(checkout.figures.p95! - 100) <= 1);
    assert.ok(Math.abs(checkout.previousP95! - 50) <= 0.5);
    assert.equal(r.routes[0]?.labels.route, '/checkout', 'busiest first');
    assert.equal(r.current.queries.overall.count, 6000);
    assert.equal(r.current.system.cpuHost.avg, 40);
    assert.deepEqual(r.current.instances, ['i1', 'i2']);
    assert.equal(r.alerts.total, 2);
    assert.equal(r.alerts.previousTotal, 1);
    assert.deepEqual(
      r.alerts.items.map((a) => [a.severity, a.durationMs]),
      [
        ['critical', 1_200_000],
        ['high', 600_000],
      ],
    );
    assert.equal(r.alerts.firingMs, 1_800_000);
    assert.deepEqual(
      r.checks.items.map((x) => [x.name, x.runs, x.unhealthy, x.availability, x.lastError]),
      [
        ['db', 4, 1, 0.75, 'connection refused'],
        ['cache', 1, 0, 1, null],
      ],
    );
    assert.equal(r.series.points.length, 60);
    assert.equal(r.series.points[5]?.requests, 90);
    assert.equal(r.series.previous[5]?.requests, 60);
    assert.equal(r.series.previous[5]?.t, r.series.points[5]?.t, 'the previous period overlays this one');
  });

  test('text shows the comparison; HTML is self-contained and escapes stored text; JSON round-trips', async () => {
    const s = await store();
    await seed(s);
    const r = await buildReport({ store: s }, { since: SINCE, until: UNTIL, now: UNTIL });
    const text = renderReport(r, 'text', { timeZone: 'UTC' });
    assert.match(
      text,
      /period: 2026-05-10 11:00 to 2026-05-10 12:00 GMT\+0 \(1h\), compared with the 1h before/,
    );
    assert.match(text, /requests\s+5,401\s+3,600\s+\+50\.0%/);
    assert.match(text, /error rate\s+1\.11%\s+0\.00%\s+\+1\.11 pt/);
    assert.match(text, /POST \/checkout\s+3,600\s+1\.00\s+1\.67%/);
    assert.match(text, /Alerts: 2 \(previous period 1\); critical 1, high 1/);
    assert.match(text, /db\s+4\s+1\s+0\s+75\.0%/);
    const html = renderReport(r, 'html', { timeZone: 'UTC' });
    assert.match(html, /^<!doctype html>/);
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
    assert.doesNotMatch(html, /<script/i, 'no script, and the route name is escaped');
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.doesNotMatch(html, /<b>slow<\/b>/);
    assert.doesNotMatch(html, /(src|href)=["']?(https?:)?\/\//i, 'no external asset');
    assert.ok((html.match(/<svg /g) ?? []).length >= 6, 'charts');
    const json = JSON.parse(renderReport(r, 'json')) as typeof r;
    assert.equal(json.current.overall.count, 5401);
    assert.equal(json.alerts.items.length, 2);
  });

  test('an empty store gives an empty report, not an error', async () => {
    const s = await store();
    const r = await buildReport({ store: s }, { since: SINCE, until: UNTIL, now: UNTIL });
    assert.equal(r.current.overall.count, 0);
    assert.match(renderReport(r, 'text'), /no requests recorded/);
    assert.match(renderReport(r, 'html'), /no data in this period/);
  });
});
