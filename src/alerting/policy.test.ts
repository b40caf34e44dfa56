/** The notification policy: whether a firing alert is told now. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decide, type NotifyBook, newBook, recordNotification, recordSeverity } from './policy.js';

const M = 60_000;
const opts = { cooldownMs: 15 * M, repeatIntervalMs: 240 * M, escalateAfterMs: 30 * M };
const firing = (severity: 'medium' | 'critical') => ({ status: 'firing' as const, severity });

function told(
  book: NotifyBook,
  kind: Parameters<typeof recordNotification>[1],
  sev: 'medium' | 'critical',
  at: number,
) {
  return recordNotification(recordSeverity(book, sev, at), kind, sev, at);
}

describe('notification policy', () => {
  test('a new firing alert is told; the same severity is not told again before the reminder', () => {
    const b0 = newBook();
    assert.deepEqual(decide(firing('medium'), b0, 0, false, opts), { notify: 'firing' });
    const b1 = told(b0, 'firing', 'medium', 0);
    assert.equal(decide(firing('medium'), b1, 10 * M, false, opts), null);
    assert.deepEqual(decide(firing('medium'), b1, 240 * M, false, opts), {
      notify: 'reminder',
      reminders: 1,
    });
  });

  test('an escalation is told at once, even within the cooldown of the lower severity', () => {
    const b1 = told(newBook(), 'firing', 'medium', 0);
    assert.deepEqual(decide(firing('critical'), b1, M, false, opts), {
      notify: 'escalated',
      previousSeverity: 'medium',
    });
  });

  test('a severity told within the cooldown is not told again (flapping between warning and critical)', () => {
    let b = told(newBook(), 'firing', 'medium', 0);
    b = told(b, 'escalated', 'critical', M);
    // Back to medium 3 minutes later: medium was told 3 minutes ago, within the cooldown.
    assert.deepEqual(decide(firing('medium'), b, 3 * M, false, opts), {
      suppressed: 'cooldown',
      would: 'deescalated',
    });
    // After the cooldown it converges: the operator learns it is medium now.
    assert.deepEqual(decide(firing('medium'), b, 15 * M, false, opts), {
      notify: 'deescalated',
      previousSeverity: 'critical',
    });
  });

  test('a muted alert is not told, but a resolution of a told alert always is', () => {
    assert.deepEqual(decide(firing('critical'), newBook(), 0, true, opts), {
      suppressed: 'silenced',
      would: 'firing',
    });
    const b = told(newBook(), 'firing', 'critical', 0);
    assert.deepEqual(decide({ status: 'resolved', severity: 'critical' }, b, M, true, opts), {
      notify: 'resolved',
    });
    assert.equal(decide({ status: 'resolved', severity: 'critical' }, newBook(), M, false, opts), null);
  });

  test('critical for escalate_after sends one escalation', () => {
    const b = told(newBook(), 'firing', 'critical', 0);
    assert.equal(decide(firing('critical'), b, 29 * M, false, opts), null);
    assert.deepEqual(decide(firing('critical'), b, 30 * M, false, opts), { notify: 'escalation' });
    const after = recordNotification(b, 'escalation', 'critical', 30 * M);
    assert.equal(decide(firing('critical'), after, 31 * M, false, opts), null);
  });

  test('a pending alert is never told', () => {
    assert.equal(decide({ status: 'pending', severity: 'critical' }, newBook(), 0, false, opts), null);
  });
});
