import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { testEngine } from '../../../test/support/metrics.js';
import { tempDir } from '../../../test/support/services.js';
import { STORE_FIXTURES } from '../../../test/support/stores.js';
import { waitFor } from '../../../test/support/wait.js';
import { type App, createApp } from '../../app.js';
import { FakeClock, systemClock } from '../../core/clock.js';
import type { RollupRow } from '../../domain/rollup.js';
import type { MetricsEngine } from '../../metrics/engine.js';
import { METRIC } from '../../metrics/names.js';
import { toWire } from '../../metrics/push.js';
import { encodePushRows, PUSH_ROWS_TYPE } from '../../metrics/push-rows.js';
import { MINUTE_MS } from '../../metrics/rollup.js';
import { MAX_ROWS_PER_BATCH, type WireBatch } from '../../metrics/wire.js';
import type { Store } from '../../store/index.js';

const ADMIN = 'admin-token-0123456789abcdef';
const READ = 'read-token-0123456789abcdef';
const PUSH = 'push-token-0123456789abcdef';
const HTTP = METRIC.httpRequest;
const labels = { route: '/a', method: 'GET', status_class: '2xx' };

/**
 * A port held by a server that drops every connection, so a push to it fails, until `release()`:
 * then the receiver listens there at once (a port only found free and closed again could be taken by
 * another process, whose server would answer the push).
 */
async function heldPort(): Promise<{ port: number; release: () => Promise<void> }> {
  const s = createServer((socket) => socket.destroy());
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  let closed: Promise<void> | null = null;
  const release = () => {
    closed ??= new Promise<void>((r) => s.close(() => r()));
    return closed;
  };
  return { port, release };
}

describe('POST /production/ingest', () => {
  const dir = tempDir();
  let port: number;
  let held: { port: number; release: () => Promise<void> };
  let receiver: App;
  let base: string;
  let sender: MetricsEngine;
  let senderStore: { store: Store; cleanup: () => Promise<void> };
  let batch: WireBatch;
  let sent: RollupRow[];

  before(async () => {
    held = await heldPort();
    port = held.port;
    receiver = createApp(
      {
        data_dir: dir.path,
        logs: { stdout: false },
        instance: 'monitor',
        auth: {
          tokens: [
            { name: 'push', token: ADMIN, role: 'admin' },
            { name: 'viewer', token: READ, role: 'read' },
            { name: 'agents', token: PUSH, role: 'push' },
          ],
        },
      },
      { env: {}, fileLogs: false },
    );
    await receiver.start();
    base = `http://127.0.0.1:${port}`;
    senderStore = await STORE_FIXTURES[0]!.open();
    sender = testEngine({
      store: senderStore.store,
      clock: systemClock,
      instance: 'shop-1',
      metrics: { push: { url: base, token: ADMIN } },
    });
    for (const v of [10, 20, 30]) sender.record(HTTP, labels, v, v === 30);
    const rows = sender.recorder.collect().rows;
    sent = rows.map((r) => ({ ...r, sketch: r.sketch && Buffer.from(r.sketch) }));
    batch = toWire('shop-1', rows);
  });
  after(async () => {
    await held.release();
    sender.recorder.close();
    await senderStore.cleanup();
    await receiver.stop({ drainDelayMs: 0 });
    dir.cleanup();
  });

  const post = (body: unknown, token: string | null = ADMIN) =>
    receiver.http.inject({
      method: 'POST',
      url: '/production/ingest',
      headers: token ? { authorization: `Bearer ${token}` } : {},
      payload: body as object,
    });

  test('needs a push (or admin) token; a push token opens nothing else', async () => {
    assert.equal((await post(batch, null)).statusCode, 401);
    assert.equal((await post(batch, READ)).statusCode, 403);
    assert.equal((await post(batch, PUSH)).statusCode, 200);
    const asPush = (url: string) =>
      receiver.http.inject({ method: 'GET', url, headers: { authorization: `Bearer ${PUSH}` } });
    const api = await asPush('/production/api/status');
    assert.equal(api.statusCode, 403);
    assert.match(api.json().error.message, /has role "push"; this needs "read"/);
    assert.equal((await asPush('/production/api/alerts')).statusCode, 403);
    assert.notEqual((await asPush('/production/dashboard/')).statusCode, 200);
  });

  test('stores valid rows under the sender’s instance, visible to reads and announced to onData', async () => {
    const seen: string[][] = [];
    const off = receiver.metrics.onData((m) => seen.push([...m]));
    const res = await post(batch);
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { accepted: 1, instance: 'shop-1' });
    const rows = await receiver.store.rollups.query({
      metrics: [HTTP],
      resolution: MINUTE_MS,
      since: 0,
      until: Date.now() + MINUTE_MS,
    });
    assert.deepEqual(
      rows.map((r) => [r.instance, r.count, r.errors]),
      [['shop-1', 3, 1]],
    );
    const now = Date.now();
    const [v] = await receiver.metrics.windowValues({
      metric: HTTP,
      aggregation: 'p50',
      since: now - 5 * MINUTE_MS,
      until: now + 1,
    });
    assert.equal(v!.count, 3);
    assert.ok(Math.abs(v!.value! - 20) <= 0.2);
    // posting again replaces, never adds
    assert.equal((await post(batch)).statusCode, 200);
    const [again] = await receiver.metrics.windowValues({
      metric: HTTP,
      aggregation: 'count',
      since: now - 5 * MINUTE_MS,
      until: now + 1,
    });
    assert.equal(again!.count, 3);
    await waitFor(() => seen.some((m) => m.includes(HTTP)), {
      what: () => `onData to announce ${HTTP}; got ${JSON.stringify(seen)}`,
    });
    off();
  });

  test('takes the binary body as it takes JSON; refuses a bad one naming the row and field; needs the token first', async () => {
    const binary = (body: Buffer, token: string | null = ADMIN) =>
      receiver.http.inject({
        method: 'POST',
        url: '/production/ingest',
        headers: { 'content-type': PUSH_ROWS_TYPE, ...(token ? { authorization: `Bearer ${token}` } : {}) },
        payload: body,
      });
    const pushed = sent.map((r) => ({ ...r, labels: r.labels.replace('/a', '/binary') }));
    assert.equal((await binary(encodePushRows('shop-9', pushed), null)).statusCode, 401);
    const res = await binary(encodePushRows('shop-9', pushed));
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { accepted: 1, instance: 'shop-9' });
    const rows = await receiver.store.rollups.query({
      metrics: [HTTP],
      resolution: MINUTE_MS,
      since: 0,
      until: Date.now() + MINUTE_MS,
    });
    const got = rows.find((r) => r.instance === 'shop-9');
    assert.deepEqual(
      got && { ...got, sketch: got.sketch && Buffer.from(got.sketch) },
      { ...pushed[0]!, instance: 'shop-9' },
      'stored as sent',
    );
    const bad = await binary(encodePushRows('shop-9', [{ ...pushed[0]!, count: 0 }]));
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().error.message, /rows\[0\]\.count: must be an integer, at least 1/);
    const cut = await binary(encodePushRows('shop-9', pushed).subarray(0, 20));
    assert.equal(cut.statusCode, 400);
    assert.match(cut.json().error.message, /the body ends early/);
  });

  test('rejects invalid batches with a 400 that names the field', async () => {
    const row = batch.rows[0]!;
    const cases: [unknown, RegExp][] = [
      [{ rows: [row] }, /instance/],
      [{ ...batch, extra: 1 }, /extra|unrecognized|unknown/i],
      [{ ...batch, rows: [{ ...row, count: 0 }] }, /rows\[0\]\.count/],
      [{ ...batch, rows: [{ ...row, count: 2.5 }] }, /rows\[0\]\.count/],
      [{ ...batch, rows: [{ ...row, bucket: row.bucket + 1 }] }, /rows\[0\]\.bucket: must be a multiple/],
      [{ ...batch, rows: [{ ...row, resolution: 1000 }] }, /rows\[0\]\.resolution/],
      [{ ...batch, rows: [{ ...row, errors: 9 }] }, /rows\[0\]\.errors: must not exceed count/],
      [{ ...batch, rows: [{ ...row, min: 99, max: 1 }] }, /rows\[0\]\.min/],
      [{ ...batch, rows: [{ ...row, sketch: '***' }] }, /rows\[0\]\.sketch: must be base64/],
      [
        { ...batch, rows: [{ ...row, sketch: Buffer.from('garbage!').toString('base64') }] },
        /rows\[0\]\.sketch/,
      ],
      [{ ...batch, rows: [{ ...row, count: 4 }] }, /sketch: holds 3 values but count is 4/],
      [{ ...batch, rows: [row, row] }, /rows\[1\]: duplicates/],
      [{ ...batch, rows: [{ ...row, labels: { 'bad-name': 'x' } }] }, /label names/],
      [{ ...batch, rows: [{ ...row, sum: 'NaN' }] }, /rows\[0\]\.sum/],
      [{ ...batch, instance: 'monitor' }, /this monitor's own id/],
    ];
    for (const [body, re] of cases) {
      const res = await post(body);
      assert.equal(res.statusCode, 400, JSON.stringify(body).slice(0, 120));
      const err = res.json() as { error: { code: string; message: string } };
      assert.equal(err.error.code, 'PRODMON_E_BAD_REQUEST');
      assert.match(err.error.message, re);
    }
    assert.equal(
      (
        await receiver.http.inject({
          method: 'POST',
          url: '/production/ingest',
          headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
          payload: '{not json',
        })
      ).statusCode,
      400,
    );
    // The body limit (MAX_ROWS_PER_BATCH x 4 KB): 413, from the declared length or as it is read.
    const raw = (payload: Buffer, headers: Record<string, string> = {}) =>
      receiver.http.inject({
        method: 'POST',
        url: '/production/ingest',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json', ...headers },
        payload,
      });
    const over = Buffer.alloc(MAX_ROWS_PER_BATCH * 4096 + 1, 0x20);
    assert.equal((await raw(over)).statusCode, 413);
    assert.equal((await raw(over, { 'transfer-encoding': 'chunked' })).statusCode, 413);
    const ok = Buffer.from(JSON.stringify(batch));
    assert.equal((await raw(ok, { 'content-length': String(ok.length + 5) })).statusCode, 400);
  });

  test('an embedded monitor pushes on flush, keeps the rows while the receiver is down, and delivers them later', async () => {
    const clock = new FakeClock(Date.now());
    const store = await STORE_FIXTURES[0]!.open();
    const pushing = testEngine({
      store: store.store,
      clock,
      instance: 'shop-2',
      metrics: { push: { url: base, token: ADMIN } },
    });
    try {
      for (const v of [5, 6]) pushing.record(HTTP, { ...labels, route: '/pushed' }, v);
      await pushing.flush();
      assert.equal(pushing.pusher!.buffered, 1);
      await assert.rejects(pushing.pusher!.send(), /failed/); // the port drops every connection
      assert.equal(pushing.pusher!.buffered, 1, 'kept for the next round');
      assert.equal(pushing.pusher!.failures, 1);
      await held.release();
      await receiver.listen('127.0.0.1', port);
      assert.equal(await pushing.pusher!.send(), 1);
      assert.equal(pushing.pusher!.buffered, 0);
      const rows = await receiver.store.rollups.query({
        metrics: [HTTP],
        resolution: MINUTE_MS,
        since: 0,
        until: clock.now() + MINUTE_MS,
      });
      const pushed = rows.find((r) => r.instance === 'shop-2');
      assert.deepEqual(
        [pushed?.count, pushed?.sum, pushed?.labels],
        [2, 11, '{"method":"GET","route":"/pushed","status_class":"2xx"}'],
      );
    } finally {
      pushing.recorder.close();
      await store.cleanup();
    }
  });
});
