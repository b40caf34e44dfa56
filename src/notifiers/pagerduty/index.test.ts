import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  HOSTILE,
  NEVER,
  notificationOf,
  notifierFor,
  sampleAlert,
  T0,
  transition,
} from '../../../test/support/notify-fixtures.js';
import {
  checkPagerDutyEvent,
  type HttpReceiver,
  startHttpReceiver,
} from '../../../test/support/receivers.js';
import type { Severity } from '../../domain/alert.js';

describe('pagerduty channel (Events API v2)', () => {
  let rx: HttpReceiver;
  const pdLike = () =>
    rx.answer((r) => {
      const problems = checkPagerDutyEvent(r.json);
      if (problems.length)
        return {
          status: 400,
          body: JSON.stringify({
            status: 'invalid event',
            message: 'Event object is invalid',
            errors: problems,
          }),
        };
      const key = (r.json as { dedup_key: string }).dedup_key;
      return {
        status: 202,
        body: JSON.stringify({ status: 'success', message: 'Event processed', dedup_key: key }),
      };
    });
  before(async () => {
    rx = await startHttpReceiver();
    pdLike();
  });
  after(() => rx.close());
  const pd = () =>
    notifierFor({
      name: 'pager',
      kind: 'pagerduty',
      routing_key: 'R0UT1NGKEY',
      url: `${rx.url}/v2/enqueue`,
      source: 'shop-1',
    });

  test('firing triggers with dedup_key = alert id and the exact Events v2 shape; resolve uses the same key', async () => {
    const alert = sampleAlert({ severity: 'critical' });
    assert.deepEqual(await pd().send(notificationOf(transition('firing', alert)), NEVER), {
      ok: true,
      statusCode: 202,
    });
    const link = 'https://prodmon.example/production/dashboard/#/alerts/al_test1';
    assert.deepEqual(rx.requests.at(-1)!.json, {
      routing_key: 'R0UT1NGKEY',
      event_action: 'trigger',
      dedup_key: 'al_test1',
      payload: {
        summary: 'CRITICAL: api_response_time is firing: p95 latency 812 ms > 500 ms on /checkout',
        source: 'shop-1',
        severity: 'critical',
        timestamp: new Date(T0).toISOString(),
        group: 'performance',
        class: 'api_response_time',
        custom_details: {
          message: 'p95 latency 812 ms > 500 ms on /checkout',
          event: 'firing',
          rule: 'api_response_time',
          type: 'performance',
          severity: 'critical',
          value: 812,
          threshold: 500,
          labels: { route: '/checkout' },
          firing_since: '2026-01-01 12:00:00 UTC',
          reminders: 0,
          previous_severity: null,
          alert_id: 'al_test1',
          link,
        },
      },
      client: 'prodmon',
      client_url: 'https://prodmon.example/production/dashboard/',
      links: [{ href: link, text: 'View alert in prodmon' }],
    });
    await pd().send(notificationOf(transition('resolved', alert)), NEVER);
    assert.deepEqual(rx.requests.at(-1)!.json, {
      routing_key: 'R0UT1NGKEY',
      dedup_key: 'al_test1',
      event_action: 'resolve',
    });
  });

  test('severities map to critical/error/warning/info; the summary is cut to 1,024 characters', async () => {
    for (const [ours, theirs] of [
      ['critical', 'critical'],
      ['high', 'error'],
      ['medium', 'warning'],
      ['low', 'info'],
    ] as [Severity, string][]) {
      await pd().send(notificationOf(transition('firing', sampleAlert({ severity: ours }))), NEVER);
      assert.equal((rx.requests.at(-1)!.json as { payload: { severity: string } }).payload.severity, theirs);
    }
    const long = sampleAlert({ message: `${HOSTILE}\n${'x'.repeat(5000)}` });
    const r = await pd().send(notificationOf(transition('firing', long)), NEVER);
    assert.equal(r.ok, true);
    const summary = (rx.requests.at(-1)!.json as { payload: { summary: string } }).payload.summary;
    assert.equal([...summary].length, 1024);
    assert.ok(summary.endsWith('…'));
    assert.ok(summary.includes('<!channel>'), 'plain text: kept as written');
  });

  test('400 is permanent, 429 retried after Retry-After, 5xx retried', async () => {
    const n = notificationOf(transition('firing'));
    const cases: [number, Record<string, string>, boolean, number | undefined][] = [
      [400, {}, false, undefined],
      [429, { 'retry-after': '30' }, true, 30_000],
      [502, {}, true, undefined],
    ];
    for (const [status, headers, retryable, retryAfterMs] of cases) {
      rx.answer(() => ({ status, headers }));
      const r = await pd().send(n, NEVER);
      assert.ok(!r.ok);
      assert.deepEqual([r.retryable, r.retryAfterMs, r.statusCode], [retryable, retryAfterMs, status]);
    }
    pdLike();
  });

  test('a test message triggers and at once resolves its own key', async () => {
    const before = rx.requests.length;
    const n = { ...notificationOf(transition('firing')), event: 'test' as const, id: 'nt_probe' };
    assert.equal((await pd().send(n, NEVER)).ok, true);
    const sent = rx.requests.slice(before).map((r) => r.json as { event_action: string; dedup_key: string });
    assert.deepEqual(
      sent.map((e) => [e.event_action, e.dedup_key]),
      [
        ['trigger', 'prodmon-test-nt_probe'],
        ['resolve', 'prodmon-test-nt_probe'],
      ],
    );
  });
});
