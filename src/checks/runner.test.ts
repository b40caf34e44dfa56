import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FakeClock, flushAsync, systemClock } from '../core/clock.js';
import { normalize, runCheck, runChecks } from './runner.js';
import type { CheckOutcome, HealthCheck } from './types.js';

function check(
  run: (signal: AbortSignal) => Promise<CheckOutcome>,
  over: Partial<HealthCheck> = {},
): HealthCheck {
  return { name: 'c', kind: 'test', critical: true, timeout: 2000, run, ...over };
}

describe('runCheck', () => {
  test('a check that never answers is unhealthy "timed out after 2000 ms" and its signal is aborted', async () => {
    const clock = new FakeClock();
    let signal: AbortSignal | undefined;
    const hung = check((s) => {
      signal = s;
      return new Promise(() => {});
    });
    const p = runCheck(hung, { clock });
    await flushAsync();
    assert.equal(signal?.aborted, false);
    await clock.advance(1999);
    let done = false;
    void p.then(() => {
      done = true;
    });
    await flushAsync();
    assert.equal(done, false, 'not before its timeout');
    await clock.advance(1);
    const r = await p;
    assert.equal(r.status, 'unhealthy');
    assert.equal(r.error, 'timed out after 2000 ms');
    assert.equal(signal?.aborted, true, 'the work is cancelled');
    assert.match(String((signal?.reason as Error | undefined)?.message), /timed out/);
  });

  test("a check that throws is unhealthy with the message, and the throw is reported as prodmon's own failure", async () => {
    const seen: string[] = [];
    const r = await runCheck(
      check(async () => {
        throw new TypeError('cannot read properties of undefined');
      }),
      { clock: new FakeClock(), onCheckError: (c, err) => seen.push(`${c.name}: ${(err as Error).message}`) },
    );
    assert.equal(r.status, 'unhealthy');
    assert.equal(r.error, 'check failed: cannot read properties of undefined');
    assert.deepEqual(seen, ['c: cannot read properties of undefined']);
  });

  test('a synchronous throw inside run is caught too', async () => {
    const r = await runCheck(
      check(() => {
        throw new Error('sync');
      }),
      { clock: new FakeClock() },
    );
    assert.equal(r.error, 'check failed: sync');
  });

  test('a finished check gets name, kind, critical, checkedAt and its response time', async () => {
    const clock = new FakeClock(5000);
    let t = 100;
    const r = await runCheck(
      check(
        async () => {
          t += 42.25;
          return { status: 'degraded', details: { n: 10n }, error: 'slow' };
        },
        { critical: false, name: 'db', kind: 'postgres' },
      ),
      { clock, now: () => t },
    );
    assert.deepEqual(r, {
      name: 'db',
      kind: 'postgres',
      critical: false,
      checkedAt: 5000,
      responseTimeMs: 42.3,
      status: 'degraded',
      details: { n: '10' },
      error: 'slow',
    });
  });

  test('stopping (the parent signal) cancels the check and says so', async () => {
    const ctl = new AbortController();
    let signal: AbortSignal | undefined;
    const p = runCheck(
      check((s) => {
        signal = s;
        return new Promise(() => {});
      }),
      { clock: systemClock, signal: ctl.signal },
    );
    ctl.abort(new Error('prodmon is stopping'));
    const r = await p;
    assert.equal(signal?.aborted, true);
    assert.equal(r.error, 'cancelled: prodmon is stopping');
  });

  test('checks run in parallel: every check has started before the first one ends', async () => {
    // Each check ends only once all four are running: run one after another, the first would wait
    // for the others until its timeout.
    let started = 0;
    let allRunning!: () => void;
    const allStarted = new Promise<void>((r) => {
      allRunning = r;
    });
    const slow = (name: string) =>
      check(
        async () => {
          if (++started === 4) allRunning();
          await allStarted;
          return { status: 'healthy' };
        },
        { name },
      );
    const results = await runChecks([slow('a'), slow('b'), slow('c'), slow('d')], { clock: systemClock });
    assert.deepEqual(
      results.map((r) => [r.name, r.status]),
      [
        ['a', 'healthy'],
        ['b', 'healthy'],
        ['c', 'healthy'],
        ['d', 'healthy'],
      ],
    );
  });
});

describe('normalize', () => {
  test('an unknown status is unhealthy, a failure without an error gets one, healthy drops the error', () => {
    assert.deepEqual(normalize({ status: 'fine' as never }), {
      status: 'unhealthy',
      details: {},
      error: 'the check returned no valid status',
    });
    assert.deepEqual(normalize({ status: 'degraded' }), {
      status: 'degraded',
      details: {},
      error: 'degraded',
    });
    assert.deepEqual(normalize({ status: 'healthy', error: 'x' }), {
      status: 'healthy',
      details: {},
      error: null,
    });
  });
});
