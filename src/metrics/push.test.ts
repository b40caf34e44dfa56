import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { closeServer, listenLocal } from '../../test/support/http-load.js';
import { FakeClock } from '../core/clock.js';
import type { RollupRow } from '../domain/rollup.js';
import { decodeRows } from './open-minutes.js';
import { ingestUrl, Pusher } from './push.js';
import { PUSH_ROWS_TYPE } from './push-rows.js';
import type { WireBatch } from './wire.js';

/** What a receiver read of a push, whichever body it came as. */
interface Received {
  auth: string | undefined;
  type: string | undefined;
  instance: string;
  rows: { bucket: number; count: number; sketch: string | null }[];
}

/** Reads a pushed body: binary (src/metrics/push-rows.ts) or JSON. */
function readBody(type: string | undefined, body: Buffer): Omit<Received, 'auth' | 'type'> {
  if (type === PUSH_ROWS_TYPE) {
    const rows = decodeRows(body);
    return {
      instance: rows[0]?.instance ?? '',
      rows: rows.map((r) => ({
        bucket: r.bucket,
        count: r.count,
        sketch: r.sketch?.toString('base64') ?? null,
      })),
    };
  }
  const batch = JSON.parse(body.toString()) as WireBatch;
  return {
    instance: batch.instance,
    rows: batch.rows.map((r) => ({ bucket: r.bucket, count: r.count, sketch: r.sketch })),
  };
}

const row = (bucket: number, count = 1): RollupRow => ({
  metric: 'http_request_duration_ms',
  labels: '{"route":"/a"}',
  instance: 'shop-1',
  resolution: 60_000,
  bucket,
  count,
  sum: count,
  min: 1,
  max: 1,
  errors: 0,
  sketch: null,
});

describe('pusher', () => {
  let server: Server;
  let base: string;
  let status = 200;
  /** Answer 415 to the binary body (as a prodmon from before it does). */
  let jsonOnly = false;
  let refused = 0;
  const received: Received[] = [];

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const type = req.headers['content-type'];
        if (jsonOnly && type !== 'application/json') {
          refused++;
          res.statusCode = 415;
          res.end('{"error":"unsupported media type"}');
          return;
        }
        received.push({ auth: req.headers.authorization, type, ...readBody(type, Buffer.concat(chunks)) });
        res.statusCode = status;
        res.end('{}');
      });
    });
    base = await listenLocal(server);
  });
  after(() => closeServer(server));

  const pusher = (over: Partial<ConstructorParameters<typeof Pusher>[0]> = {}) =>
    new Pusher({
      url: base,
      token: 'push-token-0123456789',
      intervalMs: 10_000,
      instance: 'shop-1',
      clock: new FakeClock(),
      onError() {},
      ...over,
    });

  test('the ingest URL is the base URL plus /production/ingest, unless it already names it', () => {
    assert.equal(ingestUrl('http://m:9464'), 'http://m:9464/production/ingest');
    assert.equal(ingestUrl('http://m:9464/ops/'), 'http://m:9464/ops/production/ingest');
    assert.equal(ingestUrl('http://m/ops/production/ingest'), 'http://m/ops/production/ingest');
  });

  test('a newer version of a bucket replaces the queued one; the buffer drops the oldest beyond its bound', async () => {
    received.length = 0;
    const p = pusher({ maxBufferedRows: 3 });
    p.enqueue([row(0), row(60_000)]);
    p.enqueue([row(0, 5)]);
    assert.equal(p.buffered, 2);
    p.enqueue([row(120_000), row(180_000)]);
    assert.equal(p.buffered, 3);
    assert.equal(p.dropped, 1);
    assert.equal(await p.send(), 3);
    assert.equal(received.length, 1);
    assert.equal(received[0]!.auth, 'Bearer push-token-0123456789');
    assert.equal(received[0]!.type, PUSH_ROWS_TYPE, 'the binary body');
    assert.equal(received[0]!.instance, 'shop-1');
    assert.deepEqual(
      received[0]!.rows.map((r) => [r.bucket, r.count]),
      [
        [0, 5],
        [120_000, 1],
        [180_000, 1],
      ],
    );
    assert.equal(p.buffered, 0);
  });

  test('a queued row keeps its sketch as it was when queued (the flush writes over its encoding memory)', async () => {
    received.length = 0;
    const p = pusher();
    const sketch = Buffer.from([10, 20, 30, 40, 50]);
    p.enqueue([{ ...row(0), sketch: sketch.subarray(1, 4) }]);
    sketch.fill(0); // the next chunk of the flush is encoded over it
    assert.equal(await p.send(), 1);
    assert.equal(received[0]!.rows[0]!.sketch, Buffer.from([20, 30, 40]).toString('base64'));
  });

  test('a receiver that answers 415 to the binary body (a prodmon from before it) gets JSON from then on', async () => {
    received.length = 0;
    jsonOnly = true;
    try {
      const p = pusher();
      const sketch = Buffer.from([1, 2, 3]);
      p.enqueue([{ ...row(0, 2), sketch }]);
      assert.equal(await p.send(), 1, 'the batch is sent again as JSON at once, and accepted');
      p.enqueue([row(60_000)]);
      assert.equal(await p.send(), 1);
      assert.deepEqual(
        received.map((r) => [r.type, r.instance, r.rows.map((x) => [x.bucket, x.count, x.sketch])]),
        [
          ['application/json', 'shop-1', [[0, 2, sketch.toString('base64')]]],
          ['application/json', 'shop-1', [[60_000, 1, null]]],
        ],
        'the same rows as JSON; the second push goes as JSON without trying the binary body again',
      );
      assert.equal(refused, 1, 'one binary body refused, then JSON only');
      assert.equal(p.failures, 0);
    } finally {
      jsonOnly = false;
    }
  });

  test('a 5xx keeps the rows for the next round; a 400 drops them as invalid', async () => {
    const p = pusher({ batchSize: 2 });
    p.enqueue([row(0), row(60_000), row(120_000)]);
    status = 503;
    await assert.rejects(p.send(), /answered 503/);
    assert.equal(p.buffered, 3);
    status = 400;
    await assert.rejects(p.send(), /answered 400/);
    assert.equal(p.buffered, 1, 'the rejected batch of 2 is dropped, the rest waits');
    assert.equal(p.dropped, 2);
    status = 200;
    assert.equal(await p.send(), 1);
    assert.equal(p.buffered, 0);
  });

  test('a receiver that never answers or is not there fails the round by itself; the rows wait', async () => {
    // accepts the connection and reads the request, never answers
    const silent = createServer(() => {});
    const silentBase = await listenLocal(silent);
    try {
      const p = pusher({ url: silentBase, timeoutMs: 300 });
      p.enqueue([row(0)]);
      await assert.rejects(p.send(), /failed: no answer within 300 ms/);
      assert.equal(p.buffered, 1);
      assert.equal(p.failures, 1);
    } finally {
      silent.closeAllConnections();
      await closeServer(silent);
    }
    // nothing listens on the closed server's port any more
    const p = pusher({ url: silentBase });
    p.enqueue([row(0)]);
    await assert.rejects(p.send(), /failed: .*ECONNREFUSED/);
    assert.equal(p.buffered, 1);
  });
});
