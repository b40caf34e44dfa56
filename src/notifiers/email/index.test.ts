import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { after, before, describe, test } from 'node:test';
import {
  configWith,
  HOSTILE,
  NEVER,
  notificationOf,
  notifierFor,
  sampleAlert,
  T0,
  transition,
} from '../../../test/support/notify-fixtures.js';
import { freePort, type SmtpReceiver, startSmtpReceiver } from '../../../test/support/receivers.js';
import { FakeClock } from '../../core/clock.js';
import { buildNotifier } from '../pipeline.js';
import { messageIdDomain } from './render.js';

/** Asserts that an HTML part is a complete document: doctype, html, head with charset and title, body. */
function assertFullDocument(html: string, subject: string | undefined) {
  assert.match(html, /^<!doctype html>\n<html><head><meta charset="utf-8">/i);
  assert.match(html, /<\/head>\n<body>\n[\s\S]+\n<\/body><\/html>\s*$/);
  const title = (subject ?? '').replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
  assert.ok(html.includes(`<title>${title}</title>`), html.slice(0, 300));
  assert.equal(html.match(/<body>/g)?.length, 1);
}

describe('email channel (SMTP)', () => {
  let smtp: SmtpReceiver;
  let authed: SmtpReceiver;
  before(async () => {
    smtp = await startSmtpReceiver();
    authed = await startSmtpReceiver({ auth: { user: 'prodmon', pass: 's3cret-pass' } });
  });
  after(async () => {
    await smtp.close();
    await authed.close();
  });
  const mail = (port: number, extra: Record<string, unknown> = {}) =>
    notifierFor({
      name: 'ops-mail',
      kind: 'email',
      to: ['ops@shop.example', 'oncall@shop.example'],
      from: 'prodmon <prodmon@shop.example>',
      smtp: { host: '127.0.0.1', port, starttls: 'off', ...extra },
    });

  test('one e-mail per notification: subject with severity and rule, text and HTML, threading headers', async () => {
    const n = notificationOf(transition('firing', sampleAlert({ severity: 'critical' })));
    assert.deepEqual(await mail(smtp.port).send(n, NEVER), { ok: true });
    const [m] = await smtp.waitFor(1);
    assert.equal(
      m!.subject,
      '[prodmon] CRITICAL: api_response_time is firing: p95 latency 812 ms > 500 ms on /checkout',
    );
    assert.deepEqual(m!.from?.value, [{ name: 'prodmon', address: 'prodmon@shop.example' }]);
    assert.deepEqual(smtp.envelopes[0]!.to, ['ops@shop.example', 'oncall@shop.example']);
    assert.match(m!.text ?? '', /Value: +812 \(threshold 500\)/);
    assert.match(
      String(m!.html),
      /<a href="https:\/\/prodmon\.example\/production\/dashboard\/#\/alerts\/al_test1">/,
    );
    assertFullDocument(String(m!.html), m!.subject);
    // The Message-ID's domain is the host of server.public_url (https://prodmon.example in the fixtures).
    assert.equal(m!.messageId, `<${n.id}@prodmon.example>`);
    assert.equal(m!.headers.get('x-prodmon-alert'), 'al_test1');
    assert.deepEqual(m!.references, '<alert-al_test1@prodmon.example>');
  });

  test('without server.public_url, Message-IDs carry the host name; every kind of mail is a full HTML document', async () => {
    const own = await startSmtpReceiver();
    try {
      const config = configWith(
        [
          {
            name: 'ops-mail',
            kind: 'email',
            to: ['ops@shop.example'],
            smtp: { host: '127.0.0.1', port: own.port, starttls: 'off' },
          },
        ],
        { server: {} },
      );
      assert.equal(config.server.public_url, undefined);
      const ch = buildNotifier(config.notifications.channels[0]!, { clock: new FakeClock(T0), config });
      const domain = hostname().toLowerCase();
      assert.match(domain, /^[a-z0-9._-]+$/, 'this test expects a plain host name');
      const lone = notificationOf(transition('firing', sampleAlert({ message: 'a <b>bold</b> & claim' })));
      const batch = ['x', 'y'].map((id) =>
        notificationOf(transition('firing', sampleAlert({ id: `al_${id}` }))),
      );
      await ch.send(lone, NEVER);
      await ch.sendBatch!(batch, NEVER);
      const [single, digest] = await own.waitFor(2);
      assert.equal(single!.messageId, `<${lone.id}@${domain}>`);
      assert.equal(single!.references, `<alert-al_test1@${domain}>`);
      assert.equal(digest!.messageId, `<digest-${batch[0]!.id}-2@${domain}>`);
      for (const m of [single!, digest!]) assertFullDocument(String(m.html), m.subject);
      assert.ok(String(single!.html).includes('a &lt;b&gt;bold&lt;/b&gt; &amp; claim'));
      await ch.close?.();
    } finally {
      await own.close();
    }
  });

  test('the Message-ID domain: the public URL host, else the host name made fit for a Message-ID', () => {
    assert.equal(messageIdDomain('https://ops.shop.example:8443/prodmon', 'box'), 'ops.shop.example');
    assert.equal(messageIdDomain('http://[::1]:9464', 'box'), '[::1]');
    assert.equal(messageIdDomain(undefined, 'Web-1.Shop.Example'), 'web-1.shop.example');
    assert.equal(messageIdDomain(undefined, 'my box (2)..local.'), 'mybox2.local');
    assert.equal(messageIdDomain(undefined, '<>'), 'localhost');
  });

  test('hostile text is escaped in the HTML part and the subject stays one line', async () => {
    const alert = sampleAlert({
      message: `${HOSTILE}\nSubject: injected`,
      labels: { x: '<img src=x onerror=1>' },
    });
    await mail(smtp.port).send(notificationOf(transition('firing', alert)), NEVER);
    const m = (await smtp.waitFor(2))[1]!;
    const html = String(m.html);
    assert.doesNotMatch(html, /<script>|<img|<b>bold/);
    assert.match(html, /&lt;script&gt;/);
    assert.doesNotMatch(m.subject ?? '', /\n/);
    assert.equal(m.headers.get('x-injected'), undefined);
    assert.ok((m.text ?? '').includes('<!channel> <!here> <@U123>'));
  });

  test('authenticates with user and password', async () => {
    const ok = await mail(authed.port, { auth: { user: 'prodmon', pass: 's3cret-pass' } }).send(
      notificationOf(transition('resolved')),
      NEVER,
    );
    assert.deepEqual(ok, { ok: true });
    assert.match((await authed.waitFor(1))[0]!.subject ?? '', /^\[prodmon\] RESOLVED: api_response_time/);
    const bad = await mail(authed.port, { auth: { user: 'prodmon', pass: 'wrong' } }).send(
      notificationOf(transition('firing')),
      NEVER,
    );
    assert.ok(!bad.ok && !bad.retryable && /authentication failed/.test(bad.reason));
    assert.doesNotMatch(bad.ok ? '' : bad.reason, /wrong/);
  });

  test('a 5xx reply (unknown recipient) is permanent', async () => {
    const strict = await startSmtpReceiver({ rejectRcpt: /@shop\.example$/ });
    try {
      const r = await mail(strict.port).send(notificationOf(transition('firing')), NEVER);
      assert.ok(!r.ok && !r.retryable && r.statusCode === 550, JSON.stringify(r));
      assert.equal(strict.mails.length, 0);
    } finally {
      await strict.close();
    }
  });

  test('a server that is down is retryable', async () => {
    const r = await mail(await freePort()).send(notificationOf(transition('firing')), NEVER);
    assert.ok(!r.ok && r.retryable, JSON.stringify(r));
  });

  test('several due at once make one digest e-mail listing each', async () => {
    const before = smtp.mails.length;
    const ns = ['a', 'b', 'c'].map((id, i) =>
      notificationOf(
        transition(
          i === 2 ? 'resolved' : 'firing',
          sampleAlert({ id: `al_${id}`, severity: i ? 'high' : 'critical' }),
        ),
      ),
    );
    const ch = mail(smtp.port);
    assert.deepEqual(ch.defaultRateLimit, { max: 5, per: 60_000 });
    assert.deepEqual(await ch.sendBatch!(ns, NEVER), { ok: true });
    const m = (await smtp.waitFor(before + 1))[before]!;
    assert.equal(smtp.mails.length, before + 1);
    assert.equal(m.subject, '[prodmon] 3 notifications (1 critical, 1 high, 1 resolved)');
    for (const id of ['al_a', 'al_b', 'al_c']) assert.ok((m.text ?? '').includes(`#/alerts/${id}`), id);
    assertFullDocument(String(m.html), m.subject);
  });
});
