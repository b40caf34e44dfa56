import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  HOSTILE,
  NEVER,
  notificationOf,
  notifierFor,
  sampleAlert,
  transition,
} from '../../../test/support/notify-fixtures.js';
import { mrkdwnProblems } from '../../../test/support/notify-formats.js';
import { checkSlackMessage, type HttpReceiver, startHttpReceiver } from '../../../test/support/receivers.js';

interface Msg {
  text: string;
  blocks: { type: string; text: { type: string; text: string } }[];
  attachments: {
    color: string;
    blocks: {
      type: string;
      text?: { type: string; text: string };
      fields?: { text: string }[];
      elements?: { text: string }[];
    }[];
  }[];
}

describe('slack channel', () => {
  let rx: HttpReceiver;
  before(async () => {
    rx = await startHttpReceiver();
    // Like Slack: a valid message gets 200 "ok", an invalid one 400 "invalid_blocks".
    rx.answer((r) =>
      checkSlackMessage(r.json).length === 0
        ? { status: 200, body: 'ok' }
        : { status: 400, body: 'invalid_blocks' },
    );
  });
  after(() => rx.close());
  const slack = () => notifierFor({ name: 'chat', kind: 'slack', url: `${rx.url}/services/T1/B1/xyz` });
  const last = () => rx.requests.at(-1)!.json as Msg;

  test('a firing alert: header, severity colour, value vs threshold, link to the dashboard', async () => {
    const r = await slack().send(
      notificationOf(transition('firing', sampleAlert({ severity: 'critical' }))),
      NEVER,
    );
    assert.deepEqual(r, { ok: true, statusCode: 200 });
    const m = last();
    assert.deepEqual(checkSlackMessage(m), []);
    assert.equal(m.blocks[0]!.text.text, 'CRITICAL: api_response_time is firing');
    assert.equal(m.attachments[0]!.color, '#d40e0d');
    const [message, facts, context] = m.attachments[0]!.blocks;
    assert.deepEqual(message!.text, {
      type: 'plain_text',
      text: 'p95 latency 812 ms > 500 ms on /checkout',
      emoji: false,
    });
    assert.ok(facts!.fields!.some((f) => f.text === '*Value*\n812 (threshold 500)'));
    assert.equal(
      context!.elements![0]!.text,
      '<https://prodmon.example/production/dashboard/#/alerts/al_test1|View alert in prodmon> · al_test1',
    );
    assert.match(m.text, /CRITICAL: api_response_time is firing: p95 latency 812 ms &gt; 500 ms/);
  });

  test('a resolution is green and says how long it was down', async () => {
    await slack().send(
      notificationOf(transition('resolved', sampleAlert(), { at: Date.UTC(2026, 0, 1, 13) })),
      NEVER,
    );
    const m = last();
    assert.deepEqual(checkSlackMessage(m), []);
    assert.equal(m.attachments[0]!.color, '#2eb67d');
    assert.match(m.blocks[0]!.text.text, /^RESOLVED: api_response_time after 1h$/);
    assert.ok(m.attachments[0]!.blocks[1]!.fields!.some((f) => f.text === '*Down for*\n1h'));
  });

  test('hostile text pings nobody: mrkdwn is escaped, the alert text goes in plain_text', async () => {
    assert.notDeepEqual(
      mrkdwnProblems('<!channel> & co', 'probe'),
      [],
      'the check itself catches a raw ping',
    );
    const alert = sampleAlert({ message: HOSTILE, rule: '<!here>', labels: { who: '<@U999> & <#C1>' } });
    const r = await slack().send(notificationOf(transition('firing', alert)), NEVER);
    assert.equal(r.ok, true);
    const m = last();
    assert.deepEqual(checkSlackMessage(m), []);
    const labels = m.attachments[0]!.blocks[1]!.fields!.find((f) => f.text.startsWith('*Labels*'))!;
    assert.equal(labels.text, '*Labels*\nwho=&lt;@U999&gt; &amp; &lt;#C1&gt;');
    assert.equal(m.attachments[0]!.blocks[0]!.text!.type, 'plain_text');
    assert.ok(m.attachments[0]!.blocks[0]!.text!.text.includes('<!channel>'));
  });

  test('a 200 whose body is not "ok" is a failure; a 400 is permanent', async () => {
    rx.answer(() => ({ status: 200, body: '<html>proxy login</html>' }));
    const odd = await slack().send(notificationOf(transition('firing')), NEVER);
    assert.ok(!odd.ok && odd.retryable && /instead of "ok"/.test(odd.reason));
    rx.answer(() => ({ status: 400, body: 'invalid_payload' }));
    const bad = await slack().send(notificationOf(transition('firing')), NEVER);
    assert.ok(!bad.ok && !bad.retryable && bad.reason === 'HTTP 400: invalid_payload');
    rx.answer((r) =>
      checkSlackMessage(r.json).length === 0
        ? { status: 200, body: 'ok' }
        : { status: 400, body: 'invalid_blocks' },
    );
  });

  test('several due at once go as one valid message, one attachment each; 1 per second by default', async () => {
    const s = slack();
    assert.deepEqual(s.defaultRateLimit, { max: 1, per: 1000 });
    const ns = ['a', 'b', 'c'].map((id, i) =>
      notificationOf(
        transition(
          i === 2 ? 'resolved' : 'firing',
          sampleAlert({ id: `al_${id}`, message: `${HOSTILE} ${id}` }),
        ),
      ),
    );
    const r = await s.sendBatch!(ns, NEVER);
    assert.equal(r.ok, true);
    const m = last();
    assert.deepEqual(checkSlackMessage(m), []);
    assert.equal(m.blocks[0]!.text.text, '3 prodmon notifications');
    assert.deepEqual(
      m.attachments.map((a) => a.color),
      ['#e8710a', '#e8710a', '#2eb67d'],
    );
  });
});
