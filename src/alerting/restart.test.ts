/** After prodmon was down: resume from the stored state, no storm, the gap recorded as unknown. */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { FakeClock, history, RecordingSink, testEngine, testStore } from '../../test/support/alerting.js';
import { METRIC } from '../metrics/names.js';
import type { Store } from '../store/index.js';

const M = 60_000;
const H = 60 * M;
const T0 = Date.UTC(2026, 2, 2, 10, 0, 0);
const HTTP = METRIC.httpRequest;
const checkout = { route: '/checkout' };

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

/** An engine "process" on `store`: its own clock position, sink and metrics. */
async function boot(store: Store, at: number) {
  const clock = new FakeClock(T0 + at);
  const sink = new RecordingSink(T0);
  const t = testEngine({ store, clock, sink });
  await t.engine.start({ loop: false });
  cleanups.push(() => t.engine.stop());
  const step = async (ms: number, p95: number | null) => {
    clock.set(T0 + ms);
    t.metrics.set(HTTP, checkout, p95);
    await t.engine.evaluateNow();
  };
  return { ...t, clock, step };
}

for (const driver of ['sqlite', 'postgres'] as const) {
  describe(`restart with state (${driver})`, () => {
    test('a firing alert stays firing: no duplicate firing, no resolve-then-refire; reminder on schedule', async () => {
      const { store, reopen, cleanup } = await testStore(driver);
      cleanups.push(cleanup);
      const first = await boot(store, 0);
      await first.step(0, 2500);
      await first.step(1 * M, 2500);
      await first.engine.stop();

      // Down for two hours; a new process (new connection, new sink) resumes.
      const store2 = await reopen();
      const second = await boot(store2, 2 * H + 1 * M);
      await second.step(2 * H + 1 * M, 2500);
      await second.step(2 * H + 2 * M, 2500);
      await second.step(4 * H, 2500);
      assert.deepEqual(first.sink.lines(), ['+0s api_response_time firing critical']);
      assert.deepEqual(second.sink.lines(), ['+14400s api_response_time reminder critical']);
      assert.deepEqual(await history(store2, T0), [
        '+0s api_response_time firing critical',
        '+7260s api_response_time gap critical',
        '+14400s api_response_time reminder critical',
      ]);
      const [a] = await store2.alerts.listOpen();
      const gap = (await store2.alerts.events(a!.id)).find((e) => e.kind === 'gap')!;
      assert.deepEqual([gap.detail.from, gap.detail.to], [T0 + M, T0 + 2 * H + M]);
    });
  });
}

describe('restart with state', () => {
  test('the gap is unknown, not healthy: staleness counts from the restart, not from before the downtime', async () => {
    const { store, cleanup } = await testStore();
    cleanups.push(cleanup);
    const first = await boot(store, 0);
    await first.step(0, 2500);
    await first.engine.stop();
    const second = await boot(store, 3 * H);
    await second.step(3 * H, null);
    await second.step(3 * H + 29 * M, null);
    await second.step(3 * H + 30 * M, null);
    assert.deepEqual(await history(store, T0), [
      '+0s api_response_time firing critical',
      '+10800s api_response_time gap critical',
      '+12600s api_response_time resolved critical',
    ]);
    assert.deepEqual(second.sink.lines(), ['+12600s api_response_time resolved critical']);
  });

  test('a pending alert must be seen breaching for its whole `for` after a gap', async () => {
    const { store, cleanup } = await testStore();
    cleanups.push(cleanup);
    const first = await boot(store, 0);
    await first.step(0, 800);
    await first.engine.stop();
    const second = await boot(store, 1 * H);
    await second.step(1 * H, 800);
    await second.step(1 * H + 1 * M, 800);
    await second.step(1 * H + 2 * M, 800);
    assert.deepEqual(await history(store, T0), [
      '+0s api_response_time pending medium',
      '+3600s api_response_time gap medium',
      '+3720s api_response_time firing medium',
    ]);
  });

  test('a quick restart (no gap) resumes silently', async () => {
    const { store, cleanup } = await testStore();
    cleanups.push(cleanup);
    const first = await boot(store, 0);
    await first.step(0, 2500);
    await first.engine.stop();
    const second = await boot(store, 30_000);
    await second.step(30_000, 2500);
    await second.step(90_000, 100);
    assert.deepEqual(await history(store, T0), [
      '+0s api_response_time firing critical',
      '+90s api_response_time resolved critical',
    ]);
    assert.deepEqual(second.sink.lines(), ['+90s api_response_time resolved critical']);
  });
});
