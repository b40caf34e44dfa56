import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { sampleAlert, T0, transition } from '../../../test/support/notify-fixtures.js';
import { type Harness, startHarness } from '../../../test/support/notify-harness.js';
import {
  checkSlackMessage,
  freePort,
  type HttpReceiver,
  type SmtpReceiver,
  startHttpReceiver,
  startSmtpReceiver,
} from '../../../test/support/receivers.js';
import { disabledState, enableChannel } from './channel-state.js';

/** These tests are about notifications one by one (grouping has its own tests). */
const UNGROUPED = { grouping: { enabled: false } };

const firing = (id: string, severity: 'medium' | 'high' | 'critical' = 'high') =>
  transition('firing', sampleAlert({ id, fingerprint: id, severity }));

describe('outbox worker: channel state, rate limits, digests, leadership', () => {
  let rx: HttpReceiver;
  let h: Harness | undefined;
  before(async () => {
    rx = await startHttpReceiver();
  });
  after(() => rx.close());
  afterEach(async () => {
    await h?.close();
    h = undefined;
    rx.requests.length = 0;
  });

  test('410 Gone disables the channel (persisted), tells the callback, and fails later items unsent', async () => {
    h = await startHarness([{ name: 'hook', kind: 'webhook', url: rx.url }], {}, UNGROUPED);
    rx.answer(() => ({ status: 410, body: 'gone' }));
    await h.accept(firing('al_1'));
    assert.deepEqual(
      h.disabled.map((d) => [d.channel, d.reason]),
      [['hook', 'HTTP 410: gone (endpoint gone)']],
    );
    assert.equal((await disabledState(h.store.state, 'hook'))?.reason, 'HTTP 410: gone (endpoint gone)');
    await h.accept(firing('al_2'));
    assert.equal(rx.requests.length, 1, 'nothing sent to a disabled channel');
    const failed = await h.store.outbox.list(['failed']);
    assert.equal(failed.length, 2);
    const second = failed.find((i) => i.alertId === 'al_2');
    assert.match(
      second?.lastError ?? '',
      /^channel disabled: HTTP 410: gone .*\(re-enable: prodmon notify enable hook\)$/,
    );
    rx.answer(() => ({ status: 200 }));
    assert.equal(await enableChannel(h.store.state, 'hook', h.clock.now()), true);
    await h.accept(firing('al_3'));
    assert.equal(rx.requests.length, 2);
    assert.deepEqual(h.recovered, ['hook']);
  });

  test('Slack: at most one message a second; more due at once go as one message', async () => {
    h = await startHarness([{ name: 'chat', kind: 'slack', url: `${rx.url}/slack` }], {}, UNGROUPED);
    rx.answer((r) =>
      checkSlackMessage(r.json).length
        ? { status: 400, body: 'invalid_blocks' }
        : { status: 200, body: 'ok' },
    );
    await h.accept(firing('al_1'));
    for (const id of ['al_2', 'al_3', 'al_4']) await h.accept(firing(id));
    assert.equal(rx.requests.length, 1, 'the rest wait for the next second');
    await h.advance(1000, 250);
    assert.equal(rx.requests.length, 2);
    const batch = rx.requests[1]!.json as { blocks: { text: { text: string } }[]; attachments: unknown[] };
    assert.equal(batch.blocks[0]!.text.text, '3 prodmon notifications');
    assert.equal(batch.attachments.length, 3);
    assert.equal((await h.store.outbox.list(['delivered'])).length, 4);
    await h.advance(5000);
    assert.equal(rx.requests.length, 2, 'nothing more');
  });

  test('a configured rate_limit holds a channel back, then sends one by one when the kind cannot batch', async () => {
    h = await startHarness(
      [{ name: 'pd', kind: 'pagerduty', routing_key: 'k', url: rx.url, rate_limit: { max: 2, per: '1m' } }],
      {},
      UNGROUPED,
    );
    rx.answer(() => ({ status: 202 }));
    for (const id of ['al_1', 'al_2', 'al_3', 'al_4', 'al_5']) {
      await h.accept(firing(id));
      await h.clock.advance(1); // written in distinct milliseconds: sent first in, first out
    }
    assert.equal(rx.requests.length, 2);
    await h.advance(60_000, 10_000);
    assert.equal(rx.requests.length, 4);
    await h.advance(60_000, 10_000);
    assert.deepEqual(
      rx.requests.map((r) => (r.json as { dedup_key: string }).dedup_key),
      ['al_1', 'al_2', 'al_3', 'al_4', 'al_5'],
    );
  });

  test('only the leader delivers', async () => {
    h = await startHarness([{ name: 'hook', kind: 'webhook', url: rx.url }]);
    rx.answer(() => ({ status: 200 }));
    h.leader.value = false;
    await h.accept(firing('al_1'));
    await h.advance(30_000, 5000);
    assert.equal(rx.requests.length, 0);
    h.leader.value = true;
    await h.advance(5000, 5000);
    assert.equal(rx.requests.length, 1);
  });

  test('rows for a channel no longer in the config fail with a clear reason', async () => {
    h = await startHarness([{ name: 'hook', kind: 'webhook', url: rx.url }]);
    await h.store.outbox.enqueue({
      key: 'x:old',
      alertId: 'al_x',
      transition: 'firing',
      channel: 'old',
      payload: {},
      now: T0,
    });
    h.pipeline.worker.wake();
    await h.settle();
    const [f] = await h.store.outbox.list(['failed']);
    assert.deepEqual([f?.channel, f?.lastError], ['old', 'channel "old" is not configured']);
    assert.deepEqual(
      h.failures.map((x) => [x.channel, x.status]),
      [['old', 'failed']],
    );
  });
});

describe('outbox worker with e-mail', () => {
  let h: Harness | undefined;
  let smtp: SmtpReceiver | undefined;
  afterEach(async () => {
    await h?.close();
    await smtp?.close();
    h = undefined;
    smtp = undefined;
  });
  const channel = (port: number) => ({
    name: 'mail',
    kind: 'email',
    to: ['ops@shop.example'],
    smtp: { host: '127.0.0.1', port, starttls: 'off' },
  });

  test('the SMTP server down at firing time and up later: the mail arrives, once', async () => {
    const port = await freePort();
    h = await startHarness([channel(port)], { attempt_timeout: '2s' });
    await h.accept(firing('al_1', 'critical'));
    const [waiting] = await h.store.outbox.pending();
    assert.equal(waiting?.attempts, 1);
    assert.match(waiting?.lastError ?? '', /^SMTP /);
    smtp = await startSmtpReceiver({ port });
    await h.advance(30_000);
    assert.equal(smtp.mails.length, 1);
    assert.match(smtp.mails[0]!.subject ?? '', /CRITICAL: api_response_time is firing/);
    assert.equal((await h.store.outbox.list(['delivered'])).length, 1);
  });

  test('a burst beyond the rate limit becomes one digest; quieter times one mail each', async () => {
    smtp = await startSmtpReceiver();
    h = await startHarness([channel(smtp.port)], {}, UNGROUPED);
    for (let i = 1; i <= 12; i++) await h.accept(firing(`al_${i}`));
    await h.advance(60_000, 10_000);
    const subjects = smtp.mails.map((m) => m.subject);
    assert.equal(subjects.length, 6, subjects.join('\n'));
    assert.equal(subjects[5], '[prodmon] 7 notifications (7 high)');
    assert.equal((await h.store.outbox.list(['delivered'], 100)).length, 12);
  });
});
