import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProdmonError } from '../core/errors.js';
import { Slicer } from '../core/slice.js';
import { parsePushBody } from './push-body.js';

const parse = (text: string, slicer?: Slicer) => parsePushBody(Buffer.from(text), slicer);

test('a push body parsed in slices is what JSON.parse makes of it', async () => {
  const bodies = [
    '{}',
    ' { } ',
    '{"instance":"a","rows":[]}',
    '{"rows" : [ ] , "instance" : "a"}',
    '\n{\n  "instance": "web-1",\n  "rows": [\n    {"metric": "m", "labels": {"route": "/a\\"b\\\\", "x": "é ☃ \\u00e9"}, "count": 1e3, "min": -0.5, "sketch": null},\n    {"nested": [[1, [2, {"k": "]}"}]], {"a": true, "b": false, "c": null}]}\n  ]\n}\n',
    '{"rows":[1,"two",[3],{"four":4},null,true],"extra":{"deep":[{"x":"\\\\"}]},"n":-12.5e-3}',
    '{"instance":"a","instance":"b"}',
    '[1, 2, {"rows": [3]}]',
    '"just a string"',
  ];
  for (const text of bodies) assert.deepEqual(await parse(text), JSON.parse(text), text);
});

test('a body that is not valid JSON is refused with a 400 naming where', async () => {
  const bad = [
    '',
    '{',
    '{"rows":[{"a":1}',
    '{"rows":[{"a":1},]}',
    '{"rows":[{"a":1} {"b":2}]}',
    '{"rows":[{"a":tru}]}',
    '{"instance":"a",}',
    '{"instance" "a"}',
    '{instance:"a"}',
    '{"instance":"a"} x',
    '{"instance":"a\\"}',
    '{"rows":["\u0001"]}',
    '{"__proto__":{"polluted":true}}',
  ];
  for (const text of bad) {
    await assert.rejects(
      parse(text),
      (err: unknown) =>
        err instanceof ProdmonError &&
        err.code === 'PRODMON_E_BAD_REQUEST' &&
        /the body is not valid JSON: .* at byte \d+/.test(err.message),
      text,
    );
  }
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('the rows of a large body are parsed a slice at a time', async () => {
  const rows = Array.from({ length: 5000 }, (_, i) => ({
    i,
    sketch: 'A'.repeat(2000),
    labels: { r: `/r${i}` },
  }));
  const slicer = new Slicer(1);
  const out = (await parse(JSON.stringify({ instance: 'big', rows }), slicer)) as { rows: unknown[] };
  assert.equal(out.rows.length, 5000);
  assert.deepEqual(out.rows[4999], rows[4999]);
  assert.ok(slicer.yields > 0, 'yielded to the event loop between rows');
});
