import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bucketOf } from '../../test/support/metrics.js';
import { ProdmonError } from '../core/errors.js';
import type { RollupRow } from '../domain/rollup.js';
import { decodeRows } from './open-minutes.js';
import { toWire } from './push.js';
import { encodePushRows, type PushRow } from './push-rows.js';
import { readPushRows } from './push-rows-read.js';
import { canonicalLabels, HOUR_MS, MINUTE_MS } from './rollup.js';
import { jsonBatch, MAX_ROWS_PER_BATCH } from './wire.js';

const T0 = Date.UTC(2026, 2, 1, 12, 0, 0);

function row(route: string, values: number[], over: Partial<RollupRow> = {}): RollupRow {
  return {
    metric: 'http_request_duration_ms',
    labels: canonicalLabels({ method: 'GET', route, status_class: '2xx' }),
    instance: 'shop/pod-1',
    resolution: MINUTE_MS,
    bucket: T0,
    errors: 0,
    ...bucketOf(values),
    ...over,
  };
}

const rows = (): RollupRow[] => [
  row('/a', [12, 40, 300]),
  row('/ü/☃', [1.5], { errors: 1 }),
  row('/b', [7, 7, 7, 9000], { resolution: HOUR_MS, bucket: T0 - HOUR_MS }),
  { ...row('/c', [5]), metric: 'db_query_duration_ms', sketch: null },
];

test('a binary body reads back into the rows it was made of, and into the same rows as their JSON body', async () => {
  const sent = rows();
  const body = readPushRows(encodePushRows('shop/pod-1', sent));
  assert.equal(body.instance, 'shop/pod-1');
  assert.equal(body.count, sent.length);
  const got = await body.rows(T0);
  assert.deepEqual(
    got.map((r) => ({ ...r, sketch: r.sketch && Buffer.from(r.sketch) })),
    sent,
  );
  const json = await jsonBatch(JSON.parse(JSON.stringify(toWire('shop/pod-1', sent)))).rows(T0);
  assert.deepEqual(
    got.map((r) => ({ ...r, sketch: r.sketch && Buffer.from(r.sketch) })),
    json.map((r) => ({ ...r, sketch: r.sketch && Buffer.from(r.sketch) })),
  );
  // Sketches as a pusher's queue keeps them (base64 text) make the same bytes.
  const queued: PushRow[] = sent.map((r) => ({ ...r, sketch: r.sketch?.toString('base64') ?? null }));
  assert.deepEqual(encodePushRows('shop/pod-1', queued), encodePushRows('shop/pod-1', sent));
  // The body is the journal record of its rows.
  assert.deepEqual(decodeRows(body.record), sent);
});

test('a body that is not a valid push is refused, naming the row and field', async () => {
  const refused = async (make: () => Promise<unknown> | unknown, message: RegExp) => {
    await assert.rejects(
      async () => make(),
      (err: unknown) => {
        assert.ok(err instanceof ProdmonError, String(err));
        assert.equal(err.code, 'PRODMON_E_BAD_REQUEST');
        assert.match(err.message, message);
        return true;
      },
    );
  };
  const one = (r: PushRow, instance = 'app-1') =>
    readPushRows(encodePushRows(instance, [row('/ok', [1]), r])).rows(T0);
  const good = row('/a', [12, 40, 300]);
  await refused(
    () => one({ ...good, labels: '{"route":"/a","method":"GET"}' }),
    /rows\[1\]\.labels: must be canonical JSON.*\{"method":"GET","route":"\/a"\}/,
  );
  await refused(
    () => one({ ...good, labels: '{"method": "GET"}' }),
    /rows\[1\]\.labels: must be canonical JSON/,
  );
  await refused(() => one({ ...good, labels: '{"a-b":"x"}' }), /rows\[1\]\.labels: label names must match/);
  await refused(() => one({ ...good, labels: '{"route":1}' }), /rows\[1\]\.labels/);
  await refused(() => one({ ...good, labels: '["a"]' }), /rows\[1\]\.labels/);
  await refused(() => one({ ...good, labels: 'route=/a' }), /rows\[1\]\.labels: must be a JSON object/);
  await refused(() => one({ ...good, metric: '1abc' }), /rows\[1\]\.metric: must be a metric name/);
  await refused(
    () => one({ ...good, resolution: 1000 }),
    /rows\[1\]\.resolution: must be 60000 \(minute\) or 3600000/,
  );
  await refused(
    () => one({ ...good, bucket: T0 + 1 }),
    /rows\[1\]\.bucket: must be a multiple of the resolution/,
  );
  await refused(
    () => one({ ...good, bucket: T0 + 2 * HOUR_MS }),
    /rows\[1\]\.bucket: is more than an hour in the future/,
  );
  await refused(() => one({ ...good, bucket: -MINUTE_MS }), /rows\[1\]\.bucket: must be an integer/);
  await refused(() => one({ ...good, count: 0 }), /rows\[1\]\.count: must be an integer, at least 1/);
  await refused(() => one({ ...good, count: 2.5 }), /rows\[1\]\.count/);
  await refused(() => one({ ...good, sum: Number.NaN }), /rows\[1\]\.sum: must be a finite number/);
  await refused(
    () => one({ ...good, max: Number.POSITIVE_INFINITY }),
    /rows\[1\]\.max: must be a finite number/,
  );
  await refused(() => one({ ...good, errors: 4 }), /rows\[1\]\.errors: must not exceed count/);
  await refused(() => one({ ...good, min: 500 }), /rows\[1\]\.min: must not exceed max/);
  await refused(() => one({ ...good, count: 7 }), /rows\[1\]\.sketch: holds 3 values but count is 7/);
  await refused(() => one({ ...good, sketch: Buffer.from('not a sketch') }), /rows\[1\]\.sketch: /);
  await refused(() => one(row('/ok', [1])), /rows\[1\]: duplicates an earlier row/);
  await refused(() => one(good, 'has space'), /instance: must be 1-200 characters/);
  const body = encodePushRows('app-1', [good]);
  await refused(
    () => readPushRows(body.subarray(0, body.length - 5)).rows(T0),
    /rows\[0\]\.sketch.*ends early|ends early/,
  );
  await refused(
    () => readPushRows(Buffer.concat([body, Buffer.from([0])])).rows(T0),
    /1 bytes after the last row/,
  );
  await refused(
    () => readPushRows(Buffer.from('{"instance":"a","rows":[]}')),
    /not a prodmon rows body: its first byte is 123/,
  );
  await refused(() => readPushRows(Buffer.alloc(0)), /the body ends early/);
  const many = Buffer.from(body);
  many.writeUInt32LE(MAX_ROWS_PER_BATCH + 1, 1 + 4 + 'app-1'.length);
  await refused(() => readPushRows(many), /rows: at most 5000 rows per request/);
});
