import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '../../test/support/services.js';
import { FakeClock } from '../core/clock.js';
import { compact } from '../metrics/maintenance.js';
import { METRIC } from '../metrics/names.js';
import { COMPACTED_UNTIL_KEY, type ReadRange, readEntries, readRange } from '../metrics/read.js';
import { Recorder } from '../metrics/recorder.js';
import { HOUR_MS, MINUTE_MS } from '../metrics/rollup.js';
import { openStore, type Store } from '../store/index.js';
import { HourCache } from './hours.js';

const NOW = Date.UTC(2026, 0, 2, 12, 30);
const dir = tempDir();
let store: Store;
const recorder = new Recorder({ clock: new FakeClock(NOW), instance: 'reader', maxSeries: 100 });

before(async () => {
  store = await openStore({ driver: 'sqlite', path: join(dir.path, 'prodmon.db') });
  await store.migrate(NOW);
  // Six hours of minute rows for two routes, written the way a monitor flushes them.
  const rec = new Recorder({
    clock: new FakeClock(NOW),
    instance: 'shop-1',
    maxSeries: 100,
    maxBufferedRows: 100_000,
  });
  for (let t = NOW - 6 * HOUR_MS; t < NOW; t += MINUTE_MS) {
    rec.observe(rec.series(METRIC.httpRequest, { route: '/a' }), 10, false, t);
    rec.observe(rec.series(METRIC.httpRequest, { route: '/b' }), 30, t % (10 * MINUTE_MS) === 0, t + 1000);
  }
  const batch = rec.collect(NOW + HOUR_MS);
  await store.rollups.upsert(batch.rows);
  batch.commit();
});
after(async () => {
  await store.close();
  dir.cleanup();
});

function cache() {
  const reads: ReadRange[] = [];
  const c = new HourCache({
    read: (metrics, range) => {
      reads.push(range);
      return readEntries({ store, recorder }, metrics, range);
    },
    compactedUntil: async () => (await store.state.get<number>(COMPACTED_UNTIL_KEY)) ?? 0,
    withSketch: () => true,
  });
  return { c, reads };
}

const totals = (entries: { count: number; errors: number; sum: number }[]) =>
  entries.reduce((a, e) => ({ count: a.count + e.count, errors: a.errors + e.errors, sum: a.sum + e.sum }), {
    count: 0,
    errors: 0,
    sum: 0,
  });

describe('hour cache', () => {
  test('whole past hours come back as one entry per series and hour, with the same totals and quantiles', async () => {
    const range = readRange(NOW - 6 * HOUR_MS, NOW);
    const direct = await readEntries({ store, recorder }, [METRIC.httpRequest], range);
    const { c } = cache();
    const reduced = await c.entries([METRIC.httpRequest], range, NOW);
    assert.deepEqual(totals(reduced), totals(direct));
    const tenMinutes = await c.entries([METRIC.httpRequest], range, NOW, 10 * MINUTE_MS);
    assert.deepEqual(totals(tenMinutes), totals(direct));
    assert.equal(
      tenMinutes.filter((e) => e.resolution === 10 * MINUTE_MS).length,
      35 * 2,
      'whole 10-minute blocks up to the grace',
    );
    const hourly = reduced.filter((e) => e.resolution === HOUR_MS);
    assert.equal(
      hourly.length,
      5 * 2,
      'five whole hours that ended more than the grace ago, two series each',
    );
    const b = hourly.find((e) => e.labelsJson.includes('/b'))!;
    assert.equal(b.count, 60);
    assert.equal(b.errors, 6);
    assert.ok(b.sketch()!.getValueAtQuantile(0.5)! > 29 && b.sketch()!.getValueAtQuantile(0.5)! < 31);
  });

  test('a second view reads only the current hour and the partial first one; compacted hours are read as stored', async () => {
    const { c, reads } = cache();
    const range = readRange(NOW - 6 * HOUR_MS + 5 * MINUTE_MS, NOW);
    await c.entries([METRIC.httpRequest], range, NOW);
    const first = reads.length;
    assert.equal(c.size, 5);
    const { c: warmed, reads: warmReads } = cache();
    await warmed.warm([METRIC.httpRequest], range, NOW, [HOUR_MS, 10 * MINUTE_MS], async () => {});
    assert.equal(warmReads.length, 5, 'one read per hour for both widths');
    warmReads.length = 0;
    await warmed.entries([METRIC.httpRequest], range, NOW);
    assert.equal(warmReads.length, 2, 'warmed: only the partial first hour and the current one are read');
    warmReads.length = 0;
    await warmed.entries([METRIC.httpRequest], range, NOW, 10 * MINUTE_MS);
    // The edges, and the four 10-minute blocks outside the whole hours warmed (06:40, 06:50, 12:00, 12:10).
    assert.equal(warmReads.length, 6);
    reads.length = 0;
    await c.entries([METRIC.httpRequest], range, NOW);
    assert.equal(reads.length, 2, `reads: ${JSON.stringify(reads)} after ${first}`);
    await compact(store, { now: NOW });
    reads.length = 0;
    const after = await c.entries([METRIC.httpRequest], range, NOW);
    assert.equal(reads.length, 3, 'head, the compacted hours in one read, the current hour');
    const direct = await readEntries({ store, recorder }, [METRIC.httpRequest], range);
    assert.deepEqual(totals(after), totals(direct));
  });
});
