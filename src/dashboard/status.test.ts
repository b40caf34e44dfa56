import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { statusSince } from './status.js';

const r = (
  name: string,
  status: 'healthy' | 'degraded' | 'unhealthy',
  checkedAt: number,
  critical = true,
) => ({
  name,
  status,
  critical,
  checkedAt,
});

describe('status since', () => {
  test('is the time of the last change to the current status', () => {
    const history = [
      r('db', 'healthy', 1000),
      r('cache', 'healthy', 1000),
      r('db', 'unhealthy', 2000),
      r('db', 'healthy', 3000),
      r('cache', 'healthy', 4000),
    ];
    assert.equal(statusSince(history, 'healthy'), 3000);
  });

  test('a failing non-critical check only degrades, and results of one run are judged together', () => {
    const history = [r('db', 'healthy', 1000), r('mail', 'unhealthy', 1000, false), r('db', 'healthy', 2000)];
    assert.equal(statusSince(history, 'degraded'), 1000);
  });

  test('unknown when the history does not end in the current status, or is empty', () => {
    assert.equal(statusSince([r('db', 'healthy', 1000)], 'unhealthy'), null);
    assert.equal(statusSince([], 'healthy'), null);
  });
});
