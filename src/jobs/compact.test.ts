import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { tempDir } from '../../test/support/services.js';
import { waitFor } from '../../test/support/wait.js';
import { parseConfig, type ResolvedConfig } from '../config/load.js';
import { FakeClock } from '../core/clock.js';
import { compact } from '../metrics/maintenance.js';
import { METRIC } from '../metrics/names.js';
import { COMPACTED_UNTIL_KEY } from '../metrics/read.js';
import { Recorder } from '../metrics/recorder.js';
import { HOUR_MS, MINUTE_MS } from '../metrics/rollup.js';
import { decodeSketch, sketchQuantile } from '../metrics/sketch.js';
import { openStore, type Store } from '../store/index.js';
import { scheduledJobs } from './index.js';
import { LeadershipLostError, LeaseLeadership } from './leadership.js';
import { Scheduler, slotKey } from './scheduler.js';

const T0 = Date.UTC(2026, 2, 2, 0, 0);
const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function setup(jobs: Record<string, unknown> = {}): Promise<{ store: Store; config: ResolvedConfig }> {
  const dir = tempDir();
  const config = parseConfig({ data_dir: dir.path, jobs }, { cwd: dir.path });
  const store = await openStore({ driver: 'sqlite', path: config.paths.db });
  await store.migrate(T0);
  cleanups.push(
    () => dir.cleanup(),
    () => store.close(),
  );
  return { store, config };
}

/** Minute rows of `instance` for [from, to): `perMinute` requests of `ms` each, written as a monitor flushes them. */
async function write(store: Store, instance: string, from: number, to: number, ms: number, perMinute = 2) {
  const rec = new Recorder({ clock: new FakeClock(to), instance, maxSeries: 10, maxBufferedRows: 100_000 });
  const s = rec.series(METRIC.httpRequest, { route: '/a', method: 'GET', status_class: '2xx' });
  for (let t = from; t < to; t += MINUTE_MS)
    for (let k = 0; k < perMinute; k++) rec.observe(s, ms, false, t + k);
  const batch = rec.collect(to + HOUR_MS);
  await store.rollups.upsert(batch.rows);
  batch.commit();
}

/** Total count per hour of the rows of a resolution. */
async function perHour(store: Store, resolution: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const r of await store.rollups.query({ resolution, since: 0, until: T0 + 100 * HOUR_MS })) {
    const h = new Date(r.bucket - (r.bucket % HOUR_MS)).toISOString().slice(11, 16);
    out[h] = (out[h] ?? 0) + r.count;
  }
  return out;
}

/** A leader running the monitor's jobs on a fake clock (renewals rare: hours pass in few steps). */
async function leader(store: Store, config: ResolvedConfig, clock: FakeClock, holder = 'a') {
  const leadership = new LeaseLeadership({
    store,
    clock,
    holder,
    ttlMs: 7 * 86_400_000,
    renewMs: 86_400_000,
    pollMs: 86_400_000,
  });
  await leadership.start();
  const scheduler = new Scheduler({
    store,
    clock,
    config,
    leadership,
    instance: holder,
    jobs: scheduledJobs(config, {}),
  });
  cleanups.push(
    () => leadership.stop(),
    () => scheduler.stop(),
  );
  return { leadership, scheduler };
}

/** Waits (real time, bounded) until `n` compaction runs have ended; returns them, oldest first. */
async function runs(store: Store, n: number) {
  let ended: Awaited<ReturnType<typeof store.jobs.recent>> = [];
  await waitFor(
    async () => {
      const all = await store.jobs.recent({ job: 'compact', limit: 50 });
      ended = all.filter((r) => r.outcome !== 'running');
      return ended.length >= n;
    },
    { interval: 20, what: () => `${n} compaction run(s) to end (${ended.length} ended)` },
  );
  return ended.reverse();
}

describe('the hourly compaction job', () => {
  test('runs at five past each hour on the leader, compacts the hour that ended, and again an hour that got late rows', async () => {
    const { store, config } = await setup();
    assert.equal(config.jobs.compact, '5 * * * *');
    const clock = new FakeClock(T0 + HOUR_MS + MINUTE_MS);
    await write(store, 'a', T0, T0 + HOUR_MS + MINUTE_MS, 10);
    const { scheduler } = await leader(store, config, clock);
    scheduler.start();
    await clock.advance(3 * MINUTE_MS); // 01:04: the hour that ended is still in its grace
    assert.deepEqual(await runs(store, 0), []);
    assert.deepEqual(await perHour(store, HOUR_MS), {});

    await clock.advance(MINUTE_MS); // 01:05
    const [first] = await runs(store, 1);
    assert.equal(first?.outcome, 'ok');
    assert.deepEqual(first?.detail.counts, { hours: 1, recompacted: 0, rows: 1 });
    assert.equal(first?.detail.slot, T0 + HOUR_MS + 5 * MINUTE_MS);
    assert.deepEqual(await perHour(store, HOUR_MS), { '00:00': 120 });
    assert.equal(await store.state.get(COMPACTED_UNTIL_KEY), T0 + HOUR_MS);

    // The next hour, and instance b's rows of the first hour arriving late (a push held back).
    await write(store, 'a', T0 + HOUR_MS + MINUTE_MS, T0 + 2 * HOUR_MS, 10);
    await write(store, 'b', T0 + 30 * MINUTE_MS, T0 + 40 * MINUTE_MS, 1000, 3);
    await clock.advance(HOUR_MS); // 02:05
    const second = (await runs(store, 2))[1];
    assert.deepEqual(second?.detail.counts, { hours: 2, recompacted: 1, rows: 3 });
    assert.deepEqual(await perHour(store, HOUR_MS), await perHour(store, MINUTE_MS));
    assert.deepEqual(await perHour(store, HOUR_MS), { '00:00': 150, '01:00': 120 });
    const b = (await store.rollups.query({ resolution: HOUR_MS, since: T0, until: T0 + HOUR_MS })).find(
      (r) => r.instance === 'b',
    )!;
    assert.deepEqual([b.count, b.min, b.max], [30, 1000, 1000]);
    assert.equal(sketchQuantile(decodeSketch(b.sketch!), 0.5, b.min, b.max), 1000);

    // Running again changes nothing (idempotent), and nothing is compacted twice without reason.
    const before = await store.rollups.query({ resolution: HOUR_MS, since: 0, until: T0 + 10 * HOUR_MS });
    const again = await scheduler.runNow('compact');
    assert.deepEqual(again.result?.counts, { hours: 0, recompacted: 0, rows: 0 });
    assert.deepEqual(
      await store.rollups.query({ resolution: HOUR_MS, since: 0, until: T0 + 10 * HOUR_MS }),
      before,
    );
  });

  test('after a restart with hours waiting it runs at once, for the slot it missed; the next slot runs as usual', async () => {
    const { store, config } = await setup();
    await write(store, 'a', T0, T0 + 10 * HOUR_MS + 30 * MINUTE_MS, 20);
    // Compacted up to 02:00 before the monitor went down; it starts again at 10:30.
    await compact(store, { now: T0 + 2 * HOUR_MS + 5 * MINUTE_MS });
    await store.state.set(slotKey('compact'), T0 + 2 * HOUR_MS + 5 * MINUTE_MS, T0);
    const clock = new FakeClock(T0 + 10 * HOUR_MS + 30 * MINUTE_MS);
    const { scheduler } = await leader(store, config, clock);
    scheduler.start();
    const [run] = await runs(store, 1);
    assert.equal(clock.now(), T0 + 10 * HOUR_MS + 30 * MINUTE_MS, 'without waiting for a slot');
    assert.equal(run?.outcome, 'ok');
    assert.equal(run?.detail.slot, T0 + 10 * HOUR_MS + 5 * MINUTE_MS, 'recorded for the slot it missed');
    assert.deepEqual(run?.detail.counts, { hours: 8, recompacted: 0, rows: 8 });
    assert.equal(await store.state.get(COMPACTED_UNTIL_KEY), T0 + 10 * HOUR_MS);
    const minute = await perHour(store, MINUTE_MS);
    delete minute['10:00'];
    assert.deepEqual(await perHour(store, HOUR_MS), minute);

    await write(store, 'a', T0 + 10 * HOUR_MS + 30 * MINUTE_MS, T0 + 11 * HOUR_MS, 20);
    await clock.advance(35 * MINUTE_MS); // 11:05
    const next = (await runs(store, 2))[1];
    assert.equal(next?.detail.slot, T0 + 11 * HOUR_MS + 5 * MINUTE_MS);
    assert.deepEqual(next?.detail.counts, { hours: 1, recompacted: 0, rows: 1 });
    assert.equal(await store.state.get(COMPACTED_UNTIL_KEY), T0 + 11 * HOUR_MS);
  });

  test('nothing waiting, or the job disabled: no run at start', async () => {
    const { store, config } = await setup();
    await write(store, 'a', T0, T0 + 3 * HOUR_MS, 20);
    await compact(store, { now: T0 + 3 * HOUR_MS + 5 * MINUTE_MS });
    const clock = new FakeClock(T0 + 3 * HOUR_MS + 20 * MINUTE_MS);
    const first = await leader(store, config, clock);
    first.scheduler.start();
    await first.scheduler.settled(); // the catch-up at start has decided, and nothing is running
    assert.deepEqual(await runs(store, 0), [], 'everything whole is compacted');
    await first.scheduler.stop();
    await first.leadership.stop();

    const off = await setup({ compact: false });
    await write(off.store, 'a', T0, T0 + 3 * HOUR_MS, 20);
    const second = await leader(off.store, off.config, clock);
    assert.equal(second.scheduler.list().find((j) => j.job === 'compact')?.schedule, false);
    second.scheduler.start();
    await clock.advance(2 * HOUR_MS); // two hourly slots pass (a disabled job has no loop to wake)
    await second.scheduler.settled();
    assert.deepEqual(await runs(off.store, 0), []);
    assert.deepEqual(await perHour(off.store, HOUR_MS), {});
  });

  test('a compaction whose leadership is lost writes nothing and leaves the watermark', async () => {
    const { store } = await setup();
    await write(store, 'a', T0, T0 + 3 * HOUR_MS, 20);
    await assert.rejects(
      compact(store, {
        now: T0 + 3 * HOUR_MS + 5 * MINUTE_MS,
        fence: async () => {
          throw new LeadershipLostError('a', 1);
        },
      }),
      LeadershipLostError,
    );
    assert.deepEqual(await perHour(store, HOUR_MS), {});
    assert.equal(await store.state.get(COMPACTED_UNTIL_KEY), undefined);
    const stop = new AbortController();
    let hours = 0;
    await assert.rejects(
      compact(store, {
        now: T0 + 3 * HOUR_MS + 5 * MINUTE_MS,
        signal: stop.signal,
        onProgress: (done) => {
          hours = done;
          if (done === 2) stop.abort(new Error('stopping'));
        },
      }),
      /stopping/,
    );
    assert.equal(hours, 2);
    assert.equal(await store.state.get(COMPACTED_UNTIL_KEY), T0 + 2 * HOUR_MS, 'what was done stays done');
    const rest = await compact(store, { now: T0 + 3 * HOUR_MS + 5 * MINUTE_MS });
    assert.deepEqual([rest.hours, rest.until], [1, T0 + 3 * HOUR_MS]);
    assert.deepEqual(await perHour(store, HOUR_MS), await perHour(store, MINUTE_MS));
  });
});
