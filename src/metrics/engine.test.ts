import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testEngine } from '../../test/support/metrics.js';
import { tempDir } from '../../test/support/services.js';
import { STORE_FIXTURES } from '../../test/support/stores.js';
import { waitFor } from '../../test/support/wait.js';
import { createApp } from '../app.js';
import { FakeClock, flushAsync } from '../core/clock.js';
import { EVALUATION_PACE, MAX_PACED_WINDOW_MS } from './engine.js';
import { METRIC } from './names.js';
import { DATA_WINDOW_MS } from './recorder.js';
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

test('pushed data is announced through the same trigger as recorded samples: at once, then once per window', async () => {
  const clock = new FakeClock(T0);
  const e = testEngine({ clock });
  const seen: [number, string[]][] = [];
  e.onData((m) => seen.push([clock.now() - T0, [...m].sort()]));
  try {
    e.notifyPushed(['a']);
    await flushAsync();
    assert.deepEqual(seen, [[0, ['a']]]);
    e.notifyPushed(['b']);
    await clock.advance(10);
    e.notifyPushed(['c', 'b']);
    e.record('d', {}, 1); // a recorded sample joins the same window
    await clock.advance(DATA_WINDOW_MS - 11);
    assert.deepEqual(seen, [[0, ['a']]], 'not before the window ends');
    await clock.advance(1);
    assert.deepEqual(seen, [
      [0, ['a']],
      [DATA_WINDOW_MS, ['b', 'c', 'd']],
    ]);
  } finally {
    e.recorder.close();
  }
});

test('the data window grows with the CPU time of the evaluations it starts: 20 times their average', () => {
  const clock = new FakeClock(T0);
  const e = testEngine({ clock, alerting: { coalesce_window: '30ms' } });
  try {
    assert.equal(EVALUATION_PACE, 20);
    assert.equal(e.dataWindow(), 30, 'no evaluations yet: the configured window');
    e.evaluated(5);
    e.evaluated(3);
    // 8 ms since the last window, averaged with the 0 before: 4 ms, so a window of 80 ms.
    assert.equal(e.dataWindow(), 80);
    assert.equal(e.dataWindow(), 40, 'no evaluations meanwhile: the average halves');
    assert.equal(e.dataWindow(), 30, 'never under the configured window');
  } finally {
    e.recorder.close();
  }
});

test("the paced data window is at most half a second, or twice the evaluations' cost when that is longer", () => {
  const clock = new FakeClock(T0);
  const e = testEngine({ clock, alerting: { coalesce_window: '30ms' } });
  try {
    assert.equal(MAX_PACED_WINDOW_MS, 500);
    // One evaluation of 140 ms (a minute settling): 70 ms on average, 1.4 s paced, capped.
    e.evaluated(140);
    assert.equal(e.dataWindow(), 500);
    // Evaluations of 1.2 s a window: each costs more than half the cap, and the window is twice the average.
    e.evaluated(1200);
    assert.equal(e.dataWindow(), 2 * ((70 + 1200) / 2));
    e.evaluated(1200);
    assert.equal(e.dataWindow(), 2 * ((635 + 1200) / 2));
    assert.equal(
      e.dataWindow(),
      917.5,
      'none meanwhile: the average halves (459 ms), still over half the cap',
    );
    assert.equal(e.dataWindow(), 500, 'halved again (229 ms): capped');
  } finally {
    e.recorder.close();
  }
});

test('a configured window longer than the cap is kept', () => {
  const clock = new FakeClock(T0);
  const e = testEngine({ clock, alerting: { coalesce_window: '2s' } });
  try {
    e.evaluated(200);
    assert.equal(e.dataWindow(), 2000);
  } finally {
    e.recorder.close();
  }
});
