/**
 * The alert engine and deploy markers, on a fake clock and a real SQLite store: the marker an alert
 * starts firing after is kept in its metadata and handed to the notifiers, once; the window and its
 * `0s` off switch; a failing read of the markers costs only the annotation, logged once.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { FakeClock, testEngine, testStore } from '../../test/support/alerting.js';
import { newId } from '../core/ids.js';
import { deployOf } from '../deployments/annotate.js';
import { METRIC } from '../metrics/names.js';
import type { Store } from '../store/index.js';
import { deployText } from './message.js';

const M = 60_000;
const T0 = Date.UTC(2026, 2, 2, 10, 0, 0);
const HTTP = METRIC.httpRequest;
const checkout = { route: '/checkout' };

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function setup(deployWindowMs?: number, wrap?: (s: Store) => Store) {
  const { store, cleanup } = await testStore();
  const clock = new FakeClock(T0);
  const errors: string[] = [];
  const t = testEngine({
    store: wrap ? wrap(store) : store,
    clock,
    // A critical breach fires at once (`for` 0 at the critical level).
    extra: {
      ...(deployWindowMs !== undefined ? { deployWindowMs } : {}),
      logger: { error: { error: (_o: object, msg?: string) => errors.push(msg ?? '') } },
    },
  });
  await t.engine.start({ loop: false });
  cleanups.push(cleanup, () => t.engine.stop());
  const mark = (version: string, at: number, instance: string | null = null) =>
    store.deployments.record({ id: newId(at, 'dp_'), version, instance, note: null, at, by: 'ci' });
  return { store, clock, errors, ...t, mark };
}

describe('alerts after a deploy', () => {
  test('the firing keeps the marker it follows, the notification carries it, and it stays through resolution', async () => {
    const { store, clock, metrics, engine, sink, mark } = await setup();
    await mark('v1.4.2', T0 - 3 * M - 20_000);
    metrics.set(HTTP, checkout, 2600);
    await engine.evaluateNow();
    const [fired] = sink.transitions;
    assert.equal(fired?.kind, 'firing');
    assert.equal(deployText(fired!.alert), 'firing 3 min after deploy v1.4.2');
    const stored = (await store.alerts.listOpen())[0]!;
    assert.deepEqual(deployOf(stored.metadata), deployOf(fired!.alert.metadata));
    const [event] = await store.alerts.events(stored.id);
    assert.equal((event?.detail.deploy as { version?: string } | undefined)?.version, 'v1.4.2');

    // A newer marker after the alert fired changes nothing: the alert fired after v1.4.2.
    clock.set(T0 + M);
    await mark('v1.4.3', T0 + 30_000);
    await engine.evaluateNow();
    clock.set(T0 + 2 * M);
    metrics.set(HTTP, checkout, 100);
    await engine.evaluateNow();
    const resolved = sink.transitions.at(-1)!;
    assert.equal(resolved.kind, 'resolved');
    assert.equal(deployText(resolved.alert), 'fired 3 min after deploy v1.4.2');
  });

  test('outside the window, or with the window off, an alert names no deploy', async () => {
    const late = await setup(10 * M);
    await late.mark('v1', T0 - 10 * M - 1);
    late.metrics.set(HTTP, checkout, 2600);
    await late.engine.evaluateNow();
    assert.equal(late.sink.transitions[0]?.kind, 'firing');
    assert.equal(deployOf(late.sink.transitions[0]!.alert.metadata), null);

    const off = await setup(0);
    await off.mark('v2', T0 - 1000);
    off.metrics.set(HTTP, checkout, 2600);
    await off.engine.evaluateNow();
    assert.equal(off.sink.transitions[0]?.kind, 'firing');
    assert.equal(deployText(off.sink.transitions[0]!.alert), '');
  });

  test('markers that cannot be read: alerts still fire and are notified, the failure logged once', async () => {
    const failing = (s: Store): Store => ({
      ...s,
      deployments: {
        record: (d) => s.deployments.record(d),
        list: () => Promise.reject(new Error('deployments table unreadable')),
        latestByVersion: (v, i) => s.deployments.latestByVersion(v, i),
      },
    });
    const { metrics, engine, sink, errors, clock } = await setup(undefined, failing);
    metrics.set(HTTP, checkout, 2600);
    await engine.evaluateNow();
    clock.set(T0 + 5000);
    metrics.set(HTTP, { route: '/search' }, 2600);
    await engine.evaluateNow();
    assert.deepEqual(
      sink.transitions.map((t) => [t.kind, t.alert.labels.route, deployText(t.alert)]),
      [
        ['firing', '/checkout', ''],
        ['firing', '/search', ''],
      ],
    );
    assert.deepEqual(
      errors.filter((e) => e.includes('deploy markers')),
      ['reading deploy markers failed; alerts firing meanwhile do not name a deploy'],
    );
  });
});
