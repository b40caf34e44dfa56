import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
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
import { newSecret } from './signature.js';

const WHSEC = `whsec_${Buffer.from('0123456789abcdefghijklmnopqrstuv').toString('base64')}`;
const OLD_WHSEC = `whsec_${Buffer.from('the-secret-being-rotated-out!').toString('base64')}`;

/** The headers of a received request as the official library takes them. */
const headersOf = (r: { headers: Record<string, string | string[] | undefined> }) =>
  Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, String(v)]));

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
      secrets: [OLD_WHSEC, WHSEC],
    });
    const n = notificationOf(transition('resolved'));
    const before = rx.requests.length;
    await hook.send(n, NEVER);
    await hook.send(n, NEVER);
    const [a, b] = rx.requests.slice(before);
    assert.equal(a!.headers['webhook-id'], n.id);
    assert.equal(b!.headers['webhook-id'], n.id);
    assert.equal(String(a!.headers['webhook-signature']).split(' ').length, 2);
    assert.equal(verifyStandardWebhook(a!, [OLD_WHSEC], T0 / 1000), null);
    assert.equal(verifyStandardWebhook(a!, [WHSEC], T0 / 1000), null);
    assert.equal(verifyStandardWebhook(a!, [newSecret()], T0 / 1000), 'no matching signature');
    assert.equal((a!.json as { type: string }).type, 'alert.resolved');
  });

  test('the official standardwebhooks library verifies deliveries with the secret as configured', async () => {
    rx.answer(() => ({ status: 200 }));
    // The library checks the timestamp against its own wall clock: the channel's clock starts there.
    const clock = new FakeClock(Date.now());
    const [a, b] = [newSecret(), newSecret()];
    assert.match(a, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.notEqual(a, b);
    const hook = notifierFor({ name: 'hook', kind: 'webhook', url: `${rx.url}/std`, secrets: [a, b] }, clock);
    const single = notifierFor({ name: 'one', kind: 'webhook', url: `${rx.url}/std`, secret: WHSEC }, clock);
    const before = rx.requests.length;
    await hook.send(notificationOf(transition('firing')), NEVER);
    await single.send(notificationOf(transition('resolved')), NEVER);
    const [ra, rb] = await rx.waitFor(before + 2).then((all) => all.slice(before));
    for (const secret of [a, b]) {
      const payload = new Webhook(secret).verify(ra!.body, headersOf(ra!)) as { type: string };
      assert.equal(payload.type, 'alert.firing');
    }
    assert.equal(
      (new Webhook(WHSEC).verify(rb!.body, headersOf(rb!)) as { type: string }).type,
      'alert.resolved',
    );
    assert.throws(() => new Webhook(WHSEC).verify(ra!.body, headersOf(ra!)), /No matching signature found/);
    assert.throws(
      () => new Webhook(a).verify(ra!.body.replace('firing', 'fired'), headersOf(ra!)),
      /No matching signature found/,
    );
  });

  test('config: a secret that is not whsec_ + base64 of 24 to 64 bytes is an error saying how to make one', () => {
    const bad = {
      abcd1234efgh: /must start with "whsec_".*prodmon notify secret/,
      'whsec_not base64!': /must be standard base64.*prodmon notify secret/,
      whsec_abc: /must be standard base64/,
      [`whsec_${Buffer.alloc(16).toString('base64')}`]: /24 to 64 bytes, this one decodes to 16/,
      [`whsec_${Buffer.alloc(65).toString('base64')}`]: /24 to 64 bytes, this one decodes to 65/,
    };
    for (const [secret, message] of Object.entries(bad)) {
      for (const channel of [{ secret }, { secrets: [WHSEC, secret] }]) {
        assert.throws(
          () => notifierFor({ name: 'h', kind: 'webhook', url: rx.url, ...channel }),
          (e: unknown) => {
            assert.ok(e instanceof ConfigError);
            assert.match(e.message, /notifications\.channels\[0\]\.secrets?(\[1\])?: /);
            assert.match(e.message, message);
            assert.ok(!e.message.includes(secret), 'the secret is not echoed');
            return true;
          },
          secret,
        );
      }
    }
    for (const secret of [WHSEC, newSecret(), `whsec_${Buffer.alloc(64).toString('base64')}`])
      assert.doesNotThrow(() => notifierFor({ name: 'h', kind: 'webhook', url: rx.url, secret }));
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
