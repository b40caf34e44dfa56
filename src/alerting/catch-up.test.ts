/**
 * No evaluation gap: the engine (real SQLite store, fake clock, the real lease leadership) evaluates at
 * once when it gains leadership, makes up data that arrived while it did not lead, evaluates at once
 * after a stall that cost it the lease, and retries a failed evaluation within seconds instead of at the
 * next `evaluation_interval` (60 s here, the default).
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { FakeClock, testEngine, testStore } from '../../test/support/alerting.js';
import { waitFor } from '../../test/support/wait.js';
import { LeaseLeadership } from '../jobs/leadership.js';
import { METRIC } from '../metrics/names.js';
import type { Store } from '../store/index.js';

const S = 1000;
const T0 = Date.UTC(2026, 2, 2, 10, 0, 0);
const HTTP = METRIC.httpRequest;
const checkout = { route: '/checkout' };

let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

/** Waits (in real time, bounded) until `n` sleepers are parked on the clock: the loops finished their round. */
async function parked(clock: FakeClock, n: number): Promise<void> {
  await waitFor(() => clock.pending >= n, {
    interval: 2,
    what: () => `${n} loops to park (${clock.pending} parked)`,
  });
}

/** Advances `clock` by `ms` in steps of `step`, letting the `n` loops finish each round in between. */
async function run(clock: FakeClock, ms: number, n: number, step = 500): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    await parked(clock, n);
    await clock.advance(Math.min(step, ms - t));
  }
  await parked(clock, n);
}

async function setup(opts: { loop?: boolean; store?: (s: Store) => Store } = {}) {
  const { store: real, cleanup } = await testStore();
  const store = opts.store ? opts.store(real) : real;
  const clock = new FakeClock(T0);
  const lease = (holder: string) => {
    const l = new LeaseLeadership({ store, clock, holder, ttlMs: 10_000, renewMs: 3000, pollMs: 1000 });
    cleanups.push(() => l.stop());
    return l;
  };
  const self = lease('self');
  const t = testEngine({
    store,
    clock,
    extra: {
      isLeader: () => self.isLeader(),
      onLeaderChange: (fn) => self.onChange((leader) => fn(leader)),
      fence: (tx) => self.fence(tx),
    },
  });
  cleanups.push(cleanup, () => t.engine.stop());
  const start = () => t.engine.start({ loop: opts.loop ?? true });
  return { store, clock, self, lease, start, ...t };
}

describe('evaluation leaves no gap', () => {
  test('gaining leadership evaluates every rule at once, not at the next tick', async () => {
    const { clock, self, lease, start, engine, metrics, sink } = await setup();
    const other = lease('other');
    await other.start();
    await self.start();
    assert.equal(self.isLeader(), false);
    await start();
    // A breach already in the store, announced to nobody here (the other instance was told).
    metrics.set(HTTP, checkout, 2500);
    await run(clock, 2 * S, 3);
    assert.deepEqual(sink.lines(), [], 'a follower evaluates nothing');
    await other.stop(); // hands over: this instance takes the lease at its next poll
    await run(clock, 1 * S, 2);
    await engine.idle();
    assert.equal(self.isLeader(), true);
    assert.deepEqual(sink.lines(), ['+3s api_response_time firing critical']);
  });

  test('fresh data that arrived while another instance led is evaluated as soon as this one leads', async () => {
    // No loop: only the catch-up can evaluate.
    const { clock, self, lease, start, engine, metrics, sink } = await setup({ loop: false });
    const other = lease('other');
    await other.start();
    await self.start();
    await start();
    await run(clock, 1 * S, 2);
    metrics.set(HTTP, checkout, 2500);
    const before = metrics.queries;
    metrics.emit(HTTP);
    await engine.idle();
    assert.equal(metrics.queries, before, 'not leading: the data is not read');
    assert.deepEqual(sink.lines(), []);
    await other.stop();
    await run(clock, 1 * S, 1);
    await engine.idle();
    assert.equal(self.isLeader(), true);
    assert.deepEqual(sink.lines(), ['+2s api_response_time firing critical']);
  });

  test('a stall past the lease and the tick: the instance steps down, leads again, and evaluates at once', async () => {
    const { clock, self, start, engine, metrics, sink } = await setup();
    await self.start();
    await start();
    await parked(clock, 2);
    await engine.idle();
    // The event loop is blocked for 70 s: no timer fires, the lease (10 s) runs out by this clock.
    clock.set(T0 + 70 * S);
    // Then the overdue timers fire (the renewal finds the lease expired and steps down; the tick finds
    // no leader), and the data that waited in the socket arrives.
    await clock.advance(0);
    await parked(clock, 2);
    metrics.set(HTTP, checkout, 2500);
    metrics.emit(HTTP);
    await engine.idle();
    assert.equal(self.isLeader(), false, 'stepped down: its lease expired by its own clock');
    assert.deepEqual(sink.lines(), []);
    // It leads again once its cool-down (renew, 3 s) is over, and evaluates then, not at the next tick (+130 s).
    await run(clock, 3 * S, 2);
    await engine.idle();
    assert.equal(self.isLeader(), true);
    assert.deepEqual(sink.lines(), ['+73s api_response_time firing critical']);
  });

  test('a failed evaluation (the store unreachable) is retried after 1, 2, 4 s..., not at the next tick', async () => {
    const reads: number[] = [];
    let failing = true;
    const { clock, self, start, engine, metrics, sink } = await setup({
      store: (s) => {
        const store = Object.create(s) as Store;
        const alerts = Object.create(s.alerts) as Store['alerts'];
        let calls = 0;
        alerts.listOpen = async () => {
          if (calls++ === 0) return s.alerts.listOpen(); // the restore at start
          reads.push((clock.now() - T0) / S);
          if (failing) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
          return s.alerts.listOpen();
        };
        Object.defineProperty(store, 'alerts', { value: alerts });
        return store;
      },
    });
    await self.start();
    metrics.set(HTTP, checkout, 2500);
    await start();
    await run(clock, 5 * S, 2);
    assert.deepEqual(reads, [0, 1, 3], 'tried at once, then after 1 s and 2 s');
    assert.deepEqual(sink.lines(), []);
    failing = false; // the store answers again
    await run(clock, 2 * S, 2);
    await engine.idle();
    assert.deepEqual(reads, [0, 1, 3, 7]);
    assert.deepEqual(sink.lines(), ['+7s api_response_time firing critical']);
    // Then back to the interval.
    await run(clock, 60 * S, 2, 5 * S);
    assert.deepEqual(reads, [0, 1, 3, 7, 67]);
  });

  test('fresh data whose evaluation failed is retried within a second, not at the next tick', async () => {
    let failing = false;
    const { clock, self, start, engine, metrics, sink } = await setup({
      store: (s) => {
        const store = Object.create(s) as Store;
        const silences = Object.create(s.silences) as Store['silences'];
        silences.active = async (now) => {
          if (failing) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
          return s.silences.active(now);
        };
        Object.defineProperty(store, 'silences', { value: silences });
        return store;
      },
    });
    await self.start();
    await start();
    await run(clock, 10 * S, 2);
    failing = true;
    metrics.set(HTTP, checkout, 2500);
    metrics.emit(HTTP);
    await engine.idle();
    assert.deepEqual(sink.lines(), [], 'the evaluation failed');
    failing = false;
    await run(clock, 1 * S, 2);
    await engine.idle();
    assert.deepEqual(sink.lines(), ['+11s api_response_time firing critical']);
  });
});
