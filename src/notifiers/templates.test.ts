import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HOSTILE, notificationOf, sampleAlert, T0, transition } from '../../test/support/notify-fixtures.js';
import { placeholders } from '../core/template.js';
import { escapeSlack, escapeText, oneLine, truncate } from './escape.js';
import { alertFields, headline } from './message.js';
import {
  LINE_TEMPLATE,
  renderHtml,
  renderLine,
  renderSubject,
  renderText,
  SUBJECT_TEMPLATE,
  TEXT_TEMPLATE,
} from './templates.js';

describe('templates', () => {
  test('every placeholder of the notification templates is a fact the notification gives', () => {
    const fields = alertFields(notificationOf(transition('firing', sampleAlert())));
    for (const t of [TEXT_TEMPLATE, LINE_TEMPLATE, SUBJECT_TEMPLATE])
      for (const name of placeholders(t)) assert.ok(Object.hasOwn(fields, name), `unknown field ${name}`);
  });

  test('escapers: Slack control characters, control characters, one line', () => {
    assert.equal(escapeSlack('<!channel> <@U1> a&b'), '&lt;!channel&gt; &lt;@U1&gt; a&amp;b');
    assert.equal(escapeText('a\u0007b\u001bc\nd\te'), 'abc\nd\te');
    assert.equal(oneLine('a\r\n  b\n\nc '), 'a b c');
    assert.equal(truncate('ab😀cd', 4), 'ab😀…');
    assert.equal(truncate('abc', 3), 'abc');
  });

  test('the text body says what, how bad, since when, value vs threshold, and links to the alert', () => {
    const n = notificationOf(transition('firing', sampleAlert()), { at: T0 + 5 * 60_000 });
    const text = renderText(n);
    assert.match(text, /^HIGH: api_response_time is firing\n\np95 latency 812 ms > 500 ms on \/checkout\n/);
    assert.match(text, /Value: +812 \(threshold 500\)/);
    assert.match(text, /Since: +2026-01-01 12:00:00 UTC/);
    assert.match(text, /Firing for: +5m/);
    assert.match(
      text,
      /View the alert: https:\/\/prodmon\.example\/production\/dashboard\/#\/alerts\/al_test1/,
    );
    assert.doesNotMatch(text, /Down for|Reminders|Was:/);
  });

  test('a resolution says how long it was down and how it was resolved; a reminder counts', () => {
    const r = notificationOf(transition('resolved', sampleAlert(), { at: T0 + 35 * 60_000 }));
    assert.equal(headline(r), 'RESOLVED: api_response_time after 35m');
    assert.match(
      renderText(r),
      /Down for: +35m\n.*Resolved: +2026-01-01 12:35:00 UTC\nResolution: +automatically: back under threshold/s,
    );
    const rem = notificationOf(transition('reminder', sampleAlert(), { reminders: 3, at: T0 + 3_600_000 }));
    assert.match(renderText(rem), /still firing \(reminder 3\)[\s\S]*Reminders: +3/);
    const esc = notificationOf(
      transition('escalated', sampleAlert({ severity: 'critical' }), { previousSeverity: 'high' }),
    );
    assert.equal(headline(esc), 'CRITICAL: api_response_time escalated from high');
    assert.match(renderText(esc), /Was: +high/);
  });

  test('hostile text: HTML escaped in the HTML body, kept verbatim (minus control characters) in text', () => {
    const alert = sampleAlert({ message: HOSTILE, labels: { route: '<img src=x onerror=alert(1)>' } });
    const n = notificationOf(transition('firing', alert));
    const html = renderHtml(n);
    assert.doesNotMatch(html, /<script>|<b>bold|<img/);
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.match(html, /\{\{link\}\} \{\{\{message\}\}\}/, 'template syntax from data shown as text');
    const text = renderText(n);
    assert.ok(text.includes(HOSTILE.replace('\u0007', '')));
    assert.equal(renderSubject(n, '[prodmon]').includes('\n'), false);
    assert.ok(renderLine(n, 50).length <= 50);
  });

  test('fields are empty where they do not apply (no value, no link)', () => {
    const n = notificationOf(transition('firing', sampleAlert({ value: null, threshold: null })), {
      link: null,
    });
    const f = alertFields(n);
    assert.equal(f.value_vs_threshold, '');
    assert.equal(f.link, '');
    assert.doesNotMatch(renderText(n), /Value:|View the alert/);
    assert.doesNotMatch(renderHtml(n), /href/);
  });
});
