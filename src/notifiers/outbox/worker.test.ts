import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { configWith, sampleAlert, T0, transition } from '../../../test/support/notify-fixtures.js';
import { type Harness, startHarness } from '../../../test/support/notify-harness.js';
import { type HttpReceiver, startHttpReceiver } from '../../../test/support/receivers.js';
import { STORE_FIXTURES } from '../../../test/support/stores.js';
import { systemClock } from '../../core/clock.js';
import { NotificationPipeline } from '../pipeline.js';

describe('outbox worker: delivery, retries, timeouts, giving up', () => {
  let rx: HttpReceiver;
  let h: Harness;
  /** Fake time of each request. */
  let times: number[];
  before(async () => {
    rx = await startHttpReceiver();
  });
  after(() => rx.close());
  afterEach(() => h?.close());
  const hook = (name = 'hook') => ({ name, kind: 'webhook', url: `${rx.url}/${name}` });
  const start = async (channels = [hook()], outbox = {}) => {
    rx.requests.length = 0;
    times = [];
    h = await startHarness(channels, outbox);
    return h;
  };
  const answerBy = (fn: (fakeNow: number) => number | 'hold', headers: Record<string, string> = {}) =>
    rx.answer(() => {
      times.push(h.clock.now());
      const s = fn(h.clock.now());
      return s === 'hold' ? 'hold' : { status: s, headers };
    });

  test('a new notification is delivered at once, without waiting for a tick, and logged', async () => {
    await start();
    answerBy(() => 200);
    await h.accept(transition('firing'));
    assert.equal(rx.requests.length, 1);
    assert.equal(h.clock.now(), T0, 'no fake time passed');
    const [item] = await h.store.outbox.list(['delivered']);
    assert.equal(item?.key, `${transition('firing').id}:hook`);
    assert.equal(rx.requests[0]!.headers['webhook-id'], item!.id);
    const log = await h.store.outbox.deliveries(item!.id);
    assert.deepEqual(
      log.map((d) => [d.ok, d.statusCode, d.error]),
      [[true, 200, null]],
    );
    assert.ok(log[0]!.durationMs >= 0);
  });

  test('a receiver failing with 500 for a minute gets it once, after recovery, with growing backoff', async () => {
    await start();
    answerBy((now) => (now < T0 + 60_000 ? 500 : 200));
    await h.accept(transition('firing'));
    await h.advance(5 * 60_000);
    const ok = rx.requests.filter((_, i) => times[i]! >= T0 + 60_000);
    assert.equal(ok.length, 1, 'exactly one request after recovery');
    assert.ok(
      new Set(rx.requests.map((r) => r.headers['webhook-id'])).size === 1,
      'same webhook-id on every retry',
    );
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    assert.deepEqual(
      gaps,
      [1000, 2000, 4000, 8000, 16000, 32000],
      'doubling from min_backoff (jitter 0.5 = none)',
    );
    const [item] = await h.store.outbox.list(['delivered']);
    assert.equal(item?.attempts, 7);
    const log = await h.store.outbox.deliveries(item!.id);
    assert.deepEqual(
      log.map((d) => d.statusCode),
      [500, 500, 500, 500, 500, 500, 200],
    );
    assert.equal(log[0]!.error, 'HTTP 500');
    assert.deepEqual(h.failures, []);
  });

  test('429 with Retry-After: the next attempt waits exactly that long', async () => {
    await start();
    answerBy((now) => (now === T0 ? 429 : 200), { 'retry-after': '120' });
    await h.accept(transition('firing'));
    await h.advance(119_000);
    assert.equal(rx.requests.length, 1, 'nothing before Retry-After');
    await h.advance(2000);
    assert.deepEqual(times, [T0, T0 + 120_000]);
    assert.equal(await h.store.outbox.backlog(), 0);
  });

  test('a receiver that never answers: the attempt times out on the clock and is retried', async () => {
    await start([hook()], { attempt_timeout: '10s' });
    answerBy((now) => (now === T0 ? 'hold' : 200));
    await h.accept(transition('firing'), { settle: false });
    await rx.waitFor(1);
    const [waiting] = await h.store.outbox.pending();
    assert.equal(waiting?.attempts, 0, 'still in flight');
    await h.clock.advance(9_999);
    assert.equal((await h.store.outbox.pending())[0]?.attempts, 0, 'not yet timed out');
    await h.clock.advance(1);
    await h.settle();
    const [after] = await h.store.outbox.pending();
    assert.equal(after?.attempts, 1);
    assert.equal(after?.lastError, 'timed out after 10s');
    assert.equal(after?.nextAttemptAt, T0 + 10_000 + 1000);
    await h.advance(1000);
    assert.deepEqual(times, [T0, T0 + 11_000]);
    assert.equal((await h.store.outbox.list(['delivered'])).length, 1);
  });

  test('after max_age it gives up: dead, reported once per failure, the other channel unaffected', async () => {
    await start([hook('down'), hook('up')], { max_age: '10m', max_backoff: '2m' });
    rx.answer((r) => ({ status: r.path === '/down' ? 503 : 200 }));
    await h.accept(transition('firing'));
    await h.advance(11 * 60_000, 5000);
    const dead = await h.store.outbox.list(['dead']);
    assert.deepEqual(
      dead.map((i) => i.channel),
      ['down'],
    );
    assert.equal(dead[0]!.updatedAt, T0 + 10 * 60_000, 'the last attempt is at the deadline');
    assert.deepEqual(
      h.failures.map((f) => [f.channel, f.status, f.items, f.reason]),
      [['down', 'dead', 1, 'HTTP 503']],
    );
    assert.ok(h.errors.some((e) => /channel "down" failing: gave up on 1/.test(e.msg)));
    assert.equal(rx.requests.filter((r) => r.path === '/up').length, 1);
    const tries = rx.requests.filter((r) => r.path === '/down').length;
    assert.equal(tries, dead[0]!.attempts);
    await h.advance(10 * 60_000, 60_000);
    assert.equal(rx.requests.filter((r) => r.path === '/down').length, tries, 'no attempt after giving up');
  });

  test('a resolution never overtakes its firing on a channel', async () => {
    await start();
    answerBy((now) => (now < T0 + 3000 ? 500 : 200));
    await h.accept(transition('firing'));
    await h.clock.advance(500);
    await h.accept(transition('resolved', sampleAlert(), { at: T0 + 500 }));
    // Grouped (the default): the resolution goes with the group's next message, a group_interval on.
    await h.advance(70_000, 2000);
    const ok = rx.requests
      .filter((_, i) => times[i]! >= T0 + 3000)
      .map((r) => (r.json as { type: string }).type);
    assert.deepEqual(ok, ['alert.firing', 'alert.resolved']);
    assert.equal(rx.requests.filter((r) => (r.json as { type: string }).type === 'alert.resolved').length, 1);
  });

  test('a send the store cannot record is not sent again; it is recorded once the store takes writes', async () => {
    await start();
    answerBy(() => 200);
    // The store reads but refuses writes in a transaction (a full disk): the send's record fails.
    const store = h.store as { transaction: typeof h.store.transaction };
    const real = store.transaction.bind(h.store);
    let full = false;
    store.transaction = (fn) =>
      full ? Promise.reject(new Error('SQLITE_FULL: database or disk is full')) : real(fn);
    // Accepted while the store takes writes; full before the send's answer can come back (real I/O).
    await h.accept(transition('firing'), { settle: false });
    full = true;
    await h.settle();
    assert.equal(rx.requests.length, 1, 'sent once');
    await h.advance(30_000); // six polls, and wakes after each failed record
    assert.equal(rx.requests.length, 1, 'not sent again while its record waits');
    assert.ok(h.errors.some((e) => /recording sent notifications failed/.test(e.msg)));
    full = false;
    await h.advance(5000); // the next poll records it
    assert.equal(rx.requests.length, 1, 'still once');
    const [item] = await h.store.outbox.list(['delivered']);
    assert.equal(item?.key, `${transition('firing').id}:hook`, 'recorded as delivered');
    const log = await h.store.outbox.deliveries(item!.id);
    assert.deepEqual(
      log.map((d) => [d.ok, d.at]),
      [[true, T0]],
      'one attempt, logged at the time it was sent',
    );
  });

  test('stopping mid-send leaves the item pending; a new worker delivers it once', async () => {
    await start();
    answerBy(() => 'hold');
    await h.accept(transition('firing'), { settle: false });
    await rx.waitFor(1);
    const dir = h.config.dataDir;
    await h.pipeline.stop();
    const [left] = await h.store.outbox.pending();
    assert.deepEqual([left?.attempts, (await h.store.outbox.deliveries(left!.id)).length], [0, 0]);
    await h.store.close();
    h = await startHarness([hook()], {}, { dir });
    answerBy(() => 200);
    await h.settle();
    await rx.waitFor(2);
    await h.settle();
    assert.equal(rx.requests[1]!.headers['webhook-id'], rx.requests[0]!.headers['webhook-id']);
    assert.equal((await h.store.outbox.list(['delivered'])).length, 1);
    await h.advance(60_000, 10_000);
    assert.equal(rx.requests.length, 2);
  });
});

describe('outbox worker on PostgreSQL, real clock', () => {
  test('a transition accepted in a transaction is sent right after the commit, not at the next poll', async () => {
    const { store, cleanup } = await STORE_FIXTURES.find((f) => f.name === 'postgres')!.open();
    const rx = await startHttpReceiver();
    const hook = { name: 'hook', kind: 'webhook', url: rx.url };
    const config = configWith([hook], {
      notifications: { channels: [hook], outbox: { poll_interval: '1m' } },
    });
    const pipeline = new NotificationPipeline({ config, store, clock: systemClock });
    pipeline.start();
    try {
      await pipeline.worker.idle();
      const now = systemClock.now();
      await store.transaction((tx) =>
        pipeline.sink.accept(tx, transition('firing', sampleAlert(), { at: now }), now),
      );
      // The next poll is a minute away: a send within 12 s (5x short of it) was started by the commit.
      await rx.waitFor(1, 12_000);
      await pipeline.worker.idle();
      assert.deepEqual((await store.outbox.counts()).delivered, 1);
    } finally {
      await pipeline.stop();
      await rx.close();
      await cleanup();
    }
  });
});
