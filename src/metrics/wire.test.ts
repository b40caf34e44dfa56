import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bucketOf } from '../../test/support/metrics.js';
import { ProdmonError } from '../core/errors.js';
import { canonicalLabels, HOUR_MS, MINUTE_MS } from './rollup.js';
import { checkedRow, parseRows, rowSchema } from './wire.js';

const T0 = Date.UTC(2026, 2, 1, 12, 0, 0);

function valid(): Record<string, unknown> {
  const b = bucketOf([12, 40, 300]);
  return {
    metric: 'http_request_duration_ms',
    labels: { method: 'GET', route: '/a', status_class: '2xx' },
    resolution: MINUTE_MS,
    bucket: T0,
    count: b.count,
    sum: b.sum,
    min: b.min,
    max: b.max,
    errors: 0,
    sketch: b.sketch.toString('base64'),
  };
}

/** Rows that differ from a valid one in one way each (the schema's every rule, and some more). */
function variants(): [string, unknown][] {
  const out: [string, unknown][] = [['valid', valid()]];
  const bad: Record<string, unknown[]> = {
    metric: ['', '1abc', 'a b', 'x'.repeat(201), 'x'.repeat(200), 'a.b:c-d_e', 42, null, undefined],
    labels: [
      {},
      { route: '/a' },
      { z: '1', a: '2' },
      { 'bad-name': 'x' },
      { _ok: 'x' },
      { route: 'x'.repeat(512) },
      { route: 'x'.repeat(513) },
      { route: 1 },
      { route: null },
      Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`l${i}`, 'v'])),
      Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`l${i}`, 'v'])),
      JSON.parse('{"__proto__": "x"}'),
      Object.assign(Object.create(null), { route: '/a' }),
      [],
      ['a'],
      null,
      'route=/a',
      new Date(0),
      { [`l${'x'.repeat(99)}`]: 'v' },
      { [`l${'x'.repeat(100)}`]: 'v' },
      { é: 'v' },
    ],
    resolution: [MINUTE_MS, HOUR_MS, 1000, '60000', null],
    bucket: [0, -60_000, 1.5, 2 ** 60, Number.NaN, '1', null],
    count: [1, 0, -1, 2.5, 2 ** 60, Number.POSITIVE_INFINITY, '3'],
    sum: [0, -1.5, Number.NaN, Number.POSITIVE_INFINITY, '1', null],
    min: [0, -2, Number.NEGATIVE_INFINITY, null],
    max: [1e308, Number.NaN, true],
    errors: [0, 1, -1, 0.5, null],
    sketch: [null, '', 'x'.repeat(1_000_000), 'x'.repeat(1_000_001), 12, undefined],
  };
  for (const [field, values] of Object.entries(bad)) {
    for (const [i, v] of values.entries()) out.push([`${field} variant ${i}`, { ...valid(), [field]: v }]);
    const without = valid();
    delete without[field];
    out.push([`no ${field}`, without]);
  }
  out.push(['extra field', { ...valid(), extra: 1 }]);
  out.push(['__proto__ field', JSON.parse(`{"__proto__": 1, ${JSON.stringify(valid()).slice(1)}`)]);
  out.push(['not an object', 'row']);
  out.push(['null', null]);
  out.push(['array', [valid()]]);
  out.push(['inherited field', Object.assign(Object.create({ extra: 1 }), valid())]);
  return out;
}

test('the hand-written row check accepts exactly what the schema accepts, with the same canonical labels', () => {
  let accepted = 0;
  for (const [what, raw] of variants()) {
    const fast = checkedRow(raw);
    const ref = rowSchema.safeParse(raw);
    if (fast !== null) {
      accepted++;
      assert.ok(ref.success, `${what}: accepted by hand, refused by the schema`);
      assert.equal(fast, canonicalLabels(ref.data.labels), `${what}: labels`);
    }
    // The other way round only for objects JSON.parse never makes and a "__proto__" label (the schema
    // then decides, as it did alone).
    else if (ref.success) {
      const labels = (raw as { labels: object }).labels;
      const odd =
        Object.getPrototypeOf(raw) !== Object.prototype ||
        Object.getPrototypeOf(labels) !== Object.prototype ||
        Object.hasOwn(labels, '__proto__');
      assert.ok(odd, `${what}: refused by hand only`);
    }
  }
  assert.ok(accepted > 20, `${accepted} variants accepted`);
});

test('rows are validated into store rows, the errors naming the row and field as before', async () => {
  const batch = (rows: unknown[]) => ({ instance: 'app-1', rows });
  const [r] = await parseRows(
    batch([{ ...valid(), labels: { status_class: '2xx', route: '/a', method: 'GET' } }]),
    T0,
  );
  assert.equal(r!.labels, '{"method":"GET","route":"/a","status_class":"2xx"}');
  assert.equal(r!.instance, 'app-1');
  assert.ok(Buffer.isBuffer(r!.sketch));
  const refused = async (rows: unknown[], message: RegExp) => {
    await assert.rejects(parseRows(batch(rows), T0), (err: unknown) => {
      assert.ok(err instanceof ProdmonError);
      assert.equal(err.code, 'PRODMON_E_BAD_REQUEST');
      assert.match(err.message, message);
      return true;
    });
  };
  await refused([valid(), { ...valid(), count: 0 }], /rows\[1\]\.count: must be at least 1/);
  await refused([{ ...valid(), labels: { 'a-b': 'x' } }], /rows\[0\]\.labels: label names must match/);
  await refused([{ ...valid(), extra: 1 }], /rows\[0\]: Unrecognized key: "extra"/);
  await refused([{ ...valid(), sketch: 'not base64!' }], /rows\[0\]\.sketch: must be base64/);
  await refused([{ ...valid(), count: 7 }], /rows\[0\]\.sketch: holds 3 values but count is 7/);
  await refused([valid(), valid()], /rows\[1\]: duplicates an earlier row/);
});
