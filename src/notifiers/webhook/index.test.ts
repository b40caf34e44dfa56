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
  type HttpReceiver,
  startHttpReceiver,
  verifyStandardWebhook,
} from '../../../test/support/receivers.js';
import { ConfigError } from '../../config/load.js';
import { FakeClock } from '../../core/clock.js';

const WHSEC = `whsec_${Buffer.from('0123456789abcdefghijklmnopqrstuv').toString('base64')}`;

describe('webhook channel', () => {
  let rx: HttpReceiver;
  before(async () => {
    rx = await startHttpReceiver();
  });
  after(() => rx.close());

  test('posts a versioned JSON payload signed per Standard Webhooks, with custom headers', async () => {
    rx.answer(() => ({ status: 204 }));
    const clock = new FakeClock(T0 + 2000);
    const hook = notifierFor(
      { name: 'hook', kind: 'webhook', url: `${rx.url}/in`, secret: WHSEC, headers: { 'X-Team': 'ops' } },
      clock,
    );
    const n = notificationOf(transition('firing'));
    const before = rx.requests.length;
    assert.deepEqual(await hook.send(n, NEVER), { ok: true, statusCode: 204 });
    const r = rx.requests[before]!;
    assert.equal(verifyStandardWebhook(r, [WHSEC], Math.floor(clock.now() / 1000)), null);
    assert.equal(r.headers['webhook-id'], n.id);
    assert.equal(r.headers['webhook-timestamp'], String(Math.floor((T0 + 2000) / 1000)));
    assert.equal(r.headers['x-team'], 'ops');
    const body = r.json as {
      type: string;
      version: number;
      timestamp: string;
      data: Record<string, unknown>;
    };
    assert.equal(body.type, 'alert.firing');
    assert.equal(body.version, 1);
    assert.equal(body.timestamp, new Date(T0).toISOString());
    assert.equal(body.data.notification_id, n.id);
    assert.equal(body.data.link, 'https://prodmon.example/production/dashboard/#/alerts/al_test1');
    const alert = body.data.alert as Record<string, unknown>;
    assert.deepEqual(
      [alert.id, alert.severity, alert.value, alert.threshold],
      ['al_test1', 'high', 812, 500],
    );
    assert.equal(alert.firing_at, new Date(T0).toISOString());
    assert.equal(
      verifyStandardWebhook({ ...r, body: r.body.replace('812', '813') }, [WHSEC], T0 / 1000),
      'no matching signature',
    );
  });

  test('every retry carries the same webhook-id; rotation signs with each secret', async () => {
    rx.answer(() => ({ status: 200 }));
    const hook = notifierFor({
      name: 'hook',
      kind: 'webhook',
      url: rx.url,
      secrets: ['old-raw-secret', WHSEC],
    });
    const n = notificationOf(transition('resolved'));
    const before = rx.requests.length;
    await hook.send(n, NEVER);
    await hook.send(n, NEVER);
    const [a, b] = rx.requests.slice(before);
    assert.equal(a!.headers['webhook-id'], n.id);
    assert.equal(b!.headers['webhook-id'], n.id);
    assert.equal(String(a!.headers['webhook-signature']).split(' ').length, 2);
    assert.equal(verifyStandardWebhook(a!, ['old-raw-secret'], T0 / 1000), null);
    assert.equal(verifyStandardWebhook(a!, [WHSEC], T0 / 1000), null);
    assert.equal(verifyStandardWebhook(a!, ['another'], T0 / 1000), 'no matching signature');
    assert.equal((a!.json as { type: string }).type, 'alert.resolved');
  });

  test('only 2xx succeeds: 410 disables, a redirect fails unfollowed, 500 is retried', async () => {
    const hook = notifierFor({ name: 'hook', kind: 'webhook', url: `${rx.url}/x` });
    const n = notificationOf(transition('firing'));
    for (const [status, expect] of [
      [410, { retryable: false, disable: true }],
      [302, { retryable: false, disable: undefined }],
      [500, { retryable: true, disable: undefined }],
    ] as const) {
      const headers: Record<string, string> = status === 302 ? { location: `${rx.url}/elsewhere` } : {};
      rx.answer(() => ({ status, headers }));
      const r = await hook.send(n, NEVER);
      assert.equal(r.ok, false, String(status));
      if (!r.ok) assert.deepEqual({ retryable: r.retryable, disable: r.disable }, expect, String(status));
    }
    assert.equal(rx.requests.filter((r) => r.path === '/elsewhere').length, 0);
  });

  test('hostile text arrives as the same string, never expanded', async () => {
    rx.answer(() => ({ status: 200 }));
    const hook = notifierFor({ name: 'hook', kind: 'webhook', url: rx.url });
    const n = notificationOf(
      transition('firing', sampleAlert({ message: HOSTILE, labels: { x: '{{link}}' } })),
    );
    await hook.send(n, NEVER);
    const data = (
      rx.requests.at(-1)!.json as { data: { alert: { message: string; labels: Record<string, string> } } }
    ).data;
    assert.equal(data.alert.message, HOSTILE);
    assert.equal(data.alert.labels.x, '{{link}}');
  });

  test('config: a URL is required and webhook-* headers cannot be overridden', () => {
    assert.throws(() => notifierFor({ name: 'h', kind: 'webhook' }), ConfigError);
    assert.throws(
      () => notifierFor({ name: 'h', kind: 'webhook', url: rx.url, headers: { 'Webhook-Id': 'x' } }),
      /webhook-\* headers are set by prodmon/,
    );
  });
});
