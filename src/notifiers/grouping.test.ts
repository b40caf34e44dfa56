import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { T0 } from '../../test/support/notify-fixtures.js';
import {
  answerLikeServices,
  type HttpReceiver,
  type SmtpReceiver,
  startHttpReceiver,
  startSmtpReceiver,
  verifyStandardWebhook,
} from '../../test/support/receivers.js';
import { type Storm, startStorm, stormFixture } from '../../test/support/storm.js';

const METRIC = 'http_request_duration_ms';
const SECRET = `whsec_${Buffer.from('storm-secret-0123456789abcdef').toString('base64')}`;
const route = (i: number) => `/r${String(i).padStart(4, '0')}`;

/** `n` routes breaching critical (p95 2100 ms and up: the last route is the worst). */
function breach(s: Storm, n: number, from = 0): void {
  for (let i = from; i < from + n; i++) s.metrics.set(METRIC, { route: route(i) }, 2100 + i);
}

interface Hook {
  type: string;
  version: number;
  data: {
    notification_id: string;
    group: { key: string; rule: string; labels: Record<string, string>; open: number };
    status: string;
    summary: string;
    text: string;
    counts: Record<string, unknown>;
    alerts: {
      event: string;
      alert: { labels: Record<string, string>; value: number; metadata: Record<string, unknown> };
    }[];
    omitted: number;
  };
}

describe('grouped notifications: a storm of one rule', () => {
  let rx: HttpReceiver;
  let smtp: SmtpReceiver;
  let s: Storm | undefined;
  before(async () => {
    rx = await startHttpReceiver();
    smtp = await startSmtpReceiver();
    rx.answer(answerLikeServices);
  });
  after(async () => {
    await rx.close();
    await smtp.close();
  });
  afterEach(async () => {
    await s?.close();
    s = undefined;
    rx.requests.length = 0;
    smtp.mails.length = 0;
  });
  const on = (path: string) => rx.requests.filter((r) => r.path.startsWith(path));
  const channels = () => [
    { name: 'hook', kind: 'webhook', url: `${rx.url}/hook`, secret: SECRET },
    { name: 'chat', kind: 'slack', url: `${rx.url}/slack` },
    { name: 'pager', kind: 'pagerduty', routing_key: 'rk', url: `${rx.url}/pd`, source: 'shop-1' },
    { name: 'am', kind: 'alertmanager', url: `${rx.url}/am` }, // posts to /am/api/v2/alerts
    {
      name: 'mail',
      kind: 'email',
      to: ['ops@shop.example'],
      smtp: { host: '127.0.0.1', port: smtp.port, starttls: 'off' },
    },
  ];

  test('2,000 breaching label sets: one message per channel listing the count and the worst; one grouped resolution each', async () => {
    s = await startStorm({ channels: channels() });
    breach(s, 2000);
    await s.evaluate();
    await smtp.waitFor(1);

    // The store keeps each alert individually: the 100 worst routes (the cap) and one summary of the rest.
    const open = await s.store.alerts.listOpen();
    assert.equal(open.length, 101);
    const summary = open.find((a) => a.labels.overflow === 'true')!;
    assert.equal(summary.value, 1900);

    // Webhook: one signed version 2 group payload.
    const [hook, ...moreHooks] = on('/hook');
    assert.equal(moreHooks.length, 0, 'one webhook');
    assert.equal(verifyStandardWebhook(hook!, [SECRET], T0 / 1000), null);
    const body = hook!.json as Hook;
    assert.equal(hook!.headers['webhook-id'], body.data.notification_id);
    assert.match(body.data.notification_id, /^ng_/);
    assert.deepEqual([body.type, body.version, body.data.status], ['alert.group', 2, 'firing']);
    assert.deepEqual(body.data.group, {
      key: 'api_response_time',
      rule: 'api_response_time',
      labels: {},
      open: 101,
    });
    assert.equal(body.data.summary, 'CRITICAL: api_response_time: 2,000 alerts firing');
    assert.deepEqual(body.data.counts, {
      alerts: 101,
      firing: 101,
      resolved: 0,
      label_sets_firing: 2000,
      label_sets_resolved: 0,
      beyond_cap: 1900,
      by_severity: { low: 0, medium: 0, high: 0, critical: 100 },
    });
    assert.deepEqual(
      body.data.alerts.map((a) => a.alert.labels.route ?? `overflow ${a.alert.value}`),
      [...Array.from({ length: 10 }, (_, i) => route(1999 - i)), 'overflow 1900'],
      'the ten worst routes, then the summary of the rest',
    );
    assert.equal(body.data.omitted, 90);
    assert.match(
      body.data.text,
      /^CRITICAL: api_response_time: 2,000 alerts firing\n\nFiring: 100 alerts \(100 critical\) \+ 1,900 more label sets beyond the per-rule cap, 2,000 in all\. Still open in this group: 101\n\nWorst 10:\n- CRITICAL route=\/r1999: p95 response time of \/r1999 is 4099 ms \(threshold 2000 ms\) \(4099, threshold 2000\)\n/,
    );

    // Slack: one valid message.
    const slack = on('/slack');
    assert.equal(slack.length, 1);
    const m = slack[0]!.json as {
      blocks: { text: { text: string } }[];
      attachments: { color: string; blocks: { text?: { text: string } }[] }[];
    };
    assert.equal(m.blocks[0]!.text.text, 'CRITICAL: api_response_time: 2,000 alerts firing');
    assert.equal(m.attachments[0]!.color, '#d40e0d');
    const list = m.attachments[0]!.blocks[1]!.text!.text.split('\n');
    assert.equal(list.length, 12);
    assert.match(list[0]!, /^• CRITICAL route=\/r1999: /);
    assert.deepEqual(list.slice(10), [
      '• and 90 more',
      '• and 1,900 more label sets beyond the per-rule cap',
    ]);

    // PagerDuty: one incident for the group.
    const pd = on('/pd');
    assert.equal(pd.length, 1);
    const ev = pd[0]!.json as {
      event_action: string;
      dedup_key: string;
      payload: { summary: string; severity: string; custom_details: { worst: string[]; open: number } };
    };
    assert.deepEqual(
      [ev.event_action, ev.dedup_key, ev.payload.summary, ev.payload.severity],
      [
        'trigger',
        'prodmon-group:api_response_time',
        'CRITICAL: api_response_time: 2,000 alerts firing',
        'critical',
      ],
    );
    assert.equal(ev.payload.custom_details.worst.length, 10);

    // Alertmanager: one post carrying every alert (it groups by itself).
    const am = on('/am');
    assert.equal(am.length, 1);
    assert.equal((am[0]!.json as unknown[]).length, 101);

    // E-mail over real SMTP: one mail.
    assert.equal(smtp.mails.length, 1);
    const mail = smtp.mails[0]!;
    assert.equal(mail.subject, '[prodmon] CRITICAL: api_response_time: 2,000 alerts firing');
    assert.equal(mail.headers.get('x-prodmon-event'), 'group');
    assert.match(mail.text ?? '', /Worst 10:\n- CRITICAL route=\/r1999: /);
    assert.match(mail.html || '', /2,000 alerts firing/);

    // Every row is delivered, each alert individually recorded.
    const counts = await s.store.outbox.counts();
    assert.deepEqual([counts.pending, counts.delivered], [0, 101 * 5]);

    // All clear five minutes on: one grouped resolution per channel.
    await s.clock.advance(5 * 60_000);
    for (let i = 0; i < 2000; i++) s.metrics.set(METRIC, { route: route(i) }, 100);
    rx.requests.length = 0;
    await s.evaluate();
    await smtp.waitFor(2);
    assert.deepEqual(
      ['/hook', '/slack', '/pd', '/am'].map((p) => on(p).length),
      [1, 1, 1, 1],
    );
    const done = on('/hook')[0]!.json as Hook;
    assert.deepEqual(
      [done.data.status, done.data.summary],
      ['resolved', 'RESOLVED: api_response_time: 2,000 alerts resolved'],
    );
    assert.deepEqual(
      [done.data.counts.resolved, done.data.counts.label_sets_resolved, done.data.group.open],
      [101, 2000, 0],
    );
    assert.equal(
      (on('/slack')[0]!.json as { blocks: { text: { text: string } }[] }).blocks[0]!.text.text,
      'RESOLVED: api_response_time: 2,000 alerts resolved',
    );
    assert.deepEqual(on('/pd')[0]!.json, {
      routing_key: 'rk',
      dedup_key: 'prodmon-group:api_response_time',
      event_action: 'resolve',
    });
    assert.equal((on('/am')[0]!.json as unknown[]).length, 101);
    assert.equal(smtp.mails.length, 2);
    assert.equal(smtp.mails[1]!.subject, '[prodmon] RESOLVED: api_response_time: 2,000 alerts resolved');
    assert.equal((await s.store.alerts.listOpen()).length, 0);
  });
});

describe('grouped notifications: a lone alert, the reported storm, a storm without the cap', () => {
  const f = stormFixture();
  const hook = () => [{ name: 'hook', kind: 'webhook', url: `${f.rx.url}/hook` }];

  test('a single alert is notified at once: fresh data to webhook without any fake time passing', async () => {
    const s = await f.start({ channels: hook() });
    s.metrics.set(METRIC, { route: '/checkout' }, 2600);
    s.metrics.emit(METRIC); // fresh data, as the recorder announces it: evaluated at once
    const [r] = await f.rx.waitFor(1, 5000);
    assert.equal(s.clock.now(), T0, 'breach to notification: 0 ms on the clock');
    const body = r!.json as { type: string; data: { alert: { firing_at: string } } };
    assert.equal(body.type, 'alert.firing');
    assert.equal(body.data.alert.firing_at, new Date(T0).toISOString());
    assert.equal(r!.headers['webhook-timestamp'], String(T0 / 1000));
  });

  test('the reported storm: 3 pushes of 2,000 new routes each give one webhook, and the summary counts 5,900', async () => {
    const s = await f.start({ channels: hook() });
    for (let push = 0; push < 3; push++) {
      breach(s, 2000, push * 2000);
      s.metrics.emit(METRIC);
      await s.engine.idle();
      await s.pipeline.worker.idle();
      await s.clock.advance(5000);
    }
    await s.advance(120_000, 20_000);
    assert.equal(f.rx.requests.length, 1, 'one webhook, not 6,000');
    const body = f.rx.requests[0]!.json as Hook;
    assert.equal(body.data.counts.label_sets_firing, 2000, 'what the first push showed');
    const open = await s.store.alerts.listOpen();
    assert.equal(open.length, 101);
    assert.equal(
      open.find((a) => a.labels.overflow === 'true')!.value,
      5900,
      'every breaching route counted',
    );
  });

  test('without the cap, 600 alerts created by one evaluation (three transactions) still give exactly one message', async () => {
    const s = await f.start({ channels: hook(), alerting: { max_alerts_per_rule: 5000 } });
    breach(s, 600); // the engine commits 200 plans per transaction
    await s.evaluate();
    assert.equal((await s.store.alerts.listOpen()).length, 600);
    assert.equal(f.rx.requests.length, 1);
    const body = f.rx.requests[0]!.json as Hook;
    assert.deepEqual(
      [body.data.counts.alerts, body.data.counts.label_sets_firing, body.data.omitted],
      [600, 600, 590],
    );
    assert.equal(
      (await s.store.outbox.counts()).delivered,
      600,
      'each alert keeps its row, delivered by the one message',
    );
  });
});
