import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { tempDir } from '../../test/support/services.js';
import { parseConfig, type ResolvedConfig } from '../config/load.js';
import { FakeClock, flushAsync } from '../core/clock.js';
import { openStore, type Store } from '../store/index.js';
import { LeaseLeadership } from './leadership.js';
import { Scheduler, slotKey } from './scheduler.js';
import type { Job, JobContext, JobFailure } from './types.js';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function setup(start: number): Promise<{ store: Store; config: ResolvedConfig }> {
  const dir = tempDir();
  const config = parseConfig({ data_dir: dir.path }, { cwd: dir.path });
  const store = await openStore({ driver: 'sqlite', path: config.paths.db });
  await store.migrate(start);
  cleanups.push(
    () => dir.cleanup(),
    () => store.close(),
  );
  return { store, config };
}

/** Leadership whose renewals are rare, so days of fake time pass in few steps. */
function slowLeadership(store: Store, clock: FakeClock, holder: string, ttlMs = 7 * 86_400_000) {
  const l = new LeaseLeadership({ store, clock, holder, ttlMs, renewMs: ttlMs / 3, pollMs: ttlMs / 3 });
  cleanups.push(() => l.stop());
  return l;
}

/** A job that notes the slot and time of each run. */
function recorder(name: string, body?: (ctx: JobContext) => Promise<void>) {
  const runs: { slot: number | null; at: number }[] = [];
  const job: Job = {
    name,
    description: name,
    async run(ctx) {
      runs.push({ slot: ctx.slot, at: ctx.clock.now() });
      await body?.(ctx);
      return { counts: { n: runs.length } };
    },
  };
  return { job, runs };
}

/** Moves the clock minute by minute, letting runs finish after each step. */
async function advance(clock: FakeClock, ms: number, step = 60_000): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    await clock.advance(Math.min(step, ms - t));
    await flushAsync(5);
  }
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * A leader 'a' (on `clock`) with one job `slow` every minute whose body `body` gets `blocked`, a promise
 * that `release()` resolves.
 */
async function blockingSetup(body: (blocked: Promise<void>, runs: number) => Promise<void>) {
  const start = Date.UTC(2026, 0, 5, 10);
  const clock = new FakeClock(start);
  const { store, config } = await setup(start);
  const leadership = slowLeadership(store, clock, 'a');
  await leadership.start();
  let release!: () => void;
  const blocked = new Promise<void>((r) => {
    release = r;
  });
  const slow = recorder('slow', () => body(blocked, slow.runs.length));
  const s = new Scheduler({
    store,
    clock,
    config,
    leadership,
    instance: 'a',
    jobs: [{ job: slow.job, schedule: '* * * * *' }],
  });
  s.start();
  cleanups.push(() => s.stop());
  return { start, clock, store, leadership, slow, release };
}

describe('scheduler on a fake clock', () => {
  test('spring forward in Europe/Berlin (2026-03-29): a 02:30 job runs once, at 03:00 CEST; 03:00 and 02:00 jobs once each', async () => {
    const start = Date.UTC(2026, 2, 27, 12);
    const clock = new FakeClock(start);
    const { store, config } = await setup(start);
    const leadership = slowLeadership(store, clock, 'a');
    await leadership.start();
    const j0230 = recorder('at-0230');
    const j0300 = recorder('at-0300');
    const j0200 = recorder('at-0200');
    const s = new Scheduler({
      store,
      clock,
      config,
      leadership,
      instance: 'a',
      timezone: 'Europe/Berlin',
      jobs: [
        { job: j0230.job, schedule: '30 2 * * *' },
        { job: j0300.job, schedule: '0 3 * * *' },
        { job: j0200.job, schedule: '0 2 * * *' },
      ],
    });
    s.start();
    cleanups.push(() => s.stop());
    await advance(clock, 4 * 86_400_000);
    assert.deepEqual(
      j0230.runs.map((r) => iso(r.slot)),
      [
        '2026-03-28T01:30:00.000Z',
        '2026-03-29T01:00:00.000Z',
        '2026-03-30T00:30:00.000Z',
        '2026-03-31T00:30:00.000Z',
      ],
    );
    assert.deepEqual(
      j0300.runs.map((r) => iso(r.slot)),
      [
        '2026-03-28T02:00:00.000Z',
        '2026-03-29T01:00:00.000Z',
        '2026-03-30T01:00:00.000Z',
        '2026-03-31T01:00:00.000Z',
      ],
    );
    assert.deepEqual(
      j0200.runs.map((r) => iso(r.slot)),
      [
        '2026-03-28T01:00:00.000Z',
        '2026-03-29T01:00:00.000Z',
        '2026-03-30T00:00:00.000Z',
        '2026-03-31T00:00:00.000Z',
      ],
    );
    for (const r of [...j0230.runs, ...j0300.runs]) assert.equal(r.at, r.slot, 'each run starts at its slot');
    const recorded = await store.jobs.recent({ job: 'at-0230' });
    assert.equal(recorded.length, 4);
    assert.ok(recorded.every((r) => r.outcome === 'ok' && r.endedAt !== null));
    assert.deepEqual(
      recorded.map((r) => iso(r.detail.slot as number)).reverse(),
      j0230.runs.map((r) => iso(r.slot)),
    );
  });

  test('fall back in Europe/Berlin (2026-10-25): 02:30 runs once (the first 02:30), 03:00 once, a half-hourly job in both hours', async () => {
    const start = Date.UTC(2026, 9, 24, 12);
    const clock = new FakeClock(start);
    const { store, config } = await setup(start);
    const leadership = slowLeadership(store, clock, 'a');
    await leadership.start();
    const j0230 = recorder('at-0230');
    const j0300 = recorder('at-0300');
    const half = recorder('half-hourly');
    const s = new Scheduler({
      store,
      clock,
      config,
      leadership,
      instance: 'a',
      timezone: 'Europe/Berlin',
      jobs: [
        { job: j0230.job, schedule: '30 2 * * *' },
        { job: j0300.job, schedule: '0 3 * * *' },
        { job: half.job, schedule: '*/30 1-3 * * *' },
      ],
    });
    s.start();
    cleanups.push(() => s.stop());
    await advance(clock, 2 * 86_400_000);
    assert.deepEqual(
      j0230.runs.map((r) => iso(r.slot)),
      ['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z'],
    );
    assert.deepEqual(
      j0300.runs.map((r) => iso(r.slot)),
      ['2026-10-25T02:00:00.000Z', '2026-10-26T02:00:00.000Z'],
    );
    const oct25 = half.runs
      .map((r) => iso(r.slot))
      .filter((t) => t!.startsWith('2026-10-25') || t!.startsWith('2026-10-24T23'));
    assert.deepEqual(oct25, [
      '2026-10-24T23:00:00.000Z', // 01:00 CEST
      '2026-10-24T23:30:00.000Z',
      '2026-10-25T00:00:00.000Z', // 02:00 CEST
      '2026-10-25T00:30:00.000Z',
      '2026-10-25T01:00:00.000Z', // 02:00 CET (the hour again)
      '2026-10-25T01:30:00.000Z',
      '2026-10-25T02:00:00.000Z', // 03:00 CET
      '2026-10-25T02:30:00.000Z',
    ]);
  });

  test('a run still going when its next slot comes makes that slot a recorded skip; no overlap', async () => {
    let active = 0;
    let maxActive = 0;
    const { start, clock, store, slow, release } = await blockingSetup(async (blocked, runs) => {
      active++;
      maxActive = Math.max(maxActive, active);
      if (active === 1 && runs === 1) await blocked;
      active--;
    });
    await advance(clock, 3 * 60_000);
    assert.equal(slow.runs.length, 1);
    release();
    await flushAsync(5);
    await advance(clock, 60_000);
    assert.equal(slow.runs.length, 2);
    assert.equal(maxActive, 1);
    const runs = (await store.jobs.recent({ job: 'slow' })).reverse();
    assert.deepEqual(
      runs.map((r) => [r.outcome, r.detail.slot]),
      [
        ['ok', start + 60_000],
        ['skipped', start + 120_000],
        ['skipped', start + 180_000],
        ['ok', start + 240_000],
      ],
    );
    assert.equal(runs[1]?.detail.reason, 'previous run still in progress');
  });

  test('an overlap skip claims its slot: none for a slot already claimed, none by a leader whose lease was taken', async () => {
    const { start, clock, store, leadership, slow, release } = await blockingSetup(async (blocked, runs) => {
      if (runs === 1) await blocked;
    });
    await advance(clock, 60_000); // 10:01 runs and hangs
    assert.equal(slow.runs.length, 1);
    // Another instance has claimed 10:02 already: this one's skip of it writes nothing.
    await store.state.set(slotKey('slow'), start + 120_000, clock.now());
    await advance(clock, 60_000);
    // Another instance takes the lease; this one has not noticed yet (no renewal due) when 10:03 comes.
    const lease = (await store.leases.get(leadership.name))!;
    assert.ok(await store.leases.seize(leadership.name, 'b', 600_000, clock.now(), lease.epoch));
    assert.equal(leadership.isLeader(), true);
    await advance(clock, 60_000);
    release();
    await flushAsync(5);
    const runs = await store.jobs.recent({ job: 'slow' });
    assert.deepEqual(
      runs.map((r) => [r.instance, r.detail.slot]),
      [['a', start + 60_000]],
      'one row: the run of 10:01; no skip row for the claimed 10:02 nor from the ex-leader at 10:03',
    );
    assert.equal(await store.state.get<number>(slotKey('slow')), start + 120_000);
  });

  test('a failed run is recorded and told (for a system alert); the next success is told as a recovery', async () => {
    const start = Date.UTC(2026, 0, 5, 10);
    const clock = new FakeClock(start);
    const { store, config } = await setup(start);
    const leadership = slowLeadership(store, clock, 'a');
    await leadership.start();
    const failures: JobFailure[] = [];
    const recovered: string[] = [];
    let fail = true;
    const flaky = recorder('flaky', async () => {
      if (fail) throw new Error('disk full');
    });
    const s = new Scheduler({
      store,
      clock,
      config,
      leadership,
      instance: 'a',
      jobs: [{ job: flaky.job, schedule: '*/5 * * * *' }],
      onFailure: (f) => {
        failures.push(f);
      },
      onRecovered: (job) => {
        recovered.push(job);
      },
    });
    s.start();
    cleanups.push(() => s.stop());
    await advance(clock, 5 * 60_000);
    assert.equal(failures.length, 1);
    assert.deepEqual(
      [failures[0]?.job, failures[0]?.error, failures[0]?.slot, failures[0]?.instance],
      ['flaky', 'disk full', start + 300_000, 'a'],
    );
    const [failed] = await store.jobs.recent({ job: 'flaky' });
    assert.deepEqual(
      [failed?.outcome, failed?.detail.error, failed?.id],
      ['failed', 'disk full', failures[0]?.runId],
    );
    fail = false;
    await advance(clock, 5 * 60_000);
    assert.deepEqual(recovered, ['flaky']);
    await advance(clock, 5 * 60_000);
    assert.deepEqual(recovered, ['flaky'], 'told once');
  });

  test('only the leader runs a slot; a stalled ex-leader is fenced off; the new leader makes up the slot it missed', async () => {
    const start = Date.UTC(2026, 0, 5, 2, 59, 0);
    const clockA = new FakeClock(start);
    const clockB = new FakeClock(start);
    const { store, config } = await setup(start);
    await store.state.set(slotKey('nightly'), Date.UTC(2026, 0, 4, 3), start); // ran yesterday
    const mk = (clock: FakeClock, holder: string) =>
      new LeaseLeadership({ store, clock, holder, ttlMs: 10_000, renewMs: 3000, pollMs: 1000 });
    const la = mk(clockA, 'a');
    const lb = mk(clockB, 'b');
    cleanups.push(
      () => la.stop(),
      () => lb.stop(),
    );
    await la.start();
    await lb.start();
    const ja = recorder('nightly');
    const jb = recorder('nightly');
    const sa = new Scheduler({
      store,
      clock: clockA,
      config,
      leadership: la,
      instance: 'a',
      jobs: [{ job: ja.job, schedule: '0 3 * * *' }],
      catchUpMs: 15 * 60_000,
    });
    const sb = new Scheduler({
      store,
      clock: clockB,
      config,
      leadership: lb,
      instance: 'b',
      jobs: [{ job: jb.job, schedule: '0 3 * * *' }],
      catchUpMs: 15 * 60_000,
    });
    sa.start();
    sb.start();
    cleanups.push(
      () => sa.stop(),
      () => sb.stop(),
    );
    await advance(clockA, 58_000, 1000);
    await advance(clockB, 58_000, 1000);
    // A freezes at 02:59:58; B reaches 03:00 as a follower, then takes the expired lease over.
    await advance(clockB, 20_000, 1000);
    assert.equal(lb.isLeader(), true);
    assert.deepEqual(
      jb.runs.map((r) => iso(r.slot)),
      ['2026-01-05T03:00:00.000Z'],
      'B made up the 03:00 slot',
    );
    assert.ok(jb.runs[0]!.at > Date.UTC(2026, 0, 5, 3) && jb.runs[0]!.at <= Date.UTC(2026, 0, 5, 3, 0, 20));
    // A wakes at 03:00:00 still believing it leads (its clock says its lease is valid): the fence stops it.
    assert.equal(la.isLeader(), true);
    const manual = await sa.runNow('nightly');
    assert.deepEqual(
      [manual.outcome, manual.runId],
      ['not-leader', null],
      'fenced in the claiming transaction',
    );
    await advance(clockA, 2000, 1000);
    assert.equal(ja.runs.length, 0, 'the stalled ex-leader did not run the slot');
    await advance(clockA, 20_000, 1000);
    await advance(clockB, 3000, 1000);
    assert.equal(la.isLeader(), false);
    const runs = await store.jobs.recent({ job: 'nightly' });
    assert.deepEqual(
      runs.map((r) => [r.instance, r.detail.slot]),
      [['b', Date.UTC(2026, 0, 5, 3)]],
    );
  });

  test('a disabled job never runs; list() shows schedules and next times', async () => {
    const start = Date.UTC(2026, 0, 5, 10);
    const clock = new FakeClock(start);
    const { store, config } = await setup(start);
    const leadership = slowLeadership(store, clock, 'a');
    await leadership.start();
    const off = recorder('off');
    const on = recorder('on');
    const s = new Scheduler({
      store,
      clock,
      config,
      leadership,
      instance: 'a',
      timezone: 'UTC',
      jobs: [
        { job: off.job, schedule: false },
        { job: on.job, schedule: '0 12 * * *' },
      ],
    });
    s.start();
    cleanups.push(() => s.stop());
    assert.deepEqual(
      s.list().map((j) => [j.job, j.schedule, iso(j.next)]),
      [
        ['off', false, null],
        ['on', '0 12 * * *', '2026-01-05T12:00:00.000Z'],
      ],
    );
    await advance(clock, 86_400_000, 3_600_000);
    assert.equal(off.runs.length, 0);
    assert.equal(on.runs.length, 1);
  });
});
