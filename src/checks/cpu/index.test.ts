import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkFrom } from '../../../test/support/health.js';
import { FakeClock } from '../../core/clock.js';
import { Sustain } from '../sustain.js';
import { utilisation } from './index.js';

describe('cpu check', () => {
  test('utilisation is busy time over total time between two readings', () => {
    assert.equal(utilisation({ busy: 100, total: 1000 }, { busy: 400, total: 2000 }), 30);
    assert.equal(utilisation({ busy: 1, total: 1 }, { busy: 1, total: 1 }), null);
  });

  test('the first run samples a short window; later runs measure since the previous one', async () => {
    const { run } = checkFrom({ name: 'cpu', kind: 'cpu', window: '100ms' });
    const first = await run();
    assert.ok(
      Number(first.details.windowMs) >= 95 && Number(first.details.windowMs) < 1000,
      String(first.details.windowMs),
    );
    assert.ok(first.responseTimeMs >= 95);
    const firstEnded = performance.now();
    await new Promise((r) => setTimeout(r, 150));
    const secondStarted = performance.now();
    const second = await run();
    // Measured from the first run's reading, no new window waited: the window spans the whole pause
    // between the runs (a fresh 100 ms window would be shorter than the 150 ms pause).
    const pause = secondStarted - firstEnded;
    assert.ok(
      Number(second.details.windowMs) >= pause - 1,
      `window ${second.details.windowMs} ms, pause ${pause} ms`,
    );
    assert.equal((second.details.loadAverage as number[]).length, 3);
    assert.ok(Number(second.details.cores) >= 1);
  });

  test('a level counts only once it has held for `for` (default 1m): a busy moment is not a sick host', async () => {
    const clock = new FakeClock();
    const { run } = checkFrom(
      { name: 'cpu', kind: 'cpu', window: '50ms', thresholds: { warning: 0, critical: 100 } },
      { clock },
    );
    const first = await run();
    assert.equal(first.status, 'healthy');
    assert.equal(first.details.forMs, 60_000);
    await clock.advance(59_000);
    assert.equal((await run()).status, 'healthy');
    await clock.advance(1_000);
    const held = await run();
    assert.notEqual(held.status, 'healthy');
    assert.match(
      held.error ?? '',
      /^CPU [\d.]+% used for 60s \((warning threshold 0|critical threshold 100)%\)$/,
    );
  });

  test('with `for: 0s` the first reading counts', async () => {
    const r = await checkFrom({
      name: 'cpu',
      kind: 'cpu',
      window: '50ms',
      for: '0s',
      thresholds: { warning: 0, critical: 0 },
    }).run();
    assert.equal(r.status, 'unhealthy');
  });
});

describe('Sustain', () => {
  test('reports a level after it held for the period, and drops it as soon as the raw level does', () => {
    const s = new Sustain(1000);
    assert.deepEqual(s.update('unhealthy', 0), { status: 'healthy', heldMs: 0 });
    assert.equal(s.update('degraded', 600).status, 'healthy');
    assert.equal(
      s.update('unhealthy', 1000).status,
      'degraded',
      'degraded-or-worse has held 1 s; unhealthy only 0 s',
    );
    assert.equal(s.update('unhealthy', 2000).status, 'unhealthy');
    assert.equal(s.update('healthy', 2100).status, 'healthy');
    assert.equal(s.update('degraded', 2200).status, 'healthy', 'the clock starts again');
  });
});
