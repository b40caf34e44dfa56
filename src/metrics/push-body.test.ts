import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { ProdmonError } from '../core/errors.js';
import { Slicer } from '../core/slice.js';
import { BodyBuffers, parsePushBody } from './push-body.js';

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

describe('push bodies read into buffers kept for the next pushes', () => {
  const errors = {
    tooLarge: () => Object.assign(new Error('too large'), { statusCode: 413 }),
    wrongLength: () => Object.assign(new Error('wrong length'), { statusCode: 400 }),
  };
  const stream = (chunks: (Buffer | string)[], fail?: Error) =>
    Readable.from(
      (async function* () {
        for (const c of chunks) yield c;
        if (fail) throw fail;
      })(),
      { objectMode: true },
    );

  test('the bytes of every chunk, in order; the buffer is reused by the next body, never shared by two at once', async () => {
    const bodies = new BodyBuffers(errors);
    const seen: ArrayBufferLike[] = [];
    const text = JSON.stringify({ instance: 'a', rows: Array.from({ length: 300 }, (_, i) => ({ i })) });
    const parts = [text.slice(0, 7), Buffer.from(text.slice(7, 5000)), text.slice(5000)];
    const read = () =>
      bodies.read(stream(parts), Buffer.byteLength(text), 1 << 20, async (body) => {
        seen.push(body.buffer);
        return parsePushBody(body);
      });
    assert.deepEqual(await read(), JSON.parse(text));
    assert.deepEqual(await read(), JSON.parse(text));
    assert.equal(seen[0], seen[1], 'the second body went into the first one’s buffer');
    // Two at once: each its own.
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    const first = bodies.read(stream(parts), Number.NaN, 1 << 20, async (body) => {
      seen.push(body.buffer);
      await held;
    });
    const second = bodies.read(stream(parts), Number.NaN, 1 << 20, async (body) => {
      seen.push(body.buffer);
    });
    await second;
    release();
    await first;
    assert.notEqual(seen[2], seen[3]);
  });

  test('over the limit or not of its declared length: refused with the route’s errors', async () => {
    const bodies = new BodyBuffers(errors);
    const big = Buffer.alloc(300_000, 0x20);
    await assert.rejects(
      bodies.read(stream([big]), 300_000, 200_000, async () => 1),
      /too large/,
    );
    await assert.rejects(
      bodies.read(stream([big, big]), Number.NaN, 500_000, async () => 1),
      /too large/,
    );
    await assert.rejects(
      bodies.read(stream([big]), 300_001, 500_000, async () => 1),
      /wrong length/,
    );
    const broken = Object.assign(new Error('aborted'), {});
    await assert.rejects(
      bodies.read(stream([big], broken), Number.NaN, 500_000, async () => 1),
      (err: unknown) => {
        assert.equal((err as { statusCode?: number }).statusCode, 400);
        return true;
      },
    );
    // A chunked body larger than the first buffer grows it.
    assert.equal(
      await bodies.read(stream([big, big, '!']), Number.NaN, 1 << 20, async (b) => b.length),
      600_001,
    );
  });
});
