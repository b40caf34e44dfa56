import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { flakyStore, testEngine } from '../../test/support/metrics.js';
import { STORE_FIXTURES } from '../../test/support/stores.js';
import { FakeClock, flushAsync } from '../core/clock.js';
import type { RollupRow } from '../domain/rollup.js';
import type { Store } from '../store/index.js';
import type { MetricsEngine } from './engine.js';
import { METRIC } from './names.js';
import { DATA_WINDOW_MS, OVERFLOW, Recorder } from './recorder.js';
import { MINUTE_MS } from './rollup.js';
import { binsRange, type CompactStore, decodeSketch, sketchQuantile } from './sketch.js';

const T0 = Date.UTC(2026, 2, 1, 12, 0, 0);
const relErr = (got: number, want: number) => Math.abs(got - want) / want;
const sqlite = STORE_FIXTURES.find((f) => f.name === 'sqlite')!;
const HTTP = METRIC.httpRequest;
const route = (r: string, extra: Record<string, string> = {}) => ({
  route: r,
  method: 'GET',
  status_class: '2xx',
  ...extra,
});

describe('recorder on a fake clock with a real SQLite store', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let clock: FakeClock;
  let engines: MetricsEngine[] = [];
  const engine = (over: Parameters<typeof testEngine>[0] extends infer O ? Partial<O> : never = {}) => {
    const e = testEngine({ store, clock, ...over });
    engines.push(e);
    return e;
  };
  const stored = (metric = HTTP) =>
    store.rollups.query({ metrics: [metric], resolution: MINUTE_MS, since: 0, until: T0 * 2 });

  beforeEach(async () => {
    ({ store, cleanup } = await sqlite.open());
    clock = new FakeClock(T0);
  });
  afterEach(async () => {
    for (const e of engines) e.recorder.close();
    engines = [];
    await cleanup();
  });

  test('samples of one minute share a bucket; the next minute opens another', async () => {
    const e = engine();
    clock.set(T0 + 1000);
    e.record(HTTP, route('/a'), 10);
    clock.set(T0 + 30_000);
    e.record(HTTP, route('/a'), 30, true);
    clock.set(T0 + 61_000);
    e.record(HTTP, route('/a'), 5);
    assert.equal(await e.flush(), 2);
    const rows = await stored();
    assert.deepEqual(
      rows.map((r) => [r.bucket - T0, r.count, r.sum, r.min, r.max, r.errors, r.instance]),
      [
        [0, 2, 40, 10, 30, 1, 'i1'],
        [60_000, 1, 5, 5, 5, 0, 'i1'],
      ],
    );
    assert.equal(rows[0]!.labels, '{"method":"GET","route":"/a","status_class":"2xx"}');
    assert.ok(rows[0]!.sketch && rows[0]!.sketch.length > 0);
  });

  test('a reflush replaces the row of a bucket that grew, and unchanged buckets are not rewritten', async () => {
    const e = engine();
    e.record(HTTP, route('/a'), 10);
    e.record(HTTP, route('/a'), 20);
    assert.equal(await e.flush(), 1);
    e.record(HTTP, route('/a'), 30);
    assert.equal(await e.flush(), 1);
    const rows = await stored();
    assert.equal(rows.length, 1);
    assert.deepEqual([rows[0]!.count, rows[0]!.sum, rows[0]!.max], [3, 60, 30]);
    assert.equal(await e.flush(), 0, 'nothing changed since the last flush');
  });

  test('closed buckets leave memory after their final flush and are then read from the store', async () => {
    const e = engine();
    e.record(HTTP, route('/a'), 10);
    await e.flush();
    clock.set(T0 + MINUTE_MS + 1);
    // the minute is over: its bucket is written once more (already clean: no write) and dropped
    assert.equal(await e.flush(), 0);
    assert.equal([...e.recorder.memoryBuckets()].length, 0);
    const [v] = await e.windowValues({
      metric: HTTP,
      aggregation: 'count',
      since: T0,
      until: T0 + 2 * MINUTE_MS,
    });
    assert.equal(v!.count, 1);
  });

  test('a failed flush keeps the data in memory, readers still see it, and the next flush writes it', async () => {
    const flaky = flakyStore(store);
    const e = engine({ store: flaky });
    e.record(HTTP, route('/a'), 10);
    clock.set(T0 + MINUTE_MS + 5);
    e.record(HTTP, route('/a'), 20);
    flaky.failing = true;
    await assert.rejects(e.flush(), /disk I\/O/);
    assert.equal(e.flushFailures, 1);
    assert.equal(e.recorder.buffered, 1, 'the closed minute waits in memory');
    const [seen] = await e.windowValues({
      metric: HTTP,
      aggregation: 'sum',
      since: T0,
      until: T0 + 2 * MINUTE_MS,
    });
    assert.equal(seen!.value, 30);
    flaky.failing = false;
    assert.equal(await e.flush(), 2);
    assert.equal(e.recorder.buffered, 0);
    assert.deepEqual(
      (await stored()).map((r) => r.sum),
      [10, 20],
    );
    assert.equal(e.lastFlushError, null);
  });

  test('a flush of many series writes them a chunk at a time; an open bucket is read when its chunk is made', async () => {
    const e = engine({ metrics: { max_series: 1000 } });
    e.record(HTTP, route('/old'), 3);
    clock.set(T0 + MINUTE_MS + 1000);
    for (let i = 0; i < 450; i++) e.record(HTTP, route(`/r${i}`), i + 1);

    const batch = e.recorder.collect(); // closes the minute of /old
    assert.equal(e.recorder.buffered, 1);
    assert.equal(batch.size, 451);
    const chunks = batch.chunks(200)[Symbol.iterator]();
    const first = chunks.next().value as RollupRow[];
    assert.equal(first.length, 200);
    assert.deepEqual([first[0]!.bucket, first[0]!.sum], [T0, 3], 'the closed minute comes first');
    await store.rollups.upsert(first); // each chunk written before the next is made (their bytes share memory)
    e.record(HTTP, route('/r449'), 1000); // after the first chunk was made, before the last
    const rest: RollupRow[][] = [];
    for (let c = chunks.next(); !c.done; c = chunks.next()) {
      rest.push(c.value);
      await store.rollups.upsert(c.value);
    }
    assert.deepEqual(
      rest.map((c) => c.length),
      [200, 51],
    );
    const r449 = rest[1]!.find((r) => r.labels.includes('"/r449"'))!;
    assert.deepEqual([r449.count, r449.max], [2, 1000], 'its row reads the bucket when the chunk is made');
    batch.commit();
    // every stored sketch is that of its own row
    for (const r of await stored()) {
      assert.equal(decodeSketch(r.sketch!).count, r.count, r.labels);
      assert.ok(relErr(sketchQuantile(decodeSketch(r.sketch!), 1)!, r.max) <= 0.011, r.labels);
    }
    assert.equal(e.recorder.buffered, 0);
    assert.equal(await e.flush(), 0, 'every row made is clean');

    e.record(HTTP, route('/r1'), 5);
    assert.equal(await e.flush(), 1);
    const rows = await stored();
    assert.equal(rows.length, 451);
    assert.equal(rows.find((r) => r.labels.includes('"/r1"'))?.count, 2);
    assert.equal(rows.find((r) => r.labels.includes('"/r449"'))?.count, 2);
  });

  test('while the store fails, a flush still hands every chunk to the push', async () => {
    const flaky = flakyStore(store);
    const e = engine({
      store: flaky,
      metrics: { max_series: 1000, push: { url: 'http://127.0.0.1:9/', token: 'push-token-0123456789' } },
    });
    for (let i = 0; i < 450; i++) e.record(HTTP, route(`/r${i}`), 1);
    flaky.failing = true;
    await assert.rejects(e.flush(), /disk I\/O/);
    assert.equal(e.pusher!.buffered, 450, 'all three chunks queued for the push');
    flaky.failing = false;
    assert.equal(await e.flush(), 450);
    assert.equal((await stored()).length, 450);
  });

  test('a series’ next minute reserves the bins its previous minute grew to, also after a flush closed it', () => {
    const r = new Recorder({ clock, instance: 'i1', maxSeries: 10 });
    const s = r.series(HTTP, route('/a'));
    const range = () => binsRange(s.cur!.sketch);
    for (let i = 1; i <= 400; i++) r.observe(s, i * 0.5, false, T0 + i);
    const first = range();
    assert.ok(first[1] > 32, `grew to ${first[1]} bins`);
    // rolled over by a sample of the next minute
    r.observe(s, 3, false, T0 + MINUTE_MS);
    assert.deepEqual(range(), first);
    // rolled over by a flush closing the minute, then a sample
    r.collect(T0 + 2 * MINUTE_MS).commit();
    r.observe(s, 3, false, T0 + 2 * MINUTE_MS + 1);
    assert.deepEqual(range(), first);
    // the rows are those of the samples, whatever the reservation
    const rows = r.collect(T0 + 3 * MINUTE_MS).rows;
    assert.deepEqual(
      rows.map((x) => [(x.bucket - T0) / MINUTE_MS, x.count, x.min, x.max]),
      [[2, 1, 3, 3]],
    );
  });

  test('a written minute’s bins serve a later minute of its series; the rows are those of fresh sketches', () => {
    const recycling = new Recorder({ clock, instance: 'i1', maxSeries: 10 });
    const keeping = new Recorder({ clock, instance: 'i1', maxSeries: 10 });
    const sa = recycling.series(HTTP, route('/a'));
    const sb = keeping.series(HTTP, route('/a'));
    const binsOf = () => (sa.cur!.sketch.store as unknown as CompactStore).bins;
    const arrays: Uint32Array[] = [];
    const written: RollupRow[] = [];
    let seed = 3;
    for (let m = 0; m < 6; m++) {
      for (let i = 0; i < 500; i++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        const v = 5 + (seed % 4000) / (m + 1); // each minute a different spread
        const at = T0 + m * MINUTE_MS + i * 10;
        recycling.observe(sa, v, false, at);
        keeping.observe(sb, v, false, at);
      }
      arrays.push(binsOf());
      // a flush 10 s into the next minute writes the closed minute (only the recycling recorder commits)
      const batch = recycling.collect(T0 + (m + 1) * MINUTE_MS + 10_000);
      written.push(...batch.rows);
      batch.commit();
    }
    // minutes 2.. record into arrays of minutes written before (two arrays in turn, none new)
    assert.ok(new Set(arrays.slice(2)).size <= 2, `${new Set(arrays).size} arrays for 6 minutes`);
    assert.ok(arrays.slice(2).every((a) => arrays.slice(0, 2).includes(a)));
    const kept = keeping.collect(T0 + 7 * MINUTE_MS).rows;
    assert.equal(kept.length, 6);
    assert.deepEqual(
      written.map((r) => [r.bucket, r.count, r.sum, r.min, r.max, r.sketch]),
      kept.map((r) => [r.bucket, r.count, r.sum, r.min, r.max, r.sketch]),
    );
  });

  test('a chunk’s sketches share memory with the next chunk’s, unless the batch is detached', () => {
    const r = new Recorder({ clock, instance: 'i1', maxSeries: 100 });
    for (let i = 0; i < 40; i++) for (let k = 1; k <= 50; k++) r.record(HTTP, route(`/r${i}`), k * (i + 1));
    const batch = r.collect(T0 + 1000);
    const chunks = batch.chunks(10)[Symbol.iterator]();
    const bytes = (rows: RollupRow[]) => rows.map((x) => Buffer.from(x.sketch!)); // copies
    const c1 = chunks.next().value as RollupRow[];
    const c1Bytes = bytes(c1);
    const c2 = chunks.next().value as RollupRow[];
    assert.equal(
      c2[0]!.sketch!.buffer,
      c1[0]!.sketch!.buffer,
      'the next chunk is encoded into the same memory',
    );
    assert.notDeepEqual(bytes(c1), c1Bytes, 'and writes over it');
    const c2Bytes = bytes(c2);
    batch.detach(); // as a flush does when a write fails: the driver may still hold chunk 2's bytes
    const c3 = chunks.next().value as RollupRow[];
    assert.notEqual(c3[0]!.sketch!.buffer, c2[0]!.sketch!.buffer);
    assert.deepEqual(bytes(c2), c2Bytes, 'chunk 2 is left as it was');
    // and every row, read in a chunk of its own, is the same as when encoded alone
    const alone = r.collect(T0 + 1000).rows;
    assert.deepEqual(
      [...c1Bytes, ...c2Bytes, ...bytes(c3)],
      alone.slice(0, 30).map((x) => Buffer.from(x.sketch!)),
    );
  });

  test('a read keeps what a memory bucket held after it is written and its bins serve the next minute', () => {
    const r = new Recorder({ clock, instance: 'i1', maxSeries: 10 });
    const s = r.series(HTTP, route('/a'));
    const unread = r.series('other_metric', {});
    for (let i = 1; i <= 1000; i++) r.observe(s, i % 100, false, T0 + i);
    r.observe(unread, 3, false, T0 + 5);
    const minute0 = s.cur!;
    const unread0 = unread.cur!;
    r.observe(s, 7, false, T0 + MINUTE_MS); // closes minute 0
    const reads = [...r.memoryBuckets(new Set([HTTP]))];
    reads.push(...r.memoryBuckets(new Set([HTTP]))); // read twice: still one copy when the bins move on
    const read = reads.find((m) => m.bucket === T0)!;
    const before = [0.5, 0.99].map((q) => sketchQuantile(read.sketch(), q));
    const bytes = r.collect(T0 + MINUTE_MS + 1).rows.find((x) => x.bucket === T0)!.sketch!;
    const batch = r.collect(T0 + 2 * MINUTE_MS); // closes minute 1; minute 0 written...
    batch.commit(); // ...and forgotten: its bins go to minute 2
    for (let i = 1; i <= 1000; i++) r.observe(s, 5000 + i, false, T0 + 2 * MINUTE_MS + i);
    assert.deepEqual(
      [0.5, 0.99].map((q) => sketchQuantile(read.sketch(), q)),
      before,
    );
    assert.equal(read.sketch().count, 1000);
    assert.equal(read.sketch(), minute0.retired, 'the read sees the copy kept when the bins moved on');
    assert.equal(unread0.retired, null, 'a bucket never read is not copied');
    assert.equal(unread0.sketch.count, 0, 'its bins went on too');
    assert.deepEqual(
      [0.5, 0.99].map((q) => sketchQuantile(decodeSketch(bytes), q)),
      before,
    );
  });

  test('the buffer of unflushed closed buckets is bounded: the oldest go first and are counted', () => {
    const r = new Recorder({ clock, instance: 'i1', maxSeries: 10, maxBufferedRows: 3 });
    for (let m = 0; m < 6; m++) r.observe(r.series(HTTP, route('/a')), 1, false, T0 + m * MINUTE_MS);
    assert.equal(r.buffered, 3);
    assert.equal(r.dropped, 2);
    // Closing the last open minute keeps the bound too.
    const batch = r.collect(T0 + 10 * MINUTE_MS);
    assert.deepEqual(
      batch.rows.map((x) => (x.bucket - T0) / MINUTE_MS),
      [3, 4, 5],
    );
    assert.equal(r.dropped, 3);
    batch.commit();
    assert.equal(r.buffered, 0);
  });

  test('window values merge all instances and this process’s unflushed buckets, counting nothing twice', async () => {
    const a = engine({ instance: 'a' });
    const b = engine({ instance: 'b' });
    for (let i = 1; i <= 10; i++) a.record(HTTP, route('/x'), i);
    await a.flush();
    for (let i = 1; i <= 5; i++) a.record(HTTP, route('/x'), 100, true);
    for (let i = 1; i <= 20; i++) b.record(HTTP, route('/x'), 1000);
    await b.flush();
    const q = { metric: HTTP, aggregation: 'count', since: T0, until: T0 + MINUTE_MS } as const;
    const [fromA] = await a.windowValues(q);
    assert.deepEqual([fromA!.count, fromA!.errors, fromA!.value], [35, 5, 35]);
    const [fromB] = await b.windowValues(q);
    assert.equal(fromB!.count, 30, "b sees a's flushed rows, not a's memory");
    const [max] = await a.windowValues({ ...q, aggregation: 'max' });
    assert.equal(max!.value, 1000);
  });

  test('window values filter by labels, group, and compute rate, ratio and quantiles', async () => {
    const e = engine();
    for (let i = 1; i <= 100; i++) e.record(HTTP, route('/a'), i, i <= 10);
    for (let i = 1; i <= 50; i++) e.record(HTTP, route('/b', { method: 'POST' }), 500);
    e.record(HTTP, route('/a', { status_class: '5xx' }), 2000, true);
    const since = T0;
    const until = T0 + 5 * MINUTE_MS;
    const byRoute = await e.windowValues({
      metric: HTTP,
      groupBy: ['route'],
      aggregation: 'rate',
      since,
      until,
    });
    const rate = Object.fromEntries(byRoute.map((v) => [v.labels.route, v.value]));
    assert.deepEqual(rate, { '/a': 11 / 5, '/b': 0 });
    const [ratio] = await e.windowValues({
      metric: HTTP,
      labels: { route: '/a' },
      aggregation: 'ratio',
      since,
      until,
    });
    assert.deepEqual(ratio!.labels, { route: '/a' });
    assert.equal(ratio!.value, 11 / 101);
    const [post] = await e.windowValues({
      metric: HTTP,
      labels: { method: 'POST' },
      aggregation: 'p99',
      since,
      until,
    });
    assert.equal(post!.value, 500);
    const [p50] = await e.windowValues({
      metric: HTTP,
      labels: { route: '/a', status_class: '2xx' },
      aggregation: 'p50',
      since,
      until,
    });
    assert.ok(Math.abs(p50!.value! - 50) <= 0.5, `p50 ${p50!.value}`);
    const none = await e.windowValues({
      metric: HTTP,
      labels: { route: '/none' },
      aggregation: 'p95',
      since,
      until,
    });
    assert.deepEqual(none, [{ labels: { route: '/none' }, value: null, count: 0, errors: 0 }]);
    assert.deepEqual(
      await e.windowValues({
        metric: HTTP,
        labels: { route: '/none' },
        groupBy: ['method'],
        aggregation: 'p95',
        since,
        until,
      }),
      [],
    );
  });

  test('onData names the metrics that received samples: at once after a quiet period, then once per window', async () => {
    const e = engine();
    const calls: [number, string[]][] = [];
    const off = e.onData((m) => calls.push([clock.now() - T0, [...m].sort()]));
    e.record(HTTP, route('/a'), 1);
    e.record(HTTP, route('/b'), 1);
    e.record(METRIC.dbQuery, { db: 'shop', operation: 'select' }, 1);
    await flushAsync();
    assert.deepEqual(calls, [[0, [METRIC.dbQuery, HTTP].sort()]], 'the samples of one turn, at once');
    await clock.advance(10);
    e.record(HTTP, route('/a'), 1);
    await clock.advance(10);
    e.record(HTTP, route('/b'), 1);
    e.record(METRIC.dbQuery, { db: 'shop', operation: 'select' }, 1);
    await clock.advance(DATA_WINDOW_MS - 21);
    assert.equal(calls.length, 1, 'what follows within the window waits for its end');
    await clock.advance(1);
    assert.deepEqual(calls[1], [DATA_WINDOW_MS, [METRIC.dbQuery, HTTP].sort()]);
    await clock.advance(5 * DATA_WINDOW_MS);
    assert.equal(calls.length, 2, 'nothing without new samples');
    e.record(HTTP, route('/a'), 1);
    await flushAsync();
    assert.deepEqual(calls[2], [6 * DATA_WINDOW_MS, [HTTP]], 'after a quiet window: at once again');
    off();
    await clock.advance(DATA_WINDOW_MS);
    e.record(HTTP, route('/a'), 1);
    await clock.advance(500);
    assert.equal(calls.length, 3, 'no calls after unsubscribing');
  });

  test('label sets beyond max_series fold into one overflow series; memory stays bounded', async () => {
    const e = engine({ metrics: { max_series: 10 } });
    for (let i = 0; i < 50; i++) e.record(HTTP, route(`/raw/${i}`), 1);
    assert.equal(e.recorder.seriesCount(HTTP), 11);
    assert.equal(e.recorder.overflowed, 40);
    const v = await e.windowValues({
      metric: HTTP,
      groupBy: ['route'],
      aggregation: 'count',
      since: T0,
      until: T0 + MINUTE_MS,
    });
    assert.equal(v.length, 11);
    assert.equal(v.find((x) => x.labels.route === OVERFLOW)!.count, 40);
  });
});
