/** Manual resolution: audit trail, notification of the resolution, re-fire only after the cooldown. */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { FakeClock, history, testEngine, testStore } from '../../test/support/alerting.js';
import { METRIC } from '../metrics/names.js';
import { alertActions } from './actions.js';
import { resolveAlert } from './resolve.js';

const M = 60_000;
const T0 = Date.UTC(2026, 2, 2, 10, 0, 0);
const HTTP = METRIC.httpRequest;
const checkout = { route: '/checkout' };

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function setup() {
  const { store, cleanup } = await testStore();
  const clock = new FakeClock(T0);
  const security: { obj: object; msg?: string }[] = [];
  const logger = { security: { warn: (obj: object, msg?: string) => security.push({ obj, msg }) } };
  const t = testEngine({ store, clock, extra: { logger } });
  await t.engine.start({ loop: false });
  cleanups.push(cleanup, () => t.engine.stop());
  const at = async (ms: number, p95: number | null) => {
    clock.set(T0 + ms);
    t.metrics.set(HTTP, checkout, p95);
    await t.engine.evaluateNow();
  };
  const actions = alertActions({ store, clock, logger, engine: t.engine });
  return { store, clock, ...t, at, security, actions };
}

describe('manual resolution', () => {
  test('is audited (who, when, why), told, and a still-breaching alert re-fires only after the cooldown', async () => {
    const { store, clock, sink, at, security, actions } = await setup();
    await at(0, 2500);
    const [open] = await store.alerts.listOpen();
    clock.set(T0 + 1 * M);
    const resolved = await actions.resolve({ id: open!.id, reason: 'rolled back the deploy', actor: 'ops' });
    assert.deepEqual(resolved.resolution, {
      kind: 'manual',
      by: 'ops',
      at: T0 + M,
      reason: 'rolled back the deploy',
    });
    await at(2 * M, 2500);
    await at(15 * M, 2500);
    await at(16 * M - 1, 2500);
    await at(16 * M, 2500);
    assert.deepEqual(await history(store, T0), [
      '+0s api_response_time firing critical',
      '+60s api_response_time resolved critical',
      '+960s api_response_time firing critical',
    ]);
    assert.deepEqual(sink.lines(), [
      '+0s api_response_time firing critical',
      '+60s api_response_time resolved critical',
      '+960s api_response_time firing critical',
    ]);
    const ev = (await store.alerts.events(open!.id)).find((e) => e.kind === 'resolved')!;
    assert.equal(ev.actor, 'ops');
    assert.equal(ev.detail.reason, 'rolled back the deploy');
    const audit = (await store.audit.list({ target: open!.id })).find((e) => e.action === 'alert.resolve')!;
    assert.deepEqual([audit.actor, audit.at, audit.detail.reason], ['ops', T0 + M, 'rolled back the deploy']);
    assert.equal(security.length, 1);
    assert.match(JSON.stringify(security[0]!.obj), /"actor":"ops".*"reason":"rolled back the deploy"/);
  });

  test('answers 404 for an unknown id, 409 when already resolved, 400 without a reason', async () => {
    const { store, engine, at } = await setup();
    await at(0, 2500);
    const [open] = await store.alerts.listOpen();
    await assert.rejects(engine.resolve({ id: 'al_nope', reason: 'x', actor: 'ops' }), {
      code: 'PRODMON_E_NOT_FOUND',
    });
    await assert.rejects(engine.resolve({ id: open!.id, reason: '  ', actor: 'ops' }), {
      code: 'PRODMON_E_BAD_REQUEST',
    });
    await engine.resolve({ id: open!.id, reason: 'fixed', actor: 'ops' });
    await assert.rejects(engine.resolve({ id: open!.id, reason: 'again', actor: 'ops' }), {
      code: 'PRODMON_E_CONFLICT',
      message: new RegExp(`alert ${open!.id} was already resolved at .* by ops`),
    });
  });

  test('a resolution by another process (no sink, e.g. the CLI) is handed over by the engine, once', async () => {
    const { store, clock, engine, sink, at } = await setup();
    await at(0, 2500);
    const [open] = await store.alerts.listOpen();
    clock.set(T0 + M);
    await store.transaction((tx) =>
      resolveAlert(tx, { id: open!.id, reason: 'by hand', actor: 'cli:ana', now: T0 + M }),
    );
    await at(2 * M, 2500);
    await at(3 * M, 2500);
    assert.deepEqual(sink.lines(), [
      '+0s api_response_time firing critical',
      '+120s api_response_time resolved critical',
    ]);
    const ev = (await store.alerts.events(open!.id)).find((e) => e.kind === 'resolved')!;
    assert.equal(sink.transitions[1]!.id, ev.id);
    // The engine did not overwrite the manual resolution with its own view of the alert.
    const stored = await store.alerts.get(open!.id);
    assert.deepEqual([stored?.status, stored?.resolution?.by], ['resolved', 'cli:ana']);
    assert.deepEqual(await store.alerts.listOpen(), []);
    void engine;
  });

  test('an alert that was never told (resolved while pending) gets no resolution notification', async () => {
    const { store, engine, sink, at } = await setup();
    await at(0, 800);
    const [pending] = await store.alerts.listOpen();
    assert.equal(pending!.status, 'pending');
    await engine.resolve({ id: pending!.id, reason: 'known slow endpoint', actor: 'ops' });
    assert.deepEqual(sink.lines(), []);
    const ev = (await store.alerts.events(pending!.id)).find((e) => e.kind === 'resolved')!;
    assert.equal(ev.detail.notified, false);
  });
});
