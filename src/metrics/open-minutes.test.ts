import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { bucketOf } from '../../test/support/metrics.js';
import { tempDir } from '../../test/support/services.js';
import { FakeClock } from '../core/clock.js';
import type { RollupRow } from '../domain/rollup.js';
import { openStore, type Store } from '../store/index.js';
import { Journal } from '../store/journal.js';
import { METRIC } from './names.js';
import {
  decodeRows,
  encodeRows,
  OpenMinutes,
  OpenMinutesRollups,
  SEGMENT_MAX_AGE_MS,
  SETTLE_CHECK_MS,
  SETTLE_MS,
} from './open-minutes.js';
import { encodePushRows } from './push-rows.js';
import { canonicalLabels, HOUR_MS, MINUTE_MS } from './rollup.js';

const HTTP = METRIC.httpRequest;
const T0 = Date.UTC(2026, 2, 1, 12, 0, 0);

/** Version `v` of a series' row of a minute (v values so far: each version grows). */
function row(instance: string, route: string, bucket: number, v: number): RollupRow {
  const values = Array.from({ length: v }, (_, i) => 10 + ((i * 7) % 90));
  return {
    metric: HTTP,
    labels: canonicalLabels({ route, method: 'GET', status_class: '2xx' }),
    instance,
    resolution: MINUTE_MS,
    bucket,
    errors: 0,
    ...bucketOf(values),
  };
}

const keyOf = (r: RollupRow) => `${r.instance} ${r.labels} ${r.bucket}`;

/** The rows SQLite has for a minute, by key. */
async function stored(store: Store, bucket: number): Promise<Map<string, RollupRow>> {
  const rows = await store.rollups.query({ resolution: MINUTE_MS, since: bucket, until: bucket + 1 });
  return new Map(rows.map((r) => [keyOf(r), r]));
}

describe('open minutes: pushed rows held until their minute settles, journaled', () => {
  let dir: { path: string; cleanup: () => void };
  let store: Store;
  let clock: FakeClock;
  let open: OpenMinutes;
  let writes: Map<string, number>;
  let lines: string[];

  const make = (maxRows = 10_000) => {
    const log = {
      info: (_o: object, m: string) => lines.push(m),
      warn: (_o: object, m: string) => lines.push(m),
      error: (_o: object, m: string) => lines.push(m),
    };
    return new OpenMinutes({
      rollups: store.rollups,
      journal: new Journal({ dir: join(dir.path, 'journal'), log }),
      clock,
      maxRows,
      log,
      onWritten: (rows) => {
        for (const r of rows) writes.set(keyOf(r), (writes.get(keyOf(r)) ?? 0) + 1);
      },
    });
  };

  beforeEach(async () => {
    dir = tempDir('prodmon-open-');
    store = await openStore({ driver: 'sqlite', path: join(dir.path, 'prodmon.db') });
    await store.migrate(T0);
    clock = new FakeClock(T0);
    writes = new Map();
    lines = [];
    open = make();
    await open.start();
  });
  afterEach(async () => {
    await open.close().catch(() => {});
    await store.close();
    dir.cleanup();
  });

  test('journal records hold rows exactly as they were', () => {
    const rows = [
      row('app-0', '/a', T0, 3),
      { ...row('app-1', '/ü/☃', T0 + MINUTE_MS, 1), sketch: null, sum: -1.5, min: -1.5, max: -1.5 },
      { ...row('app-2', '/b', T0, 2), resolution: HOUR_MS, instance: 'svc/inst:1@x' },
    ];
    assert.deepEqual(decodeRows(encodeRows(rows)), rows);
    assert.throws(() => decodeRows(encodeRows(rows).subarray(0, 100)), /ends early/);
    assert.throws(() => decodeRows(Buffer.from([7, 0, 0, 0, 0])), /not a row record/);
  });

  test('each series-minute is written to the store once, when its minute has settled, at its last version', async () => {
    const routes = ['/a', '/b', '/c'];
    const instances = ['app-0', 'app-1'];
    // Six pushes in the minute, each re-sending the minute as it grew.
    for (let v = 1; v <= 6; v++) {
      await open.put(instances.flatMap((i) => routes.map((r) => row(i, r, T0, v))));
      await clock.advance(10_000);
    }
    // The next minute's pushes, with the first minute's last version sent once more after its end.
    await open.put(instances.flatMap((i) => routes.map((r) => row(i, r, T0, 7))));
    await open.put(instances.flatMap((i) => routes.map((r) => row(i, r, T0 + MINUTE_MS, 1))));
    assert.equal(open.size, 12);
    assert.equal((await stored(store, T0)).size, 0, 'nothing written while the minute may still change');
    assert.equal(writes.size, 0);

    const view = new OpenMinutesRollups(store.rollups, open);
    const seen = await view.query({
      resolution: MINUTE_MS,
      since: T0,
      until: T0 + 2 * MINUTE_MS,
      metrics: [HTTP],
    });
    assert.equal(seen.length, 12, 'reads see the rows held');
    assert.equal(seen.find((r) => r.bucket === T0)!.count, 7);

    await clock.advance(T0 + MINUTE_MS + SETTLE_MS + SETTLE_CHECK_MS - clock.now());
    await open.settle();
    const first = await stored(store, T0);
    assert.equal(first.size, 6);
    for (const r of first.values()) assert.equal(r.count, 7, 'the last version');
    assert.deepEqual([...writes.values()], Array(6).fill(1), 'each written once');
    assert.equal(open.size, 6, 'the next minute still held');
    assert.equal((await stored(store, T0 + MINUTE_MS)).size, 0);

    // A row of a settled minute (a pusher catching up) is written at once, as before.
    await open.put([row('app-0', '/a', T0, 9)]);
    assert.equal((await stored(store, T0)).get(keyOf(row('app-0', '/a', T0, 9)))!.count, 9);
    assert.equal(writes.get(keyOf(row('app-0', '/a', T0, 9))), 2);

    await clock.advance(MINUTE_MS);
    await open.settle();
    assert.equal((await stored(store, T0 + MINUTE_MS)).size, 6);
    assert.equal(open.size, 0);
    assert.equal(open.written, 6 + 1 + 6);
    assert.equal(open.writtenEarly, 0);
  });

  test('journal segments go once their rows are written, oldest first; a clean close leaves none', async () => {
    const journal = new Journal({ dir: join(dir.path, 'journal2') });
    const o = new OpenMinutes({ rollups: store.rollups, journal, clock, maxRows: 10_000 });
    await o.start();
    await o.put([row('app-0', '/a', T0, 1)]);
    await clock.advance(SEGMENT_MAX_AGE_MS);
    await o.settle(); // the segment is old: closed, but its row is not written yet
    await o.put([row('app-0', '/a', T0 + MINUTE_MS, 1)]);
    assert.equal(journal.segments().length, 2);
    await clock.advance(T0 + MINUTE_MS + SETTLE_MS - clock.now());
    await o.settle();
    assert.equal(journal.segments().length, 1, 'the first segment went with its minute');
    await o.close();
    assert.deepEqual(journal.segments(), []);
    assert.equal((await stored(store, T0 + MINUTE_MS)).size, 1, 'close writes what is held');
  });

  test('past max rows the oldest minutes are written early, and a later version is written again when it settles', async () => {
    await open.close();
    open = make(100);
    await open.start();
    const first = Array.from({ length: 80 }, (_, i) => row(`app-${i}`, '/a', T0, 1));
    await open.put(first);
    assert.equal(writes.size, 0);
    await clock.advance(MINUTE_MS);
    await open.put(Array.from({ length: 40 }, (_, i) => row(`app-${i}`, '/a', T0 + MINUTE_MS, 1)));
    // 120 held > 100: the oldest minute (80 rows) went to the store, before it settled.
    assert.equal(open.size, 40);
    assert.equal(open.writtenEarly, 80);
    assert.equal((await stored(store, T0)).size, 80);
    assert.ok(
      lines.some((l) => /more than metrics\.ingest\.max_open_rows \(100\).*80 rows/.test(l)),
      lines.join('\n'),
    );
    // The minute goes on: its next version is held again, and read in place of the stored one.
    await open.put([row('app-0', '/a', T0, 2)]);
    const view = new OpenMinutesRollups(store.rollups, open);
    const k = {
      metric: HTTP,
      labels: row('app-0', '/a', T0, 2).labels,
      instance: 'app-0',
      resolution: MINUTE_MS,
      bucket: T0,
    };
    assert.equal((await view.get(k))!.count, 2);
    assert.equal((await store.rollups.get(k))!.count, 1);
    const pages: RollupRow[] = [];
    for await (const p of view.pages({ metrics: [HTTP], resolution: MINUTE_MS, since: T0, until: T0 + 1 }, 7))
      pages.push(...p);
    assert.equal(pages.length, 80, 'each series once');
    assert.equal(pages.filter((r) => r.instance === 'app-0')[0]!.count, 2);
    await clock.advance(SETTLE_MS);
    await open.settle();
    assert.equal((await store.rollups.get(k))!.count, 2);
    assert.equal(writes.get(keyOf(row('app-0', '/a', T0, 2))), 2, 'early, then settled');
  });

  test('a read while a minute is written sees each of its rows once, in memory or in the store', async () => {
    const held = Array.from({ length: 30 }, (_, i) => row(`app-${i}`, '/a', T0, 2));
    await open.put(held);
    await store.rollups.upsert([row('stored', '/a', T0, 1)]); // a row already in the store
    const view = new OpenMinutesRollups(store.rollups, open);
    const q = { metrics: [HTTP], resolution: MINUTE_MS, since: T0, until: T0 + 1 };
    const it = view.pages(q, 10);
    const seen: RollupRow[] = [];
    const first = await it.next();
    seen.push(...(first.value as RollupRow[]));
    assert.deepEqual(
      seen.map((r) => r.instance),
      ['stored'],
      'the store read first',
    );
    // The minute settles and is written (and dropped from memory) before the reader goes on.
    await clock.advance(MINUTE_MS + SETTLE_MS);
    await open.settle();
    assert.equal(open.size, 0);
    for await (const page of it) seen.push(...page);
    assert.equal(seen.length, 31);
    assert.equal(new Set(seen.map((r) => r.instance)).size, 31);
    // And the other way round: held when the read starts, written before the store is read.
    await open.put([row('app-0', '/b', T0 + 2 * MINUTE_MS, 1)]);
    const later = view.query({ resolution: MINUTE_MS, since: T0 + 2 * MINUTE_MS, until: T0 + 3 * MINUTE_MS });
    await clock.advance(2 * MINUTE_MS);
    await open.settle();
    assert.equal((await later).length, 1);
  });

  test('a restart after a crash writes every acknowledged row from the journal, the newest version of each', async () => {
    await open.put([row('app-0', '/a', T0, 1), row('app-0', '/b', T0, 1)]);
    await open.put([row('app-0', '/a', T0, 2)]);
    await clock.advance(SEGMENT_MAX_AGE_MS);
    await open.settle(); // a second segment from here
    await open.put([row('app-0', '/a', T0, 3), row('app-1', '/a', T0 + MINUTE_MS, 1)]);
    assert.equal((await stored(store, T0)).size, 0);
    // A crash: nothing closed, nothing written. The next process replays the journal.
    const next = make();
    const replayed = await next.start();
    assert.equal(replayed, 5);
    const rows = await stored(store, T0);
    assert.deepEqual([...rows.values()].map((r) => [r.labels.includes('/a') ? '/a' : '/b', r.count]).sort(), [
      ['/a', 3],
      ['/b', 1],
    ]);
    assert.equal((await stored(store, T0 + MINUTE_MS)).size, 1);
    assert.ok(
      lines.some((l) => /journal: 3 pushed rows from before the last stop written to the store/.test(l)),
      lines.join('\n'),
    );
    await next.close();
  });

  test('a push body is journaled as it came and replayed after a crash like any record', async () => {
    const pushed = [row('app-7', '/a', T0, 2), row('app-7', '/b', T0, 1)];
    await open.put(pushed, undefined, encodePushRows('app-7', pushed));
    await open.put([row('app-7', '/a', T0, 4)]);
    const next = make(); // a crash: nothing written; the next process replays the journal
    assert.equal(await next.start(), 3);
    const rows = await stored(store, T0);
    assert.deepEqual(
      [...rows.values()].map((r) => [r.instance, r.labels.includes('/a') ? '/a' : '/b', r.count]).sort(),
      [
        ['app-7', '/a', 4],
        ['app-7', '/b', 1],
      ],
    );
    assert.deepEqual(rows.get(keyOf(pushed[1]!)), pushed[1], 'the row exactly as pushed');
    await next.close();
  });

  test('rows far ahead or hourly ones are written at once; held rows are refused only past max rows with the store failing', async () => {
    await open.put([
      row('app-0', '/a', T0 + 5 * MINUTE_MS, 1),
      { ...row('app-0', '/h', T0, 1), resolution: HOUR_MS },
    ]);
    assert.equal(writes.size, 2);
    assert.equal(open.size, 0);

    await open.close();
    let failing = false;
    const flaky = {
      upsert: async (rows: readonly RollupRow[]) => {
        if (failing) throw new Error('disk I/O error');
        await store.rollups.upsert(rows);
      },
    };
    const o = new OpenMinutes({
      rollups: flaky,
      journal: new Journal({ dir: join(dir.path, 'j3') }),
      clock,
      maxRows: 100,
    });
    await o.start();
    failing = true;
    await o.put(Array.from({ length: 60 }, (_, i) => row(`app-${i}`, '/a', T0, 1)));
    await assert.rejects(
      o.put(Array.from({ length: 60 }, (_, i) => row(`app-${i}`, '/a', T0 + MINUTE_MS, 1))),
      /disk I\/O error/,
      'over the cap, the early write fails and so does the push',
    );
    await assert.rejects(
      o.put([row('app-0', '/z', T0, 1)]),
      /120 pushed rows held and the store cannot be written/,
    );
    failing = false;
    await clock.advance(3 * MINUTE_MS);
    await o.settle();
    assert.equal(o.size, 0);
    assert.equal((await stored(store, T0)).size, 60);
    await o.close();
  });
});
