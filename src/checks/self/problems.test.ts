import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OwnProblems } from './problems.js';

test('own problems: healthy when none, the worst status with every reason, change told once', () => {
  let changes = 0;
  const p = new OwnProblems(() => changes++);
  assert.deepEqual(p.probe(), { status: 'healthy', detail: null });
  p.set('job cleanup', 'failed: disk full', 1, 'degraded');
  p.set('channel hook', 'failing: HTTP 500', 2);
  p.set('channel hook', 'failing: HTTP 500', 3);
  assert.equal(changes, 2);
  assert.deepEqual(p.probe(), {
    status: 'unhealthy',
    detail: 'job cleanup: failed: disk full; channel hook: failing: HTTP 500',
  });
  p.clear('channel hook');
  p.clear('channel hook');
  assert.equal(changes, 3);
  assert.equal(p.probe().status, 'degraded');
});
