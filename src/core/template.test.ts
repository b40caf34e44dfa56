import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { placeholders, renderTemplate } from './template.js';

describe('template engine', () => {
  test('placeholders are filled in one pass: template syntax inside a value is shown, not expanded', () => {
    const out = renderTemplate('Message: {{message}}', {
      message: 'x {{link}} {{{message}}}',
      link: 'SECRET',
    });
    assert.equal(out, 'Message: x {{link}} {{{message}}}');
  });

  test('an unknown name, an inherited name or an empty value becomes an empty string, never an error', () => {
    assert.equal(
      renderTemplate('a={{a}} b={{ b }} c={{c}} d={{constructor}} e={{__proto__}} f={{x.y}}|', {
        a: 1,
        b: '',
        c: null,
      }),
      'a=1 b= c= d= e= f=|',
    );
    assert.equal(
      renderTemplate('{{a}}/{{b}}', (name) => (name === 'a' ? true : undefined)),
      'true/',
    );
  });

  test('nothing but placeholders is interpreted', () => {
    const t = '{{#each x}}{{/each}} <%= a %> ${a} {{ a b }} {{1a}}';
    assert.equal(renderTemplate(t, { a: 'A' }), t);
  });

  test('escaping applies to values only, not to the template', () => {
    const out = renderTemplate('<b>{{v}}</b>', { v: '<i>' }, { escape: (s) => s.replace(/</g, '&lt;') });
    assert.equal(out, '<b>&lt;i></b>');
  });

  test('optional lines: a line where a placeholder came out empty is left out whole', () => {
    const t = 'a {{x}}\nb {{y}}\nc {{unknown}}\nd {{x}} {{y}}\ne';
    assert.equal(renderTemplate(t, { x: '1', y: '' }, { optionalLines: true }), 'a 1\ne');
    assert.equal(renderTemplate(t, { x: '1', y: '' }), 'a 1\nb \nc \nd 1 \ne');
  });

  test('placeholders lists the names a template uses', () => {
    assert.deepEqual(placeholders('{{a}} {{ labels.route }} {{a}} {{#x}}'), ['a', 'labels.route', 'a']);
  });
});
