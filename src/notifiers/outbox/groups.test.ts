import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { sampleAlert, T0, transition } from '../../../test/support/notify-fixtures.js';
import { type Harness, startHarness } from '../../../test/support/notify-harness.js';
import {
  checkPagerDutyEvent,
  type HttpReceiver,
  startHttpReceiver,
} from '../../../test/support/receivers.js';
import type { AlertTransition, TransitionKind } from '../../domain/transition.js';

/**
 * A transition of alert `n` of a rule (route `/<n>`, p95 `700 + n`), at the harness's current time;
 * the alert is stored as the engine would have (a group message says how many are still open).
 */
async function of(h: Harness, kind: TransitionKind, n: number, rule = 'api_response_time') {
  const alert = sampleAlert({
    id: `al_${rule}_${n}`,
    rule,
    fingerprint: `${rule}{route="/${n}"}`,
    labels: { route: `/${n}` },
    value: 700 + n,
    message: `p95 of /${n} is ${700 + n} ms`,
  });
  const t = transition(kind, alert, { at: h.clock.now() });
  const stored = { ...t.alert, state: {} };
  if (await h.store.alerts.get(alert.id)) await h.store.alerts.update(stored);
  else await h.store.alerts.insert(stored);
  return t;
}

interface Body {
  type: string;
  data: {
    notification_id: string;
    summary: string;
    counts?: { alerts: number; firing: number; resolved: number };
    alerts?: { event: string; alert: { id: string } }[];
    alert?: { id: string };
    group?: { key: string; open: number };
  };
}

describe('grouped delivery: timing, holds, order, at-least-once', () => {
  let rx: HttpReceiver;
  let h: Harness | undefined;
  /** Fake time of each request. */
  let times: number[];
  before(async () => {
    rx = await startHttpReceiver();
  });
  after(() => rx.close());
  afterEach(async () => {
    await h?.close();
    h = undefined;
    rx.requests.length = 0;
  });
  const hook = { name: 'hook', kind: 'webhook', url: `http://127.0.0.1/replaced` };
  const start = async (opts: Parameters<typeof startHarness>[2] = {}) => {
    rx.requests.length = 0;
    times = [];
    h = await startHarness([{ ...hook, url: `${rx.url}/hook` }], {}, opts);
    const harness = h;
    rx.answer(() => {
      times.push(harness.clock.now());
      return { status: 204 };
    });
    return harness;
  };
  const bodies = () => rx.requests.map((r) => r.json as Body);

  test('the first of a group goes at once; what follows within group_interval goes as one message', async () => {
    const h = await start();
    await h.accept(await of(h, 'firing', 1));
    assert.deepEqual(times, [T0], 'a lone alert: no fake time passed');
    assert.equal(bodies()[0]!.type, 'alert.firing', 'a lone alert goes in its own format');
    assert.deepEqual(bodies()[0]!.data.group, {
      key: 'api_response_time',
      rule: 'api_response_time',
      labels: {},
      open: 1,
    });

    await h.advance(10_000);
    await h.accept(await of(h, 'firing', 2));
    await h.accept(await of(h, 'firing', 3, 'error_rate'));
    assert.deepEqual(times, [T0, T0 + 10_000], 'another rule is another group: at once');
    await h.advance(20_000);
    await h.accept(await of(h, 'firing', 4));
    await h.advance(29_000);
    assert.equal(rx.requests.length, 2, 'nothing before the group interval ends');
    await h.advance(1000);
    assert.deepEqual(times, [T0, T0 + 10_000, T0 + 60_000]);
    const g = bodies()[2]!;
    assert.equal(g.type, 'alert.group');
    assert.deepEqual(
      g.data.alerts!.map((a) => a.alert.id),
      ['al_api_response_time_4', 'al_api_response_time_2'],
      'worst first',
    );
    assert.equal(g.data.summary, 'HIGH: api_response_time: 2 alerts firing');
    await h.advance(120_000, 10_000);
    assert.equal(rx.requests.length, 3, 'nothing more');
    const delivered = await h.store.outbox.list(['delivered']);
    assert.equal(delivered.length, 4, 'each alert keeps its own row');
  });

  test('a hold (one evaluation pass) gives one message however many transactions it commits', async () => {
    const h = await start();
    const release = h.pipeline.sink.hold();
    for (let tx = 0; tx < 3; tx++) {
      const ts: AlertTransition[] = [];
      for (let i = 0; i < 5; i++) ts.push(await of(h, 'firing', tx * 5 + i));
      await h.store.transaction(async (t) => {
        for (const tr of ts) await h.pipeline.sink.accept(t, tr, h.clock.now());
      });
      await h.settle(); // the worker woke after each commit and looked
    }
    await h.advance(5000, 5000); // and polled
    assert.equal(rx.requests.length, 0, 'held while the pass writes');
    release();
    await h.settle();
    assert.equal(rx.requests.length, 1);
    const g = bodies()[0]!;
    assert.deepEqual([g.type, g.data.counts?.alerts], ['alert.group', 15]);
    assert.match(g.data.notification_id, /^ng_/);
  });

  test('a resolution never overtakes its firing: it goes with the next message of the group', async () => {
    const h = await start();
    const release = h.pipeline.sink.hold();
    await h.accept(await of(h, 'firing', 1), { settle: false });
    await h.accept(await of(h, 'firing', 2), { settle: false });
    await h.clock.advance(1);
    await h.accept(await of(h, 'resolved', 1), { settle: false });
    release();
    await h.settle();
    assert.deepEqual(
      bodies()[0]!.data.alerts!.map((a) => [a.alert.id, a.event]),
      [
        ['al_api_response_time_2', 'firing'],
        ['al_api_response_time_1', 'firing'],
      ],
    );
    await h.advance(60_000, 10_000);
    assert.equal(rx.requests.length, 2);
    const second = bodies()[1]!;
    assert.deepEqual(
      [second.type, second.data.alert?.id, second.data.group?.open],
      ['alert.resolved', 'al_api_response_time_1', 1],
    );
  });

  test('a crash between send and record re-sends the group message with the same id and members', async () => {
    // The first process stops dead right after the send returned, before recording it.
    const dead = new AbortController();
    const h0 = await start({
      afterSend: () =>
        new Promise<void>((_, reject) =>
          dead.signal.addEventListener('abort', () => reject(new Error('process died'))),
        ),
    });
    const dir = h0.config.dataDir;
    const release = h0.pipeline.sink.hold();
    for (let i = 1; i <= 3; i++) await h0.accept(await of(h0, 'firing', i), { settle: false });
    release();
    await rx.waitFor(1);
    const stopped = h0.pipeline.stop();
    dead.abort();
    await stopped;
    const left = await h0.store.outbox.pending();
    assert.equal(left.length, 3, 'sent but not recorded: still pending');
    assert.equal(new Set(left.map((i) => i.batchId)).size, 1, 'claimed by one group message');
    await h0.store.close();
    h = await startHarness([{ ...hook, url: `${rx.url}/hook` }], {}, { dir });
    await h.settle();
    assert.equal(rx.requests.length, 2);
    const [a, b] = rx.requests;
    assert.equal(
      b!.headers['webhook-id'],
      a!.headers['webhook-id'],
      'the same id: receivers can deduplicate',
    );
    assert.equal(b!.body.replace(/"timestamp":"[^"]*"/, ''), a!.body.replace(/"timestamp":"[^"]*"/, ''));
    assert.equal((await h.store.outbox.list(['delivered'])).length, 3);
    await h.advance(120_000, 10_000);
    assert.equal(rx.requests.length, 2, 'sent once more, not again');
  });

  test('grouping off: each transition goes on its own, as before', async () => {
    const h = await start({ grouping: { enabled: false } });
    await h.accept(await of(h, 'firing', 1));
    await h.accept(await of(h, 'firing', 2));
    assert.deepEqual(
      bodies().map((b) => [b.type, b.data.alert?.id, b.data.group]),
      [
        ['alert.firing', 'al_api_response_time_1', undefined],
        ['alert.firing', 'al_api_response_time_2', undefined],
      ],
    );
  });
});

describe('grouped PagerDuty: one incident per group', () => {
  let rx: HttpReceiver;
  let h: Harness | undefined;
  before(async () => {
    rx = await startHttpReceiver();
    rx.answer((r) => ({ status: checkPagerDutyEvent(r.json).length ? 400 : 202 }));
  });
  after(() => rx.close());
  afterEach(() => h?.close());

  test('dedup_key per group; a resolution triggers while others stay open, the last one resolves', async () => {
    h = await startHarness([{ name: 'pd', kind: 'pagerduty', routing_key: 'rk', url: rx.url, source: 's' }]);
    await h.accept(await of(h, 'firing', 1));
    await h.advance(10_000);
    await h.accept(await of(h, 'firing', 2));
    await h.advance(60_000, 10_000);
    await h.accept(await of(h, 'resolved', 1));
    await h.advance(60_000, 10_000);
    await h.accept(await of(h, 'resolved', 2));
    await h.advance(60_000, 10_000);
    const events = rx.requests.map(
      (r) => r.json as { event_action: string; dedup_key: string; payload?: { summary: string } },
    );
    assert.deepEqual(
      events.map((e) => [e.event_action, e.dedup_key, e.payload?.summary]),
      [
        [
          'trigger',
          'prodmon-group:api_response_time',
          'HIGH: api_response_time is firing: p95 of /1 is 701 ms',
        ],
        [
          'trigger',
          'prodmon-group:api_response_time',
          'HIGH: api_response_time is firing: p95 of /2 is 702 ms',
        ],
        [
          'trigger',
          'prodmon-group:api_response_time',
          'api_response_time: Resolved: 1 alert. Still open in this group: 1',
        ],
        ['resolve', 'prodmon-group:api_response_time', undefined],
      ],
    );
  });
});
