import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FakeClock } from '../../core/clock.js';
import { ConfigError } from '../../core/errors.js';
import { runCheck } from '../runner.js';
import { customCheck, customOutcome } from './index.js';

describe('custom check', () => {
  test('a boolean, a partial result or nothing become outcomes', () => {
    assert.deepEqual(customOutcome(true), { status: 'healthy' });
    assert.deepEqual(customOutcome(undefined), { status: 'healthy' });
    assert.deepEqual(customOutcome(false), { status: 'unhealthy', error: 'the check returned false' });
    assert.deepEqual(customOutcome({ status: 'degraded', details: { queue: 900 } }), {
      status: 'degraded',
      details: { queue: 900 },
      error: null,
    });
    assert.equal(
      customOutcome({ error: 'queue stuck' }).status,
      'unhealthy',
      'an error without a status is a failure',
    );
    assert.equal(customOutcome({ details: { n: 1 } }).status, 'healthy');
    assert.match(customOutcome({ status: 'ok' as never }).error ?? '', /unknown status "ok"/);
  });

  test("a throw is unhealthy with the error message (a target failure, not prodmon's)", async () => {
    const failures: unknown[] = [];
    const c = customCheck('payments', async () => {
      throw new Error('payment provider answered 502');
    });
    const r = await runCheck(c, { clock: new FakeClock(), onCheckError: (_c, e) => failures.push(e) });
    assert.equal(r.status, 'unhealthy');
    assert.equal(r.error, 'payment provider answered 502');
    assert.equal(r.kind, 'custom');
    assert.deepEqual(failures, []);
  });

  test('the function gets a signal that aborts at the timeout', async () => {
    const clock = new FakeClock();
    let aborted = false;
    const c = customCheck(
      'slow',
      (signal) =>
        new Promise((resolve) => {
          signal.addEventListener('abort', () => {
            aborted = true;
            resolve(true);
          });
        }),
      { timeout: '300ms', critical: false },
    );
    const p = runCheck(c, { clock });
    await clock.advance(300);
    const r = await p;
    assert.equal(r.error, 'timed out after 300 ms');
    assert.equal(r.critical, false);
    assert.equal(aborted, true);
  });

  test("the timeout needs a unit and stays within a check timeout's bounds", () => {
    assert.throws(
      () => customCheck('x', () => true, { timeout: 2000 as never }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.message ===
          'health.register("x"): timeout: 2000 has no unit; write "2000ms" (that is 2s) or "2000s"',
    );
    assert.throws(
      () => customCheck('x', () => true, { timeout: '1h' }),
      /health\.register\("x"\): timeout: must be at most 5m, got "1h"/,
    );
    assert.equal(customCheck('x', () => true, { timeout: '2s' }).timeout, 2000);
  });
});
