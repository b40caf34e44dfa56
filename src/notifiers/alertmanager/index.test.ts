import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  NEVER,
  notificationOf,
  notifierFor,
  sampleAlert,
  T0,
  transition,
} from '../../../test/support/notify-fixtures.js';
import {
  checkAlertmanagerAlerts,
  type HttpReceiver,
  startHttpReceiver,
} from '../../../test/support/receivers.js';

type Posted = {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL?: string;
}[];

describe('alertmanager channel', () => {
  let rx: HttpReceiver;
  before(async () => {
    rx = await startHttpReceiver();
    rx.answer((r) =>
      r.path === '/api/v2/alerts' && checkAlertmanagerAlerts(r.json).length === 0
        ? { status: 200 }
        : { status: 400, body: 'bad' },
    );
  });
  after(() => rx.close());
  const am = () => notifierFor({ name: 'am', kind: 'alertmanager', url: rx.url });
  const last = () => rx.requests.at(-1)!.json as Posted;

  test('posts a valid postable alert: alertname, severity and alert labels; annotations; times; generatorURL', async () => {
    const alert = sampleAlert({ labels: { route: '/checkout', 'http.method': 'GET', '1st': 'x' } });
    assert.deepEqual(await am().send(notificationOf(transition('firing', alert)), NEVER), {
      ok: true,
      statusCode: 200,
    });
    const [a] = last();
    assert.deepEqual(a!.labels, {
      route: '/checkout',
      http_method: 'GET',
      _1st: 'x',
      alertname: 'api_response_time',
      severity: 'high',
      type: 'performance',
      prodmon_alert_id: 'al_test1',
    });
    assert.equal(a!.annotations.message, 'p95 latency 812 ms > 500 ms on /checkout');
    assert.equal(a!.annotations.value, '812');
    assert.equal(a!.annotations.threshold, '500');
    assert.equal(a!.startsAt, new Date(T0).toISOString());
    assert.equal(a!.endsAt, new Date(T0 + 86_400_000).toISOString(), 'firing_ttl ahead');
    assert.equal(a!.generatorURL, 'https://prodmon.example/production/dashboard/#/alerts/al_test1');
  });

  test('the resolution ends the alert at its resolution time; a severity change ends the old one', async () => {
    await am().send(notificationOf(transition('resolved', sampleAlert(), { at: T0 + 60_000 })), NEVER);
    assert.equal(last()[0]!.endsAt, new Date(T0 + 60_000).toISOString());
    const up = transition('escalated', sampleAlert({ severity: 'critical' }), {
      previousSeverity: 'high',
      at: T0 + 5000,
    });
    await am().send(notificationOf(up), NEVER);
    assert.deepEqual(
      last().map((a) => [a.labels.severity, a.endsAt]),
      [
        ['high', new Date(T0 + 5000).toISOString()],
        ['critical', new Date(T0 + 5000 + 86_400_000).toISOString()],
      ],
    );
  });

  test('a batch is one POST with every alert', async () => {
    const ns = ['a', 'b'].map((id) => notificationOf(transition('firing', sampleAlert({ id: `al_${id}` }))));
    const before = rx.requests.length;
    assert.equal((await am().sendBatch!(ns, NEVER)).ok, true);
    assert.equal(rx.requests.length, before + 1);
    assert.deepEqual(
      last().map((a) => a.labels.prodmon_alert_id),
      ['al_a', 'al_b'],
    );
  });
});
