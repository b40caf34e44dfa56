/** The facts and formats of group messages, pure: counts, order, headlines, escaping. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HOSTILE, notificationOf, sampleAlert, T0, transition } from '../../test/support/notify-fixtures.js';
import { checkPagerDutyEvent, checkSlackMessage } from '../../test/support/receivers.js';
import type { Severity } from '../domain/alert.js';
import type { TransitionKind } from '../domain/transition.js';
import { groupEmail } from './email/render.js';
import { groupFacts, groupOf, groupText } from './group.js';
import { groupDedupKey, pagerDutyGroupEvent } from './pagerduty/index.js';
import { slackGroupMessage } from './slack/blocks.js';
import type { AlertNotification, GroupNotification } from './types.js';

function member(n: number, severity: Severity, value: number, kind: TransitionKind = 'firing', over = {}) {
  const alert = sampleAlert({
    id: `al_${n}`,
    fingerprint: `fp_${n}`,
    severity,
    value,
    threshold: severity === 'critical' ? 2000 : 500,
    labels: { route: `/${n}` },
    message: `p95 of /${n} is ${value} ms`,
    ...over,
  });
  return notificationOf(transition(kind, alert), { id: `nt_${n}`, channel: 'c' });
}

function group(members: AlertNotification[], open = members.length, maxListed = 10): GroupNotification {
  return {
    id: 'ng_1',
    channel: 'c',
    event: 'group',
    at: T0,
    link: 'https://prodmon.example/production/dashboard/#/alerts',
    group: { key: 'api_response_time', rule: 'api_response_time', labels: {}, open },
    members,
    maxListed,
  };
}

describe('group messages', () => {
  test('worst first (still firing, severity, distance past the threshold); counts; a summary alert counts its label sets', () => {
    const summary = member(9, 'high', 40, 'firing', {
      labels: { overflow: 'true' },
      metadata: { overflow: { count: 40, cap: 3, worst: [] } },
    });
    const g = group(
      [
        member(1, 'high', 900),
        member(2, 'critical', 2100),
        member(3, 'high', 700, 'resolved'),
        member(4, 'critical', 4000),
        summary,
      ],
      4,
      2,
    );
    const f = groupFacts(g);
    assert.deepEqual(
      f.listed.map((n) => n.alert.id),
      ['al_4', 'al_2'],
    );
    assert.deepEqual(
      [f.firing, f.firingAlerts, f.firingLabelSets, f.resolved, f.beyondCap, f.omitted, f.severity],
      [4, 3, 43, 1, 40, 2, 'critical'],
    );
    assert.equal(f.headline, 'CRITICAL: api_response_time: 43 alerts firing, 1 alert resolved');
    assert.equal(
      groupText(g),
      [
        'CRITICAL: api_response_time: 43 alerts firing, 1 alert resolved',
        '',
        'Firing: 3 alerts (2 critical, 1 high) + 40 more label sets beyond the per-rule cap, 43 in all. Resolved: 1 alert. Still open in this group: 4',
        '',
        'Worst 2:',
        '- CRITICAL route=/4: p95 of /4 is 4000 ms (4000, threshold 2000)',
        '- CRITICAL route=/2: p95 of /2 is 2100 ms (2100, threshold 2000)',
        '- and 2 more alerts',
        '- and 40 more label sets beyond the per-rule cap',
        '',
        'View the alerts: https://prodmon.example/production/dashboard/#/alerts',
      ].join('\n'),
    );
  });

  test('headlines name what happened: reminders, an escalation, resolutions only', () => {
    const h = (ms: AlertNotification[]) => groupFacts(group(ms, 0)).headline;
    assert.equal(
      h([member(1, 'high', 900, 'reminder'), member(2, 'high', 800, 'reminder')]),
      'HIGH: api_response_time: 2 alerts still firing',
    );
    assert.equal(
      h([member(1, 'critical', 2900, 'escalation'), member(2, 'critical', 2800, 'escalation')]),
      'ESCALATION CRITICAL: api_response_time: 2 alerts unresolved',
    );
    assert.equal(
      h([member(1, 'high', 100, 'resolved'), member(2, 'high', 100, 'resolved')]),
      'RESOLVED: api_response_time: 2 alerts resolved',
    );
  });

  test('group keys: the rule, plus group_by label values', () => {
    const t = transition('firing', sampleAlert({ labels: { route: '/a', method: 'GET' } }));
    assert.deepEqual(groupOf(t, []), { key: 'api_response_time', rule: 'api_response_time', labels: {} });
    assert.deepEqual(groupOf(t, ['method', 'region']), {
      key: 'api_response_time{method="GET",region=""}',
      rule: 'api_response_time',
      labels: { method: 'GET', region: '' },
    });
    assert.equal(groupDedupKey('x'.repeat(300)).length, 'prodmon-group:'.length + 64);
  });

  test('hostile text stays text in every grouped format', () => {
    const ms = [1, 2, 3].map((n) =>
      member(n, 'critical', 2500 + n, 'firing', { message: HOSTILE, labels: { who: '<@U1> & <!here>' } }),
    );
    ms[0]!.inhibits = [
      { id: 'al_x', rule: '<!channel>', severity: 'high', labels: { a: '<b>' }, message: HOSTILE },
    ];
    const g = group(ms);
    const slack = slackGroupMessage(g);
    assert.deepEqual(checkSlackMessage(slack), []);
    const mail = groupEmail(g, '[prodmon]');
    assert.ok(!mail.html.includes('<script>'), 'HTML escaped');
    assert.ok(mail.html.includes('&lt;script&gt;'));
    assert.ok(mail.text.includes('Suppressing: 1 alert not notified while this fires: <!channel> (a=<b>)'));
    const pd = pagerDutyGroupEvent(g, { routing_key: 'rk', url: 'http://x', source: 's', clientUrl: null });
    assert.deepEqual(checkPagerDutyEvent(pd), []);
    assert.equal((pd.payload as { summary: string }).summary, 'CRITICAL: api_response_time: 3 alerts firing');
  });
});
