import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { FixedSystemSource, testEngine } from '../../test/support/metrics.js';
import { STORE_FIXTURES, type StoreFixture } from '../../test/support/stores.js';
import { FakeClock } from '../core/clock.js';
import type { Store } from '../store/index.js';
import type { MetricsEngine } from './engine.js';
import { METRIC } from './names.js';
import { readEntries, readRange } from './read.js';
import { canonicalLabels, MINUTE_MS } from './rollup.js';
import { encodeSketch, newSketch, sketchAdd } from './sketch.js';
import { SUMMARY_METRICS, summarize } from './summary.js';

const T0 = Date.UTC(2026, 2, 1, 12, 0, 0);
const HTTP = METRIC.httpRequest;

for (const fixture of STORE_FIXTURES as StoreFixture[]) {
  describe(`performance summary (${fixture.name})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let clock: FakeClock;
    let e: MetricsEngine;
    let source: FixedSystemSource;

    beforeEach(async () => {
      ({ store, cleanup } = await fixture.open());
      clock = new FakeClock(T0);
      source = new FixedSystemSource();
      e = testEngine({ store, clock, systemSource: source });
    });
    afterEach(async () => {
      e.recorder.close();
      await cleanup();
    });

    test('per-route and overall figures, slowest routes, queries and system resources over a period', async () => {
      for (let i = 1; i <= 100; i++) {
        clock.set(T0 + (i % 2) * MINUTE_MS + i);
        e.record(HTTP, { route: '/fast', method: 'GET', status_class: '2xx' }, i / 10);
        e.record(
          HTTP,
          { route: '/slow', method: 'POST', status_class: i <= 4 ? '5xx' : '2xx' },
          i * 10,
          i <= 4,
        );
      }
      e.record(METRIC.dbQuery, { db: 'shop', operation: 'select' }, 3);
      e.record(METRIC.dbQuery, { db: 'shop', operation: 'insert' }, 12, true);
      await e.flush(); // half from the store, half from memory
      await e.sampler.sample();
      source.reading = {
        ...source.reading,
        cpuHostPercent: 90,
        disks: [{ path: '/data', usedPercent: 72, freeBytes: 28e9 }],
      };
      clock.set(T0 + MINUTE_MS + 5000);
      await e.sampler.sample();

      const s = await e.performanceSummary({ since: T0, until: T0 + 2 * MINUTE_MS });
      assert.equal(s.overall.count, 200);
      assert.equal(s.overall.errors, 4);
      assert.equal(s.overall.throughput, 200 / 120);
      assert.equal(s.overall.errorRate, 0.02);
      assert.equal(s.overall.max, 1000);
      assert.deepEqual(
        s.routes.map((r) => [r.labels.route, r.labels.method, r.figures.count]),
        [
          ['/fast', 'GET', 100],
          ['/slow', 'POST', 100],
        ],
      );
      const slow = s.slowest[0]!;
      assert.equal(slow.labels.route, '/slow');
      assert.ok(Math.abs(slow.figures.p95! - 950) / 950 <= 0.01, `p95 ${slow.figures.p95}`);
      assert.ok(Math.abs(slow.figures.p99! - 990) / 990 <= 0.01);
      assert.equal(s.queries.overall.count, 2);
      assert.equal(s.queries.overall.errors, 1);
      assert.deepEqual(
        s.queries.byDatabase.map((q) => q.labels).sort((x, y) => x.operation!.localeCompare(y.operation!)),
        [
          { db: 'shop', operation: 'insert' },
          { db: 'shop', operation: 'select' },
        ],
      );
      assert.equal(s.system.cpuHost.samples, 2);
      assert.equal(s.system.cpuHost.avg, 70);
      assert.equal(s.system.cpuHost.max, 90);
      assert.equal(s.system.cpuHost.last, 90);
      assert.equal(s.system.cpuProcess.avg, 10);
      assert.equal(s.system.memory.avg, 60);
      assert.equal(s.system.eventLoopLag.max, 12);
      assert.deepEqual(
        s.system.disks.map((d) => [d.path, d.usedPercent.last, d.freeBytes.last]),
        [['/data', 72, 28e9]],
      );
      assert.deepEqual(s.instances, ['i1']);
    });

    test('read a page at a time and reduced, the summary of many instances is that of all their rows', async () => {
      const rows = [];
      for (let i = 0; i < 3; i++) {
        for (let m = 0; m < 3; m++) {
          for (let r = 0; r < 4; r++) {
            const sketch = newSketch();
            const values = Array.from({ length: 5 + r + i }, (_, k) => 10 * (r + 1) + k * (m + 1));
            for (const v of values) sketchAdd(sketch, v);
            rows.push({
              metric: HTTP,
              labels: canonicalLabels({ route: `/r${r}`, method: 'GET', status_class: '2xx' }),
              instance: `app-${i}`,
              resolution: MINUTE_MS,
              bucket: T0 + m * MINUTE_MS,
              count: values.length,
              sum: values.reduce((a, b) => a + b, 0),
              min: Math.min(...values),
              max: Math.max(...values),
              errors: r === 3 ? 1 : 0,
              sketch: Buffer.from(encodeSketch(sketch)),
            });
          }
          rows.push({
            metric: METRIC.cpu,
            labels: canonicalLabels({ scope: 'host' }),
            instance: `app-${i}`,
            resolution: MINUTE_MS,
            bucket: T0 + m * MINUTE_MS,
            count: 1,
            sum: 10 * (i + m),
            min: 10 * (i + m),
            max: 10 * (i + m),
            errors: 0,
            sketch: null,
          });
        }
      }
      await store.rollups.upsert(rows);
      e.record(HTTP, { route: '/r0', method: 'GET', status_class: '2xx' }, 77); // this instance, in memory
      const range = readRange(T0, T0 + 3 * MINUTE_MS);
      const direct = summarize(await readEntries({ store, recorder: e.recorder }, SUMMARY_METRICS, range), {
        ...range,
        since: T0,
      });
      const s = await e.performanceSummary({ since: T0, until: T0 + 3 * MINUTE_MS });
      const round = (x: unknown) =>
        JSON.parse(JSON.stringify(x, (_k, v) => (typeof v === 'number' ? Number(v.toPrecision(12)) : v)));
      assert.deepEqual(round(s), round(direct));
      assert.deepEqual(s.instances, ['app-0', 'app-1', 'app-2', 'i1']);
      assert.equal(
        s.overall.count,
        rows.filter((r) => r.metric === HTTP).reduce((a, r) => a + r.count, 0) + 1,
      );
      assert.equal(s.system.cpuHost.last, (20 + 30 + 40) / 3);
    });

    test('grouping by route alone merges methods', async () => {
      e.record(HTTP, { route: '/a', method: 'GET', status_class: '2xx' }, 1);
      e.record(HTTP, { route: '/a', method: 'POST', status_class: '2xx' }, 2);
      const s = await e.performanceSummary({ since: T0, until: T0 + MINUTE_MS, groupBy: ['route'] });
      assert.deepEqual(
        s.routes.map((r) => [r.labels, r.figures.count]),
        [[{ route: '/a' }, 2]],
      );
    });
  });
}
