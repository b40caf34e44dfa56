import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { html, join, jsonForScript, raw, safeHref } from './html.js';

describe('html escaping', () => {
  test('interpolated text is escaped, nested fragments are not escaped twice', () => {
    const msg = '<img src=x onerror=alert(1)>';
    const inner = html`<b>${msg}</b>`;
    const out = html`<p title="${'"quoted" & \'single\''}">${inner}${['<i>', 1, null, undefined, false]}</p>`
      .value;
    assert.equal(
      out,
      '<p title="&quot;quoted&quot; &amp; &#39;single&#39;"><b>&lt;img src=x onerror=alert(1)&gt;</b>&lt;i&gt;1</p>',
    );
    assert.equal(html`<p>${'`a`\u0007'}</p>`.value, '<p>&#96;a&#96;</p>');
    assert.equal(join([html`<br>`, '<x>'], ',').value, '<br>,&lt;x&gt;');
    assert.equal(raw('<hr>').value, '<hr>');
  });

  test('JSON for a script block cannot close the element', () => {
    const out = jsonForScript({ m: '</script><script>alert(1)</script>', l: '\u2028' }).value;
    assert.ok(!out.includes('<'));
    assert.ok(!out.includes('>'));
    assert.deepEqual(JSON.parse(out), { m: '</script><script>alert(1)</script>', l: '\u2028' });
  });

  test('only relative paths and http(s) URLs are links', () => {
    assert.equal(safeHref('javascript:alert(1)'), null);
    assert.equal(safeHref(' JaVaScRiPt:alert(1)'), null);
    assert.equal(safeHref('data:text/html,<b>x</b>'), null);
    assert.equal(safeHref('//evil.example/x'), null);
    assert.equal(safeHref('/\\evil.example'), null);
    assert.equal(safeHref('/production/dashboard/'), '/production/dashboard/');
    assert.equal(safeHref('https://runbooks.example/db'), 'https://runbooks.example/db');
  });
});
