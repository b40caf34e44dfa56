import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { bucketOf, testEngine } from '../../test/support/metrics.js';
import { STORE_FIXTURES, type StoreFixture } from '../../test/support/stores.js';
import type { WindowQuery } from '../alerting/sources.js';
import { FakeClock } from '../core/clock.js';
import { Slicer } from '../core/slice.js';
import type { RollupRow } from '../domain/rollup.js';
import type { Store } from '../store/index.js';
import type { MetricsEngine } from './engine.js';
import { METRIC } from './names.js';
import { readEntries, readRange, windowFromEntries } from './read.js';
import { canonicalLabels, MINUTE_MS } from './rollup.js';
import { WindowBlocks } from './window-blocks.js';

const T0 = Date.UTC(2026, 2, 1, 12, 0, 0);
const HTTP = METRIC.httpRequest;

/** A pushed row of `values` for a route of an instance. */
function row(instance: string, route: string, bucket: number, values: number[]): RollupRow {
  return {
    metric: HTTP,
    labels: canonicalLabels({ route, method: 'GET', status_class: '2xx' }),
    instance,
    resolution: MINUTE_MS,
    bucket,
    errors: values.filter((v) => v > 1000).length,
    ...bucketOf(values),
  };
}

for (const fixture of STORE_FIXTURES as StoreFixture[]) {
  describe(`alert windows from kept minutes (${fixture.name})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let clock: FakeClock;
    let e: MetricsEngine;

    beforeEach(async () => {
      ({ store, cleanup } = await fixture.open());
      clock = new FakeClock(T0 + 6 * MINUTE_MS + 45_000);
      e = testEngine({ store, clock, instance: 'hub' });
    });
    afterEach(async () => {
      e.recorder.close();
      await cleanup();
    });

    /** The window as the store and memory give it, read directly (without the kept minutes). */
    const direct = async (q: WindowQuery) => {
      const range = readRange(q.since, q.until);
      return windowFromEntries(
        await readEntries({ store, recorder: e.recorder }, [q.metric], range),
        q,
        range,
      );
    };
    const round = (x: unknown) =>
      JSON.parse(JSON.stringify(x, (_k, v) => (typeof v === 'number' ? Number(v.toPrecision(10)) : v)));
    const sorted = <T extends { labels: Record<string, string> }>(xs: T[]) =>
      [...xs].sort((a, b) => JSON.stringify(a.labels).localeCompare(JSON.stringify(b.labels)));

    test('the window of every aggregation is that of the rows themselves, as pushes and flushes change them', async () => {
      // Six minutes of three instances x four routes, the last two still filling.
      const rows: RollupRow[] = [];
      for (let m = 0; m < 7; m++) {
        for (let i = 0; i < 3; i++) {
          for (let r = 0; r < 4; r++) {
            rows.push(
              row(`app-${i}`, `/r${r}`, T0 + m * MINUTE_MS, [10 * (r + 1), 20 + m + i, 30 * (i + 1)]),
            );
          }
        }
      }
      await store.rollups.upsert(rows);
      e.record(HTTP, { route: '/r0', method: 'GET', status_class: '2xx' }, 500); // this instance, in memory
      const now = clock.now();
      const queries: WindowQuery[] = (['p95', 'avg', 'count', 'rate', 'max'] as const).map((aggregation) => ({
        metric: HTTP,
        aggregation,
        groupBy: ['route'],
        since: now - 5 * MINUTE_MS,
        until: now,
      }));
      queries.push({
        metric: HTTP,
        aggregation: 'p99',
        labels: { route: '/r2' },
        since: now - 5 * MINUTE_MS,
        until: now,
      });
      for (const q of queries)
        assert.deepEqual(round(sorted(await e.windowValues(q))), round(sorted(await direct(q))));

      // A push replaces the open minute's rows of an instance; the flush writes this instance's rows.
      const pushed = [0, 1, 2, 3].map((r) =>
        row('app-1', `/r${r}`, T0 + 6 * MINUTE_MS, [3000, 3000, 3000, 40]),
      );
      await store.rollups.upsert(pushed);
      e.written(pushed);
      await e.flush();
      for (const q of queries)
        assert.deepEqual(round(sorted(await e.windowValues(q))), round(sorted(await direct(q))));
      const [r1] = await e.windowValues({ ...queries[4]!, labels: { route: '/r1' } });
      assert.equal(r1!.value, 3000, 'the pushed slow requests show in the window');

      // A late row for a settled (merged) minute is read again from the store.
      await clock.advance(MINUTE_MS);
      const late = [row('app-9', '/r0', T0 + 3 * MINUTE_MS, [7000])];
      await store.rollups.upsert(late);
      e.written(late);
      const q = { ...queries[4]!, since: clock.now() - 5 * MINUTE_MS, until: clock.now() };
      assert.deepEqual(round(sorted(await e.windowValues(q))), round(sorted(await direct(q))));
      assert.equal((await e.windowValues(q)).find((v) => v.labels.route === '/r0')?.value, 7000);
    });

    test('a filling minute re-sent as it grows (and once restarted smaller) reads as its rows do', async () => {
      // Five instances x three routes re-send the open minute every round with more values: each label
      // set's sum over the instances follows the replacements; one pusher restarts (fewer values).
      const bucket = T0 + 6 * MINUTE_MS;
      const values = new Map<string, number[]>();
      const queries: WindowQuery[] = (['p50', 'p95', 'p99', 'avg', 'count', 'max'] as const).map(
        (aggregation) => ({
          metric: HTTP,
          aggregation,
          groupBy: ['route'],
          since: clock.now() - 5 * MINUTE_MS,
          until: clock.now(),
        }),
      );
      let seed = 7;
      const next = () => {
        seed = (seed * 48271) % 2147483647;
        return seed / 2147483647;
      };
      for (let pass = 0; pass < 12; pass++) {
        const pushed: RollupRow[] = [];
        for (let i = 0; i < 5; i++) {
          for (let r = 0; r < 3; r++) {
            const k = `${i}/${r}`;
            let vs = values.get(k) ?? [];
            if (pass === 8 && i === 2) vs = []; // a restarted pusher starts its minute again
            vs = [
              ...vs,
              ...Array.from({ length: 1 + Math.floor(next() * 20) }, () => 5 + next() * 400 * (r + 1)),
            ];
            values.set(k, vs);
            pushed.push(row(`app-${i}`, `/r${r}`, bucket, vs));
          }
        }
        await store.rollups.upsert(pushed);
        e.written(pushed);
        for (const q of queries)
          assert.deepEqual(
            round(sorted(await e.windowValues(q))),
            round(sorted(await direct(q))),
            `pass ${pass}, ${q.aggregation}`,
          );
      }
    });

    test('another writer of the store is seen once a kept minute is older than ttlMs', async () => {
      const blocks = new WindowBlocks({ store, recorder: e.recorder, clock, ttlMs: MINUTE_MS });
      const range = readRange(T0, T0 + 2 * MINUTE_MS);
      const count = async () => {
        let n = 0;
        for await (const page of blocks.entries(HTTP, range, new Slicer()))
          for (const x of page) n += x.count;
        return n;
      };
      await store.rollups.upsert([row('app-0', '/a', T0, [1, 2])]);
      assert.equal(await count(), 2);
      await store.rollups.upsert([row('app-1', '/a', T0, [1, 2, 3])]); // not through `written`
      assert.equal(await count(), 2, 'kept');
      await clock.advance(MINUTE_MS);
      assert.equal(await count(), 5, 'read again');
      assert.equal(blocks.size, 2);
    });
  });
}
