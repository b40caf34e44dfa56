import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Severity } from '../domain/alert.js';
import type { TransitionKind } from '../domain/transition.js';
import { FAILING_CHANNEL_LABEL } from './message.js';
import { type RouteChannel, route } from './routing.js';

const ALL_TYPES = ['performance', 'error', 'system', 'security'] as const;
const ch = (name: string, over: Partial<RouteChannel> = {}): RouteChannel => ({
  name,
  severities: ['medium', 'high', 'critical'],
  types: [...ALL_TYPES],
  escalation_only: false,
  ...over,
});
const CHANNELS = [
  ch('mail'),
  ch('pager', { severities: ['critical'] }),
  ch('sec', { types: ['security'] }),
  ch('boss', { escalation_only: true }),
  ch('quiet', { send_resolved: false }),
];
const t = (
  kind: TransitionKind,
  severity: Severity,
  type: (typeof ALL_TYPES)[number] = 'performance',
  labels = {},
) => ({
  kind,
  alert: { severity, type, labels },
});

describe('routing', () => {
  test('by default medium and up go to every regular channel, low goes nowhere', () => {
    assert.deepEqual(route(t('firing', 'medium'), CHANNELS, new Set()), ['mail', 'quiet']);
    assert.deepEqual(route(t('firing', 'low'), CHANNELS, new Set()), []);
    assert.deepEqual(route(t('firing', 'critical'), CHANNELS, new Set()), ['mail', 'pager', 'quiet']);
  });

  test('types filter channels', () => {
    assert.deepEqual(route(t('firing', 'high', 'security'), CHANNELS, new Set()), ['mail', 'sec', 'quiet']);
  });

  test('an escalation also goes to escalation-only channels; they get nothing else', () => {
    assert.deepEqual(route(t('escalation', 'critical'), CHANNELS, new Set()), [
      'mail',
      'pager',
      'boss',
      'quiet',
    ]);
    for (const kind of ['firing', 'reminder', 'escalated'] as const) {
      assert.equal(route(t(kind, 'critical'), CHANNELS, new Set()).includes('boss'), false, kind);
    }
  });

  test('a resolution goes to exactly the channels told of the alert (unless they opted out)', () => {
    const told = new Set(['pager', 'boss', 'quiet', 'gone-from-config']);
    assert.deepEqual(route(t('resolved', 'low'), CHANNELS, told), ['pager', 'boss']);
    assert.deepEqual(route(t('resolved', 'critical'), CHANNELS, new Set()), []);
  });

  test('a de-escalation reaches channels that take the new severity and those told before', () => {
    assert.deepEqual(route(t('deescalated', 'high'), CHANNELS, new Set(['pager'])), [
      'mail',
      'pager',
      'quiet',
    ]);
  });

  test('a system alert about a failing channel goes to the other channels only', () => {
    const about = t('firing', 'high', 'system', { [FAILING_CHANNEL_LABEL]: 'mail' });
    assert.deepEqual(route(about, CHANNELS, new Set()), ['quiet']);
  });
});
