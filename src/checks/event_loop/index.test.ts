import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkFrom } from '../../../test/support/health.js';
import { FakeClock } from '../../core/clock.js';

function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy: the event loop cannot turn
  }
}

describe('event_loop check', () => {
  test('a level counts only once it has held for `for` (default 30s)', async () => {
    const clock = new FakeClock();
    const { check, run } = checkFrom(
      { name: 'loop', kind: 'event_loop', window: '20ms', thresholds: { warning: '0ms', critical: '1h' } },
      { clock },
    );
    try {
      assert.equal((await run()).status, 'healthy');
      await clock.advance(29_000);
      assert.equal((await run()).status, 'healthy');
      await clock.advance(1_000);
      assert.equal((await run()).status, 'degraded');
    } finally {
      await check.close?.();
    }
  });

  test('an idle loop is healthy with p99 reported', async () => {
    const { check, run } = checkFrom({ name: 'loop', kind: 'event_loop', window: '100ms' });
    try {
      const r = await run();
      assert.equal(r.status, 'healthy', r.error ?? '');
      assert.ok(Number(r.details.samples) > 0);
      // A lag, whatever the machine's load: its size is not asserted.
      assert.ok(
        Number.isFinite(Number(r.details.p99Ms)) && Number(r.details.p99Ms) >= 0,
        String(r.details.p99Ms),
      );
    } finally {
      await check.close?.();
    }
  });

  test('a blocked loop since the previous run is degraded, then unhealthy past the critical threshold', async () => {
    const { check, run } = checkFrom({
      name: 'loop',
      kind: 'event_loop',
      window: '50ms',
      for: '0s',
      thresholds: { warning: '100ms', critical: '400ms' },
    });
    try {
      await run();
      await new Promise((r) => setTimeout(r, 30)); // the histogram restarts on its next tick after a run
      block(200);
      await new Promise((r) => setTimeout(r, 30));
      const degraded = await run();
      assert.equal(degraded.status, 'degraded', JSON.stringify(degraded.details));
      assert.match(degraded.error ?? '', /^event-loop delay p99 [\d.]+ ms \(warning threshold 100 ms\)$/);
      await new Promise((r) => setTimeout(r, 30));
      block(500);
      await new Promise((r) => setTimeout(r, 30));
      assert.equal((await run()).status, 'unhealthy');
      await new Promise((r) => setTimeout(r, 100));
      assert.equal((await run()).status, 'healthy', 'each run measures since the previous one');
    } finally {
      await check.close?.();
    }
  });
});
