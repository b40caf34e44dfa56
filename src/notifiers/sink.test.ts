import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { configWith, sampleAlert, T0, transition } from '../../test/support/notify-fixtures.js';
import { STORE_FIXTURES } from '../../test/support/stores.js';
import type { Store } from '../store/index.js';
import { alertLink } from './message.js';
import { GroupHolds } from './outbox/holds.js';
import type { RouteChannel } from './routing.js';
import { NotificationSink } from './sink.js';

const config = configWith([
  { name: 'mail', kind: 'webhook', url: 'http://127.0.0.1:1/mail' },
  { name: 'pager', kind: 'pagerduty', routing_key: 'k', severities: ['critical'] },
  { name: 'boss', kind: 'webhook', url: 'http://127.0.0.1:1/boss', escalation_only: true },
]);

for (const fixture of STORE_FIXTURES) {
  describe(`notification sink on ${fixture.name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    const woken: string[][] = [];
    const sink = new NotificationSink({
      channels: config.notifications.channels as RouteChannel[],
      link: (id) => alertLink(config, id),
      onEnqueued: (keys) => void woken.push(keys),
    });
    before(async () => {
      ({ store, cleanup } = await fixture.open());
    });
    after(() => cleanup());
    const keysOf = async (alertId: string) => (await store.outbox.forAlert(alertId)).map((i) => i.key).sort();

    test('one outbox row per routed channel, keyed transition:channel, with the payload and link', async () => {
      const t = transition('firing', sampleAlert({ id: 'al_a', severity: 'critical' }));
      const before = woken.length;
      await store.transaction(async (tx) => {
        await sink.accept(tx, t, T0);
        assert.equal(woken.length, before, 'no wake before the commit: the worker could not see the rows');
      });
      assert.equal(woken.length, before + 1, 'woken once, after the commit');
      assert.deepEqual(await keysOf('al_a'), [`${t.id}:mail`, `${t.id}:pager`]);
      const [item] = await store.outbox.forAlert('al_a');
      assert.equal(item!.transition, 'firing');
      assert.equal(item!.payload.link, 'https://prodmon.example/production/dashboard/#/alerts/al_a');
      assert.equal((item!.payload.alert as { severity: string }).severity, 'critical');
      assert.deepEqual(woken.at(-1), [`${t.id}:mail`, `${t.id}:pager`]);
    });

    test('accepting the same transition again writes nothing (unique key)', async () => {
      const t = transition('firing', sampleAlert({ id: 'al_a', severity: 'critical' }));
      const before = woken.length;
      await store.transaction((tx) => sink.accept(tx, t, T0 + 5));
      assert.equal((await store.outbox.forAlert('al_a')).length, 2);
      assert.equal(woken.length, before, 'nothing new: no wake');
    });

    test('an escalation adds the escalation-only channel; the resolution goes to every channel told', async () => {
      const a = sampleAlert({ id: 'al_a', severity: 'critical' });
      const esc = transition('escalation', a, { at: T0 + 1800_000 });
      await store.transaction((tx) => sink.accept(tx, esc, esc.at));
      const res = transition('resolved', sampleAlert({ id: 'al_a', severity: 'medium' }), {
        at: T0 + 3600_000,
      });
      await store.transaction((tx) => sink.accept(tx, res, res.at));
      const resolved = (await store.outbox.forAlert('al_a')).filter((i) => i.transition === 'resolved');
      assert.deepEqual(resolved.map((i) => i.channel).sort(), ['boss', 'mail', 'pager']);
    });

    test('a low alert goes nowhere; a rolled-back transaction leaves no rows and wakes nobody', async () => {
      const before = woken.length;
      await store.transaction((tx) =>
        sink.accept(tx, transition('firing', sampleAlert({ id: 'al_low', severity: 'low' })), T0),
      );
      assert.deepEqual(await keysOf('al_low'), []);
      await assert.rejects(
        store.transaction(async (tx) => {
          await sink.accept(tx, transition('firing', sampleAlert({ id: 'al_rb' })), T0);
          throw new Error('engine failed after the sink');
        }),
      );
      assert.deepEqual(await keysOf('al_rb'), []);
      assert.equal(woken.length, before, 'no wake for rows that were never committed');
    });

    test('rows of a group held by an evaluation pass wake the worker once, at the release, not at the commit', async () => {
      const released: number[] = [];
      const holds = new GroupHolds(() => released.push(woken.length));
      const grouped = new NotificationSink({
        channels: config.notifications.channels as RouteChannel[],
        link: () => null,
        onEnqueued: (keys) => void woken.push(keys),
        grouping: { groupBy: [] },
        holds,
      });
      const before = woken.length;
      const release = grouped.hold();
      for (const id of ['al_g1', 'al_g2']) {
        const t = transition('firing', sampleAlert({ id, fingerprint: id, severity: 'critical' }));
        await store.transaction((tx) => grouped.accept(tx, t, T0));
        assert.equal((await store.outbox.forAlert(id)).length, 2, 'stored at once');
      }
      assert.equal(woken.length, before, 'no wake while the group is held');
      release();
      assert.deepEqual(released, [before], 'the release wakes the worker, once');
      // Without a hold, a grouped row wakes the worker at its commit.
      const t = transition(
        'firing',
        sampleAlert({ id: 'al_g3', fingerprint: 'al_g3', severity: 'critical' }),
      );
      await store.transaction((tx) => grouped.accept(tx, t, T0));
      assert.equal(woken.length, before + 1);
    });
  });
}
