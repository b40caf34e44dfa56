/** The leading-edge trigger, on the fake clock: when runs happen, and how many. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FakeClock, flushAsync } from './clock.js';
import { Trigger } from './trigger.js';

const W = 100;

/** A trigger whose runs record the fake time they started at. */
function recorded(opts: { windowMs?: number | (() => number); run?: () => void | Promise<void> } = {}) {
  const clock = new FakeClock(0);
  const runs: number[] = [];
  const errors: unknown[] = [];
  const trigger = new Trigger({
    clock,
    windowMs: opts.windowMs ?? W,
    run: () => {
      runs.push(clock.now());
      return opts.run?.();
    },
    onError: (err) => errors.push(err),
  });
  return { clock, runs, errors, trigger };
}

describe('Trigger', () => {
  test('a burst of N inputs: exactly one run at once, and one trailing run at the window end', async () => {
    const { clock, runs, trigger } = recorded();
    trigger.fire();
    await flushAsync(); // the end of the turn; the clock has not moved
    assert.deepEqual(runs, [0], 'the first input runs at once');
    for (let i = 1; i <= 20; i++) {
      await clock.advance(4); // the rest of the burst, inside the window
      trigger.fire();
    }
    assert.deepEqual(runs, [0], 'the inputs within the window wait');
    await clock.advance(W - 80 - 1);
    assert.deepEqual(runs, [0], 'not before the window ends');
    await clock.advance(1);
    assert.deepEqual(runs, [0, W], 'one trailing run for the 20 inputs, at the window end');
    await clock.advance(10 * W);
    assert.deepEqual(runs, [0, W], 'nothing more without input');
  });

  test('inputs of one turn are one run, with no trailing run', async () => {
    const { clock, runs, trigger } = recorded();
    for (let i = 0; i < 5; i++) trigger.fire();
    await flushAsync();
    assert.deepEqual(runs, [0]);
    await clock.advance(5 * W);
    assert.deepEqual(runs, [0]);
  });

  test('an input after a quiet window runs at once again', async () => {
    const { clock, runs, trigger } = recorded();
    trigger.fire();
    await flushAsync();
    await clock.advance(W); // the window ends with nothing pending
    await clock.advance(37);
    trigger.fire();
    await flushAsync();
    assert.deepEqual(runs, [0, W + 37], 'the leading edge again, without waiting');
    // And after a trailing run, the window it opened must pass quietly first.
    trigger.fire();
    await clock.advance(W);
    assert.deepEqual(runs, [0, W + 37, 2 * W + 37]);
    await clock.advance(W + 5);
    trigger.fire();
    await flushAsync();
    assert.deepEqual(runs, [0, W + 37, 2 * W + 37, 3 * W + 42]);
  });

  test('a continuous stream runs at most once per window', async () => {
    const { clock, runs, trigger } = recorded();
    for (let t = 0; t < 20 * W; t += 7) {
      trigger.fire();
      await clock.advance(7);
    }
    await clock.advance(2 * W);
    // 2 800 inputs over 20 windows: one run per window, each a whole window after the one before.
    assert.equal(runs.length, 21);
    for (let i = 1; i < runs.length; i++) assert.equal(runs[i]! - runs[i - 1]!, W, `run ${i}`);
  });

  test('stop() cancels the trailing run; a later input starts afresh', async () => {
    const { clock, runs, trigger } = recorded();
    trigger.fire();
    await flushAsync();
    trigger.fire();
    await clock.advance(W / 2);
    trigger.stop();
    await clock.advance(3 * W);
    assert.deepEqual(runs, [0], 'the trailing run was cancelled');
    assert.equal(trigger.busy, false);
    trigger.fire();
    await flushAsync();
    assert.deepEqual(runs, [0, 3.5 * W], 'a new leading run');
  });

  test('stop() before the end of the turn cancels the leading run too', async () => {
    const { clock, runs, trigger } = recorded();
    trigger.fire();
    trigger.stop();
    await clock.advance(3 * W);
    assert.deepEqual(runs, []);
  });

  test('a run longer than its window holds the next one back until it ends', async () => {
    let release = () => {};
    let slow = true;
    const { clock, runs, trigger } = recorded({
      run: () => (slow ? new Promise<void>((r) => (release = r)) : undefined),
    });
    trigger.fire();
    await flushAsync();
    trigger.fire();
    await clock.advance(3 * W);
    assert.deepEqual(runs, [0], 'no second run while the first is under way');
    slow = false;
    release();
    await flushAsync();
    assert.deepEqual(runs, [0, 3 * W], 'the trailing run as soon as the first ended (its window had passed)');
  });

  test('the window function is read as each window opens', async () => {
    const widths = [W, 3 * W, W];
    let reads = 0;
    const { clock, runs, trigger } = recorded({ windowMs: () => widths[reads++] ?? W });
    trigger.fire();
    await flushAsync();
    trigger.fire();
    await clock.advance(W);
    trigger.fire();
    await clock.advance(3 * W - 1);
    assert.deepEqual(runs, [0, W], 'the second window is three times as long');
    await clock.advance(1);
    assert.deepEqual(runs, [0, W, 4 * W]);
    assert.equal(reads, 3);
  });

  test('settled() waits for the leading run, not for a trailing one', async () => {
    let release = () => {};
    const { clock, runs, trigger } = recorded({ run: () => new Promise<void>((r) => (release = r)) });
    trigger.fire();
    let settled = false;
    const waiting = trigger.settled().then(() => {
      settled = true;
    });
    await flushAsync();
    assert.deepEqual(runs, [0]);
    assert.equal(settled, false, 'the leading run is under way');
    release();
    await waiting;
    trigger.fire(); // waits for the window
    await trigger.settled();
    assert.deepEqual(runs, [0]);
    await clock.advance(W);
    release();
    assert.deepEqual(runs, [0, W]);
  });

  test('a failing run goes to onError and the trigger keeps going', async () => {
    const { clock, runs, errors, trigger } = recorded({
      run: () => {
        throw new Error('boom');
      },
    });
    trigger.fire();
    await flushAsync();
    trigger.fire();
    await clock.advance(W);
    assert.deepEqual(runs, [0, W]);
    assert.deepEqual(
      errors.map((e) => (e as Error).message),
      ['boom', 'boom'],
    );
  });

  test('an input that arrives during a run is taken by the trailing run', async () => {
    const { clock, runs, trigger } = recorded({ run: () => trigger.fire() });
    trigger.fire();
    await flushAsync();
    assert.deepEqual(runs, [0]);
    await clock.advance(W);
    assert.deepEqual(runs, [0, W], 'each run fires again: once per window');
    trigger.stop();
  });
});
