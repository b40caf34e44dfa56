import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { OutboxItem } from '../../domain/outbox.js';
import { backoffDelay, nextAttempt } from './backoff.js';
import { ChannelLimiter } from './limiter.js';
import { planUnits, selectDue } from './plan.js';

const POLICY = { minBackoff: 1000, maxBackoff: 300_000, maxAge: 86_400_000, attemptTimeout: 10_000 };
let seq = 0;
const item = (alertId: string, createdAt: number, nextAttemptAt = createdAt): OutboxItem => ({
  id: `nt_${++seq}`,
  key: `k${seq}`,
  alertId,
  transition: 'firing',
  channel: 'c',
  payload: {},
  status: 'pending',
  attempts: 0,
  nextAttemptAt,
  createdAt,
  updatedAt: createdAt,
  deliveredAt: null,
  lastError: null,
});

describe('backoff', () => {
  test('doubles from min_backoff up to max_backoff, jitter within ±20 % and never below min', () => {
    assert.deepEqual(
      [1, 2, 3, 4].map((n) => backoffDelay(n, POLICY, 0.5)),
      [1000, 2000, 4000, 8000],
    );
    assert.equal(backoffDelay(30, POLICY, 0.5), 300_000);
    assert.equal(backoffDelay(1, POLICY, 0), 1000);
    assert.equal(backoffDelay(3, POLICY, 0), 3200);
    assert.equal(backoffDelay(3, POLICY, 0.999), 4798);
  });

  test('Retry-After wins when longer; the last attempt is at the deadline; past it, give up', () => {
    assert.deepEqual(nextAttempt({ attempts: 1, createdAt: 0, now: 10, retryAfterMs: 60_000 }, POLICY, 0.5), {
      give: 'retry',
      at: 60_010,
    });
    const late = nextAttempt({ attempts: 20, createdAt: 0, now: 86_300_000 }, POLICY, 0.5);
    assert.deepEqual(late, { give: 'retry', at: 86_400_000 });
    assert.deepEqual(nextAttempt({ attempts: 21, createdAt: 0, now: 86_400_000 }, POLICY, 0.5), {
      give: 'up',
    });
  });
});

describe('selecting and planning', () => {
  test('a waiting item holds back later items of its alert only; alerts take turns by waiting time', () => {
    const a1 = item('a', 1, 500);
    const a2 = item('a', 2);
    const b1 = item('b', 3, 50);
    const c1 = item('c', 4, 10);
    const { due, waitUntil } = selectDue([a1, a2, b1, c1], 100);
    assert.deepEqual(
      due.map((i) => i.id),
      [c1.id, b1.id],
    );
    assert.equal(waitUntil, 500);
  });

  test('one by one within the budget; a batch when more are due than the budget and the kind can batch', () => {
    const due = [item('a', 1), item('b', 2), item('c', 3)];
    assert.deepEqual(
      planUnits(due, Number.POSITIVE_INFINITY, 10).map((u) => u.length),
      [1, 1, 1],
    );
    assert.deepEqual(
      planUnits(due, 1, 10).map((u) => u.length),
      [3],
    );
    assert.deepEqual(
      planUnits(due, 2, 1).map((u) => u.length),
      [1, 1],
    );
    assert.deepEqual(
      planUnits(due, 1, 2).map((u) => u.length),
      [2],
    );
    assert.deepEqual(planUnits(due, 0, 10), []);
  });

  test('the limiter allows max per window, frees as the window slides, and pauses', () => {
    const l = new ChannelLimiter({ max: 2, per: 1000 });
    assert.equal(l.available(0), 2);
    l.take(0);
    l.take(400);
    assert.equal(l.available(500), 0);
    assert.equal(l.nextFreeAt(500), 1000);
    assert.equal(l.available(1000), 1);
    l.pause(5000);
    assert.equal(l.available(2000), 0);
    assert.equal(l.nextFreeAt(2000), 5000);
    l.resume();
    assert.equal(l.available(2000), 2);
    assert.equal(new ChannelLimiter().available(0), Number.POSITIVE_INFINITY);
  });
});
