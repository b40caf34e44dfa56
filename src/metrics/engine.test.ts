import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testEngine } from '../../test/support/metrics.js';
import { tempDir } from '../../test/support/services.js';
import { STORE_FIXTURES } from '../../test/support/stores.js';
import { waitFor } from '../../test/support/wait.js';
import { createApp } from '../app.js';
import { FakeClock, flushAsync } from '../core/clock.js';
import { PUSH_NOTIFY_MIN_MS } from './engine.js';
import { METRIC } from './names.js';
import { MINUTE_MS } from './rollup.js';

const T0 = Date.UTC(2026, 2, 1, 12, 0, 0);

test('in the app, metrics flush every flush_interval on the clock, samples arrive, and stop flushes the rest', async () => {
  const dir = tempDir();
  const { store, cleanup } = await STORE_FIXTURES[0]!.open();
  const clock = new FakeClock(T0);
  const m = createApp(
    {
      data_dir: dir.path,
      logs: { stdout: false },
      instance: 'app-1',
      metrics: { flush_interval: '10s', sample_interval: '5s' },
    },
    { env: {}, fileLogs: false, clock, store },
  );
  try {
    const labels = { route: '/a', method: 'GET', status_class: '2xx' };
    m.metrics.record(METRIC.httpRequest, labels, 10); // recorded before start: kept until the store is there
    await m.start();
    const stored = async (metric: string) =>
      store.rollups.query({ metrics: [metric], resolution: MINUTE_MS, since: 0, until: T0 + 10 * MINUTE_MS });
    assert.equal((await stored(METRIC.httpRequest)).length, 0);
    // The sampler's tick at 5 s reads /proc and the disks (real I/O, slower on a loaded machine):
    // wait for its reading before the clock reaches the 10 s flush.
    await clock.advance(5_000);
    await waitFor(() => m.metrics.sampler.last, { what: "the sampler's reading at 5 s" });
    await clock.advance(5_000);
    const first = await stored(METRIC.httpRequest);
    assert.deepEqual(
      first.map((r) => [r.instance, r.count]),
      [['app-1', 1]],
    );
    assert.ok((await stored(METRIC.memory)).length > 0, 'the sampler ran and its samples were flushed');
    m.metrics.record(METRIC.httpRequest, labels, 20);
    await m.stop({ drainDelayMs: 0 });
    const last = await stored(METRIC.httpRequest);
    assert.deepEqual(
      last.map((r) => [r.count, r.sum]),
      [[2, 30]],
    );
  } finally {
    await cleanup();
    dir.cleanup();
  }
});

test('pushed data is announced at once, then paced: what comes meanwhile is announced together', async () => {
  const clock = new FakeClock(T0);
  const e = testEngine({ clock });
  const seen: string[][] = [];
  e.onData((m) => seen.push([...m].sort()));
  try {
    e.notifyPushed(['a']);
    await flushAsync();
    assert.deepEqual(seen, [['a']]);
    e.notifyPushed(['b']);
    e.notifyPushed(['c', 'b']);
    await clock.advance(PUSH_NOTIFY_MIN_MS - 1);
    assert.deepEqual(seen, [['a']], 'not before the pause');
    await clock.advance(1);
    assert.deepEqual(seen, [['a'], ['b', 'c']]);
  } finally {
    e.recorder.close();
  }
});
