import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { escapeHtml } from './html.js';

describe('escapeHtml', () => {
  test('markup characters become entities, in content and in attribute values', () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    assert.equal(escapeHtml('`a`'), '&#96;a&#96;');
    assert.equal(escapeHtml('&amp;'), '&amp;amp;', 'escaped once more, never taken as already escaped');
  });

  test('control characters are removed; tab and line breaks stay', () => {
    assert.equal(escapeHtml('a\u0007b\u001bc\u0000\nd\te\r\nf\u007f'), 'abc\nd\te\r\nf');
  });

  test('the result is well-formed XML text (inline SVG)', () => {
    assert.doesNotMatch(
      escapeHtml('<svg onload="x">&nbsp;</svg>'),
      /[<>"]|&(?!amp;|lt;|gt;|quot;|#39;|#96;)/,
    );
  });
});
