/** The pure evaluation: same inputs, same transition. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { alertingConfig } from '../../test/support/alerting.js';
import { type EvalState, evaluate, type Transition } from './evaluate.js';
import { type AlertRule, buildRules } from './rules.js';

const M = 60_000;

function rule(overrides: Record<string, unknown> = {}): AlertRule {
  const cfg = alertingConfig({
    rules: [{ name: 'lat', metric: 'm', warning: 500, critical: 2000, ...overrides }],
  });
  return buildRules(cfg).find((r) => r.name === 'lat')!;
}

/** Runs values through evaluate at 1-minute steps; returns the transition kinds (and levels). */
function run(r: AlertRule, values: (number | null)[], step = M): string[] {
  let state: EvalState | undefined;
  const out: string[] = [];
  values.forEach((v, i) => {
    const t: Transition = evaluate(r, { value: v }, state, i * step);
    if (t.kind === 'resolved') {
      out.push(`${i}:resolved:${t.reason}`);
      state = undefined;
      return;
    }
    if (t.kind !== 'none') out.push(`${i}:${t.kind}:${t.state.level}`);
    state = t.state;
  });
  return out;
}

describe('evaluate', () => {
  test('a critical breach fires at once; a warning breach is pending for 2 minutes first', () => {
    assert.deepEqual(run(rule(), [2500]), ['0:firing:critical']);
    assert.deepEqual(run(rule(), [600, 600, 600]), ['0:pending:warning', '2:firing:warning']);
  });

  test('a pending warning that clears before its `for` is cancelled, never fired', () => {
    assert.deepEqual(run(rule(), [600, 400]), ['0:pending:warning', '1:resolved:auto']);
  });

  test('warning escalates to critical in place and steps back only after the value stayed under critical', () => {
    assert.deepEqual(run(rule({ for: '0s' }), [600, 2500, 1000, 1000, 1000]), [
      '0:firing:warning',
      '1:escalated:critical',
      '2:deescalated:warning',
    ]);
    // With the default warning `for` of 2 minutes, de-escalation waits 2 minutes under critical.
    assert.deepEqual(run(rule(), [2500, 1000, 2500, 1000, 1000, 1000]), [
      '0:firing:critical',
      '5:deescalated:warning',
    ]);
  });

  test('hysteresis: a firing alert holds until the value is under `clear`', () => {
    assert.deepEqual(run(rule({ clear: 300 }), [2500, 450, 350, 250]), [
      '0:firing:critical',
      '3:resolved:auto',
    ]);
  });

  test('keep_firing_for: a firing alert resolves only after being clear that long', () => {
    assert.deepEqual(run(rule({ keep_firing_for: '3m' }), [2500, 100, 2500, 100, 100, 100, 100]), [
      '0:firing:critical',
      '6:resolved:auto',
    ]);
  });

  test('no data neither fires nor clears; only auto_resolve_after of no data resolves as stale', () => {
    const values = [2500, ...Array.from({ length: 29 }, () => null), null];
    assert.deepEqual(run(rule(), values), ['0:firing:critical', '30:resolved:stale']);
    assert.deepEqual(run(rule(), [null, null]), []);
    assert.deepEqual(run(rule(), [2500, null, null, 100]), ['0:firing:critical', '3:resolved:auto']);
  });

  test('direction below fires when the value drops under the thresholds', () => {
    const r = rule({ direction: 'below', warning: 50, critical: 10, for: '0s' });
    assert.deepEqual(run(r, [100, 40, 5, 60]), [
      '1:firing:warning',
      '2:escalated:critical',
      '3:resolved:auto',
    ]);
  });

  test('a rule with only a critical threshold and a `for` is pending until it held that long', () => {
    const r = rule({ warning: undefined, critical: 2000, for: '2m' });
    assert.deepEqual(run(r, [2500, 2500, 2500, 100]), [
      '0:pending:critical',
      '2:firing:critical',
      '3:resolved:auto',
    ]);
  });

  test('evaluation is pure: the same inputs give the same transition', () => {
    const r = rule();
    const prev: EvalState = {
      status: 'firing',
      level: 'warning',
      breachSince: 0,
      criticalSince: null,
      clearSince: null,
      lowerSince: null,
      lastDataAt: 0,
      value: 600,
    };
    const a = evaluate(r, { value: 2500 }, prev, 5 * M);
    const b = evaluate(r, { value: 2500 }, prev, 5 * M);
    assert.deepEqual(a, b);
    assert.equal(a.kind, 'escalated');
    assert.equal(prev.level, 'warning', 'the previous state is not mutated');
  });
});
