import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { runCli } from '../../test/support/cli.js';
import { freePort, type HttpReceiver, startHttpReceiver } from '../../test/support/receivers.js';
import { tempDir } from '../../test/support/services.js';
import { disableChannel, disabledState } from '../notifiers/outbox/channel-state.js';
import { openStore } from '../store/index.js';

describe('prodmon notify', () => {
  let rx: HttpReceiver;
  const dir = tempDir();
  const cfg = join(dir.path, 'prodmon.yaml');
  const db = join(dir.path, 'data', 'prodmon.db');
  const cli = (...args: string[]) =>
    runCli(['--config', cfg, '--data-dir', join(dir.path, 'data'), ...args], { cwd: dir.path });
  let secret = '';
  before(async () => {
    rx = await startHttpReceiver();
    const made = await runCli(['notify', 'secret'], { cwd: dir.path });
    assert.equal(made.code, 0, made.stderr);
    secret = made.stdout.trim();
    writeFileSync(
      cfg,
      [
        'notifications:',
        '  channels:',
        `    - { name: hook, kind: webhook, url: "${rx.url}/hooks/TOPSECRETPATH", secret: "${secret}" }`,
        `    - { name: other, kind: webhook, url: "http://127.0.0.1:${await freePort()}/x" }`,
      ].join('\n'),
    );
  });
  after(async () => {
    await rx.close();
    dir.cleanup();
  });

  test('secret prints a new Standard Webhooks secret, without needing a config', async () => {
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.equal(Buffer.from(secret.slice(6), 'base64').length, 32);
    const again = await runCli(['notify', 'secret'], { cwd: dir.path });
    assert.notEqual(again.stdout.trim(), secret);
  });

  test('test <channel> sends a signed test message and prints ok; a failure exits 1 without the secret URL', async () => {
    rx.answer(() => ({ status: 200 }));
    const ok = await cli('notify', 'test', 'hook');
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^ok: test notification sent through "hook" \(webhook\) in \d+ ms\n$/);
    const [r] = rx.requests;
    assert.equal((r!.json as { type: string }).type, 'prodmon.test');
    const headers = Object.fromEntries(Object.entries(r!.headers).map(([k, v]) => [k, String(v)]));
    assert.equal((new Webhook(secret).verify(r!.body, headers) as { type: string }).type, 'prodmon.test');
    rx.answer(() => ({ status: 503, body: 'maintenance' }));
    const bad = await cli('notify', 'test', 'hook', '--json');
    assert.equal(bad.code, 1);
    const out = JSON.parse(bad.stdout) as {
      ok: boolean;
      retryable: boolean;
      reason: string;
      statusCode: number;
    };
    assert.deepEqual(
      [out.ok, out.retryable, out.statusCode, out.reason],
      [false, true, 503, 'HTTP 503: maintenance'],
    );
    const down = await cli('notify', 'test', 'other');
    assert.equal(down.code, 1);
    assert.match(down.stdout, /failed: "other" \(webhook\): network error: ECONNREFUSED \(temporary failure/);
    const printed = ok.stdout + bad.stdout + bad.stderr;
    assert.ok(!printed.includes('TOPSECRETPATH') && !printed.includes(secret.slice(6)), printed);
  });

  test('test with an unknown channel exits 2 naming the channels', async () => {
    const r = await cli('notify', 'test', 'nope');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no channel named "nope" in notifications.channels \(channels: hook, other\)/);
  });

  test('outbox lists pending, failed and dead; --retry re-queues all but those a later delivery made moot', async () => {
    const store = await openStore({ driver: 'sqlite', path: db });
    const now = Date.now();
    await store.migrate(now);
    const add = async (
      key: string,
      status: 'pending' | 'failed' | 'dead' | 'delivered',
      alertId: string,
      at: number,
    ) => {
      await store.outbox.enqueue({
        key,
        alertId,
        transition: key.split(':')[1]!,
        channel: 'hook',
        payload: {},
        now: at,
      });
      const item = (await store.outbox.forAlert(alertId)).find((i) => i.key === key)!;
      await store.outbox.setState(item.id, {
        status,
        attempts: 3,
        nextAttemptAt: at,
        lastError: status === 'delivered' ? null : 'HTTP 500',
        now: at,
      });
    };
    await add('t1:firing', 'dead', 'al_1', now - 5000);
    await add('t2:firing', 'failed', 'al_2', now - 4000);
    await add('t3:firing', 'dead', 'al_3', now - 3000);
    await add('t3:resolved', 'delivered', 'al_3', now - 2000);
    await add('t4:firing', 'pending', 'al_4', now - 1000);
    await store.close();

    const list = await cli('notify', 'outbox', '--json');
    assert.equal(list.code, 0, list.stderr);
    const parsed = JSON.parse(list.stdout) as {
      counts: Record<string, number>;
      items: { key: string; status: string }[];
    };
    assert.deepEqual(parsed.counts, { pending: 1, delivered: 1, failed: 1, dead: 2 });
    assert.deepEqual(parsed.items.map((i) => i.key).sort(), [
      't1:firing',
      't2:firing',
      't3:firing',
      't4:firing',
    ]);

    const table = await cli('notify', 'outbox');
    assert.match(table.stdout, /pending 1, delivered 1, failed 1, dead 2/);
    assert.match(table.stdout, /│ hook +│ firing +│ al_1 +│ dead +│ 3 /);

    const retry = await cli('notify', 'outbox', '--retry');
    assert.equal(retry.code, 0, retry.stderr);
    assert.match(retry.stdout, /re-queued 2 notification\(s\); skipped 1 made moot by a later delivered one/);
    const after = JSON.parse((await cli('notify', 'outbox', '--json', '--status', 'pending')).stdout) as {
      items: { key: string }[];
    };
    assert.deepEqual(after.items.map((i) => i.key).sort(), ['t1:firing', 't2:firing', 't4:firing']);
    assert.equal((await cli('notify', 'outbox', '--status', 'bogus')).code, 2);
    const many = await cli('notify', 'outbox', '--limit', '1e9');
    assert.equal(many.code, 2);
    assert.match(many.stderr, /--limit: expected a whole number from 1 to 10000, got "1e9"/);
  });

  test('enable re-enables a disabled channel', async () => {
    const store = await openStore({ driver: 'sqlite', path: db });
    await store.migrate(Date.now());
    await disableChannel(store.state, 'hook', 'HTTP 410', Date.now());
    await store.close();
    const r = await cli('notify', 'enable', 'hook');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'channel "hook" enabled\n');
    const check = await openStore({ driver: 'sqlite', path: db });
    assert.equal(await disabledState(check.state, 'hook'), undefined);
    await check.close();
  });
});
