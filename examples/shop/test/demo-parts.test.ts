/** The demo's command line and its webhook receiver. */
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { parseDemoArgs, parseDemoDuration } from '../src/demo/args.js';
import { startReceiver, verifySignature } from '../src/demo/receiver.js';

describe('demo arguments', () => {
  test('defaults: ten minutes, no fault, SQLite, the local Redis', () => {
    const a = parseDemoArgs([], {});
    assert.equal(a.durationMs, 600_000);
    assert.deepEqual(a.faults, []);
    assert.equal(a.databaseUrl, null);
    assert.equal(a.redisUrl, 'redis://127.0.0.1:6379');
    assert.equal(a.faultForMs, 45_000);
  });

  test('faults, timings and the environment are read', () => {
    const a = parseDemoArgs(
      [
        '--duration',
        '90s',
        '--fault',
        'errors',
        '--fault',
        'slow-db',
        '--fault-for',
        '0',
        '--customers',
        '8',
      ],
      {
        SHOP_DATABASE_URL: 'postgres://x@127.0.0.1/db',
        SHOP_REDIS_URL: 'none',
      },
    );
    assert.equal(a.durationMs, 90_000);
    assert.deepEqual(a.faults, ['errors', 'slow-db']);
    assert.equal(a.faultForMs, 0);
    assert.equal(a.customers, 8);
    assert.equal(a.databaseUrl, 'postgres://x@127.0.0.1/db');
    assert.equal(a.redisUrl, null);
  });

  test('bad input is refused with a message naming the option', () => {
    assert.throws(() => parseDemoArgs(['--fault', 'meteor'], {}), /--fault: unknown fault "meteor"/);
    assert.throws(() => parseDemoArgs(['--duration', 'forever'], {}), /--duration/);
    assert.throws(() => parseDemoArgs(['--duration', '3h'], {}), /at most 2h/);
    assert.throws(() => parseDemoArgs(['--customers', '0'], {}), /--customers/);
    assert.throws(() => parseDemoArgs(['--nope'], {}), /nope/);
  });

  test('durations', () => {
    assert.equal(parseDemoDuration('500ms'), 500);
    assert.equal(parseDemoDuration('1.5m'), 90_000);
    assert.equal(parseDemoDuration('2h'), 7_200_000);
    assert.equal(parseDemoDuration('30'), 30_000);
    assert.equal(parseDemoDuration('10 minutes'), null);
  });
});

describe('demo webhook receiver', () => {
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const sign = (key: Buffer, id: string, ts: string, body: string) =>
    `v1,${createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64')}`;
  const key = Buffer.from(secret.slice(6), 'base64');

  test('a Standard Webhooks signature verifies; a changed body or another secret does not', () => {
    const body = '{"type":"alert.firing"}';
    const sig = sign(key, 'msg_1', '1700000000', body);
    assert.ok(verifySignature(secret, 'msg_1', '1700000000', body, sig));
    assert.ok(
      verifySignature(secret, 'msg_1', '1700000000', body, `v1,AAAA ${sig}`),
      'any of several signatures',
    );
    assert.ok(!verifySignature(secret, 'msg_1', '1700000000', `${body} `, sig));
    assert.ok(
      !verifySignature(`whsec_${randomBytes(24).toString('base64')}`, 'msg_1', '1700000000', body, sig),
    );
    assert.ok(!verifySignature(secret, 'msg_2', '1700000000', body, sig));
  });

  test('keeps each notification once, answering 204 when signed and 401 when not', async () => {
    const heard: string[] = [];
    const r = await startReceiver(secret, (x) => heard.push(`${x.type}:${x.verified}`));
    try {
      const body = JSON.stringify({ type: 'alert.firing', data: { alert: { rule: 'error_rate' } } });
      const ts = String(Math.floor(Date.now() / 1000));
      const post = (id: string, signature: string) =>
        fetch(r.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'webhook-id': id,
            'webhook-timestamp': ts,
            'webhook-signature': signature,
          },
          body,
        });
      assert.equal((await post('n1', sign(key, 'n1', ts, body))).status, 204);
      assert.equal((await post('n1', sign(key, 'n1', ts, body))).status, 204, 'a retry is accepted');
      assert.equal((await post('n2', 'v1,bm9wZQ==')).status, 401);
      assert.deepEqual(heard, ['alert.firing:true', 'alert.firing:false']);
      assert.equal(r.received.length, 2);
    } finally {
      await r.close();
    }
  });
});
