import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import pg from 'pg';
import { pgSchema, tempDir } from '../../test/support/services.js';
import { waitFor } from '../../test/support/wait.js';
import { FakeClock } from '../core/clock.js';
import { openPostgres } from '../store/dialects.js';
import { openStore, type Store, storeFromKysely } from '../store/index.js';
import { leaderSessionName, PgAdvisoryLock } from './advisory-lock.js';
import { LeadershipLostError, LeaseLeadership } from './leadership.js';

const T0 = Date.UTC(2026, 2, 1, 12, 0, 0);
const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function sqliteStore(): Promise<Store> {
  const dir = tempDir();
  const store = await openStore({ driver: 'sqlite', path: join(dir.path, 'prodmon.db') });
  await store.migrate(T0);
  cleanups.push(
    () => dir.cleanup(),
    () => store.close(),
  );
  return store;
}

async function postgresStore(): Promise<{ store: Store; schema: string }> {
  const s = pgSchema();
  const store = await openStore({ driver: 'postgres', url: s.url, schema: s.schema, poolSize: 4 });
  await store.migrate(T0);
  cleanups.push(
    () => s.drop(),
    () => store.close(),
  );
  return { store, schema: s.schema };
}

/** Advances `clock` by `ms` in steps of `step`, letting the `sleepers` loops finish each round (real I/O) in between. */
async function tick(clock: FakeClock, ms: number, sleepers = 1, step = 1000): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    await waitFor(() => clock.pending >= sleepers, { what: 'the loops to park' });
    await clock.advance(Math.min(step, ms - t));
  }
  await waitFor(() => clock.pending >= sleepers, { what: 'the loops to park' });
}

function leader(store: Store, clock: FakeClock, holder: string, lock?: PgAdvisoryLock) {
  const l = new LeaseLeadership({ store, clock, holder, ttlMs: 10_000, renewMs: 3000, pollMs: 1000, lock });
  const changes: [boolean, number | null][] = [];
  l.onChange((lead, epoch) => changes.push([lead, epoch]));
  cleanups.push(() => l.stop());
  return Object.assign(l, { changes });
}

describe('leadership over the lease (SQLite)', () => {
  test('the first instance leads, the second follows; a leader that stops hands over within one poll', async () => {
    const store = await sqliteStore();
    const clock = new FakeClock(T0);
    const a = leader(store, clock, 'a');
    const b = leader(store, clock, 'b');
    await a.start();
    await b.start();
    assert.equal(a.isLeader(), true);
    assert.equal(a.epoch, 1);
    assert.equal(b.isLeader(), false);
    await clock.advance(30_000);
    assert.equal(a.isLeader(), true, 'renewals keep the lease');
    assert.equal(b.isLeader(), false);
    await a.stop();
    assert.equal(a.isLeader(), false);
    await clock.advance(1000);
    assert.equal(b.isLeader(), true);
    assert.equal(b.epoch, 2);
    assert.deepEqual(a.changes, [
      [true, 1],
      [false, null],
    ]);
    assert.deepEqual(b.changes, [[true, 2]]);
  });

  test('a frozen leader is replaced only after its lease expires, then its writes are fenced off and it steps down', async () => {
    const store = await sqliteStore();
    const clockA = new FakeClock(T0);
    const clockB = new FakeClock(T0);
    const a = leader(store, clockA, 'a');
    const b = leader(store, clockB, 'b');
    await a.start();
    await b.start();
    // A freezes: its clock stops, it renews no more. B polls on.
    await clockB.advance(9000);
    assert.equal(b.isLeader(), false, 'not before the lease expires');
    await clockB.advance(2000);
    assert.equal(b.isLeader(), true);
    assert.equal(b.epoch, 2);
    // A wakes believing it leads (its clock has not moved): the fence in its transaction says no.
    assert.equal(a.isLeader(), true);
    await assert.rejects(
      store.transaction((tx) => a.fence(tx)),
      (err) => err instanceof LeadershipLostError && err.code === 'PRODMON_E_LEADERSHIP',
    );
    await store.transaction((tx) => b.fence(tx));
    clockA.set(clockB.now());
    assert.equal(a.isLeader(), false, 'by its own clock the lease is gone');
    await clockA.advance(3000);
    await clockB.advance(3000);
    assert.deepEqual(a.changes.at(-1), [false, null]);
    for (let i = 0; i < 20; i++) {
      await clockA.advance(1000);
      await clockB.advance(1000);
    }
    assert.equal(a.isLeader(), false, 'B keeps renewing');
    assert.equal(b.isLeader(), true);
  });

  test('leading again after stepping down starts a new epoch', async () => {
    const store = await sqliteStore();
    const clock = new FakeClock(T0);
    const a = leader(store, clock, 'a');
    await a.start();
    assert.equal(a.epoch, 1);
    await store.leases.release('leader', 'a'); // e.g. an operator freed it; A sees it at its next renewal
    const other = await store.leases.acquire('leader', 'x', 10_000, clock.now());
    assert.equal(other?.epoch, 2);
    await clock.advance(3000);
    assert.equal(a.isLeader(), false);
    await store.leases.release('leader', 'x');
    await clock.advance(5000);
    assert.equal(a.isLeader(), true);
    assert.equal(a.epoch, 3);
  });
});

describe('leadership with the PostgreSQL advisory lock', () => {
  async function lockOf(schema: string, holder: string) {
    const { url } = pgSchema();
    return new PgAdvisoryLock({ url, schema, holder });
  }
  async function terminate(holder: string): Promise<number> {
    const c = new pg.Client({ connectionString: pgSchema().url });
    await c.connect();
    try {
      const r = await c.query(
        'select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1',
        [leaderSessionName(holder)],
      );
      return r.rowCount ?? 0;
    } finally {
      await c.end();
    }
  }

  test('the leader holds the lock; when its session is killed it steps down at once and another leads before the lease expires', async () => {
    const { store, schema } = await postgresStore();
    const clock = new FakeClock(T0);
    const a = leader(store, clock, 'a', await lockOf(schema, 'a'));
    const b = leader(store, clock, 'b', await lockOf(schema, 'b'));
    await a.start();
    await b.start();
    assert.equal(a.isLeader(), true);
    assert.equal(b.isLeader(), false);
    await tick(clock, 2000, 2);
    assert.equal(a.isLeader(), true);
    assert.equal(await terminate('a'), 1);
    await waitFor(() => !a.isLeader(), { what: 'A to step down' });
    assert.deepEqual(a.changes.at(-1), [false, null]);
    await tick(clock, 2000, 2);
    assert.equal(b.isLeader(), true, 'B leads within two polls, long before the 10 s lease would expire');
    assert.equal(b.epoch, 2);
    assert.equal(a.isLeader(), false);
    // A candidate again, A holds a new lock session named after it: end both, so that the next test's
    // holders of the same names do not look alive (sessions are found by name across the database).
    await a.stop();
    await b.stop();
  });

  test('a lone leader whose session is killed leads again after one and a half polls, in a new epoch', async () => {
    const { store, schema } = await postgresStore();
    const clock = new FakeClock(T0);
    const a = leader(store, clock, 'lone', await lockOf(schema, 'lone'));
    await a.start();
    assert.equal(a.epoch, 1);
    assert.equal(await terminate('lone'), 1);
    await waitFor(() => !a.isLeader(), { what: 'the leader to step down' });
    await tick(clock, 1000, 1, 500);
    assert.equal(a.isLeader(), false, 'not within the first poll: another instance would take over first');
    await tick(clock, 500, 1, 500);
    assert.equal(a.isLeader(), true, 'leads again 1.5 polls after the step-down (not after renew, 3 s)');
    assert.equal(a.epoch, 2, 'a new term');
    assert.deepEqual(a.changes, [
      [true, 1],
      [false, null],
      [true, 2],
    ]);
    const fenced = (epoch: number) =>
      store.transaction((tx) => tx.leases.fence('leader', 'lone', epoch, clock.now(), 5000));
    assert.equal(await fenced(1), false, 'writes of the old term stay fenced off');
    assert.equal(await fenced(2), true);
    await a.stop();
  });

  test("a candidate that gets the lock while the holder's session is gone takes the lease over at once", async () => {
    const { store, schema } = await postgresStore();
    const clock = new FakeClock(T0);
    const lockA = await lockOf(schema, 'a');
    const a = leader(store, clock, 'a', lockA);
    const b = leader(store, clock, 'b', await lockOf(schema, 'b'));
    await a.start();
    await b.start();
    // A's process dies: its session ends without a word about the lease.
    await lockA.close();
    await tick(clock, 1000, 2);
    assert.equal(b.isLeader(), true, 'B took over at its first poll');
    assert.equal(b.epoch, 2);
    const lease = await store.leases.get('leader');
    assert.deepEqual([lease?.holder, lease?.epoch], ['b', 2]);
    await assert.rejects(
      store.transaction((tx) => a.fence(tx)),
      LeadershipLostError,
    );
  });

  test('a leader frozen inside a fenced transaction cannot block a takeover: the server ends its idle session', async () => {
    const s = pgSchema();
    const { db, pool } = openPostgres(s.url, s.schema, 4);
    // A checked-out client whose session the server ends must not crash the process (pg emits 'error').
    pool.on('connect', (c) => c.on('error', () => {}));
    const store = storeFromKysely(db, 'postgres', { schema: s.schema });
    await store.migrate(T0);
    cleanups.push(
      () => s.drop(),
      () => store.close(),
    );
    await store.leases.acquire('leader', 'a', 10_000, T0);
    // The frozen leader idles in its transaction, holding the row lock, until the takeover is through; a
    // takeover that waited for the transaction would have it idle until the 20 s bound instead.
    let fenced!: () => void;
    const isFenced = new Promise<void>((r) => {
      fenced = r;
    });
    let tookOver!: () => void;
    const takeover = new Promise<void>((r) => {
      tookOver = r;
    });
    let idledUntil = '';
    const frozen = store.transaction(async (tx) => {
      assert.equal(await tx.leases.fence('leader', 'a', 1, T0, 300), true);
      fenced();
      let bound: NodeJS.Timeout | undefined;
      idledUntil = await Promise.race([
        takeover.then(() => 'the takeover'),
        new Promise<string>((r) => {
          bound = setTimeout(() => r('the 20 s bound'), 20_000);
        }),
      ]);
      clearTimeout(bound);
      await tx.state.get('anything');
    });
    frozen.catch(() => {}); // asserted below
    await isFenced;
    const taken = await store.leases.acquire('leader', 'b', 10_000, T0 + 20_000);
    tookOver();
    assert.equal(taken?.epoch, 2);
    await assert.rejects(frozen, /terminat|idle-in-transaction|Connection/i);
    assert.equal(idledUntil, 'the takeover', 'the takeover did not wait for the frozen transaction');
  });

  test('a frozen leader keeps its session and lock: the others wait for the lease to expire', async () => {
    const { store, schema } = await postgresStore();
    const clockA = new FakeClock(T0);
    const clockB = new FakeClock(T0);
    const lockB = await lockOf(schema, 'b');
    const a = leader(store, clockA, 'a', await lockOf(schema, 'a'));
    const b = leader(store, clockB, 'b', lockB);
    await a.start();
    await b.start();
    await tick(clockB, 10_000);
    assert.equal(b.isLeader(), false, 'no takeover while the frozen leader holds the lock and the lease');
    await tick(clockB, 1000);
    assert.equal(b.isLeader(), true, 'B leads once the lease expired');
    assert.equal(b.epoch, 2);
    assert.equal(lockB.held, false, 'A still holds the lock');
    // A resumes: it steps down and lets the lock go; B picks the lock up at its next renewal.
    clockA.set(clockB.now());
    assert.equal(a.isLeader(), false);
    await tick(clockA, 3000);
    assert.deepEqual(a.changes.at(-1), [false, null]);
    await tick(clockB, 3000);
    assert.equal(lockB.held, true, 'B holds the lock now');
    assert.equal(b.isLeader(), true);
  });
});
