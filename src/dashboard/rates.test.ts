/** The performance view's rates are over the time covered by data, not the whole period (real SQLite store). */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '../../test/support/services.js';
import { FakeClock } from '../core/clock.js';
import { METRIC } from '../metrics/names.js';
import { Recorder } from '../metrics/recorder.js';
import { bucketStart, MINUTE_MS } from '../metrics/rollup.js';
import { openStore, type Store } from '../store/index.js';
import { PerformanceReader } from './performance.js';

const NOW = Date.UTC(2026, 0, 9, 12, 30, 20);
const dir = tempDir();
let store: Store;
/** The reading monitor's own recorder (nothing in memory: every minute below is stored). */
const recorder = new Recorder({ clock: new FakeClock(NOW), instance: 'reader', maxSeries: 100 });

/** Stores `perMinute` requests to /a (and one to /b) in each of the given minutes. */
async function record(minutes: number[], perMinute: number): Promise<void> {
  const rec = new Recorder({ clock: new FakeClock(NOW), instance: 'shop', maxSeries: 100 });
  const a = rec.series(METRIC.httpRequest, { route: '/a', method: 'GET', status_class: '2xx' });
  const b = rec.series(METRIC.httpRequest, { route: '/b', method: 'GET', status_class: '2xx' });
  for (const m of minutes) {
    for (let i = 0; i < perMinute; i++) rec.observe(a, 12, false, m + Math.floor((i * 50_000) / perMinute));
    rec.observe(b, 30, false, m + 500);
  }
  const batch = rec.collect(NOW + MINUTE_MS);
  await store.rollups.upsert(batch.rows);
  batch.commit();
  rec.close();
}

before(async () => {
  store = await openStore({ driver: 'sqlite', path: join(dir.path, 'prodmon.db') });
  await store.migrate(NOW);
  // Two whole minutes with data, ending 5 minutes ago, inside the 15-minute view.
  const last = bucketStart(NOW, MINUTE_MS) - 5 * MINUTE_MS;
  await record([last - MINUTE_MS, last], 2100);
});
after(async () => {
  recorder.close();
  await store.close();
  dir.cleanup();
});

describe('rates over the time covered by data', () => {
  test('data covering 2 minutes of a 15-minute view: the throughput is over those 2 minutes', async () => {
    const v = await new PerformanceReader({ store, clock: new FakeClock(NOW), metrics: { recorder } }).view(
      '15m',
    );
    const count = 2 * 2101;
    assert.equal(v.summary.overall.count, count);
    const last = bucketStart(NOW, MINUTE_MS) - 5 * MINUTE_MS;
    assert.equal(v.summary.overall.throughput, count / 120, 'requests per second over the 2 minutes');
    assert.deepEqual(v.covered, { from: last - MINUTE_MS, until: last + MINUTE_MS });
    assert.equal(v.summary.routes.find((r) => r.labels.route === '/a')?.figures.throughput, 4200 / 120);
    // The chart agrees: 35 req/s in each covered minute, nothing before or after.
    const tp = v.charts.charts.find((c) => c.id === 'throughput')!.series[0]!.values;
    assert.deepEqual(
      tp.filter((x) => x !== null),
      [35.017, 35.017],
    );
    assert.equal(tp.length, 16);
  });

  test('a period with nothing recorded has no covered span', async () => {
    const later = NOW + 3 * 3_600_000;
    const v = await new PerformanceReader({
      store,
      clock: new FakeClock(later),
      metrics: { recorder },
    }).view('15m');
    assert.equal(v.covered, null);
    assert.equal(v.summary.overall.count, 0);
  });
});
