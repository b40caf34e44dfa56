import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WaitTimeout, waitFor } from './wait.js';

describe('waitFor', () => {
  test('returns the first truthy value of the condition', async () => {
    let n = 0;
    const got = await waitFor(() => (++n >= 3 ? { n } : undefined), { interval: 0 });
    assert.deepEqual(got, { n: 3 });
  });

  test('a wait that runs out names what was awaited and the last value (a description is made when it fails)', async () => {
    let n = 0;
    const err = await waitFor(
      () => {
        n++;
        return false;
      },
      { timeout: 0, what: () => `a change (after ${n} tries)` },
    ).catch((e: unknown) => e);
    assert.ok(err instanceof WaitTimeout);
    assert.equal(err.last, false);
    assert.match(
      err.message,
      /^timed out after 0 ms \(1 tries\) waiting for a change \(after 1 tries\); the condition last gave false$/,
    );
  });

  test('one more try comes after the deadline: a value that is there by then is returned', async () => {
    let late = false;
    setTimeout(() => {
      late = true;
    }, 50);
    // A condition slower than the whole timeout: the deadline has passed when it returns.
    const got = await waitFor(
      async () => {
        if (late) return 'seen';
        await new Promise((r) => setTimeout(r, 100));
        return '';
      },
      { timeout: 10, interval: 0 },
    );
    assert.equal(got, 'seen');
  });

  test('an error from the condition ends the wait at once', async () => {
    let n = 0;
    await assert.rejects(
      waitFor(
        () => {
          n++;
          throw new Error('the child exited');
        },
        { timeout: 60_000 },
      ),
      /^Error: the child exited$/,
    );
    assert.equal(n, 1);
  });

  test('a bad timeout or interval is refused, naming it', async () => {
    await assert.rejects(
      waitFor(() => true, { timeout: -1 }),
      /timeout must be a number of ms >= 0, got -1/,
    );
    await assert.rejects(
      waitFor(() => true, { interval: Number.NaN }),
      /interval must be a number of ms >= 0, got NaN/,
    );
  });
});
