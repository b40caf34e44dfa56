/**
 * Breach to notification in an embedded monitor: a plain node:http app with prodmon's handler in
 * front, a route that gets slow, and a real webhook receiver on loopback. The firing notification
 * arrives (the fresh data is evaluated at once, the loop is a minute away), and the outbox row it was
 * sent from was stored before the send: the receiver reads it from the store's file, pending, while
 * the request is still unanswered.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { type App, createApp } from '../../src/app.js';
import type { OutboxItem } from '../../src/domain/outbox.js';
import { openStore, type Store } from '../../src/store/index.js';
import { type HttpReceiver, type Received, startHttpReceiver } from '../support/receivers.js';
import { tempDir } from '../support/services.js';
import { waitFor } from '../support/wait.js';

const SECRET = `whsec_${Buffer.from('breach-notification-secret-012345').toString('base64')}`;
const SLOW_MS = 150;

const dir = tempDir();
let receiver: HttpReceiver;
let monitor: App;
let server: Server;
let base = '';
let reader: Store;
/** What the store held for each webhook request, read while the request was unanswered. */
const seenAtSend = new Map<string, OutboxItem | undefined>();
const firings: Received[] = [];

before(async () => {
  receiver = await startHttpReceiver();
  monitor = createApp(
    {
      instance: 'shop-1',
      data_dir: dir.path,
      logs: { stdout: false },
      health: { builtin_checks: false },
      // Critical above 60 ms (fires at once; the warning would wait 2 minutes).
      alerting: { thresholds: { api_response_time: { warning: 30, critical: 60 } } },
      notifications: {
        channels: [{ name: 'hook', kind: 'webhook', url: `${receiver.url}/hook`, secret: SECRET }],
      },
    },
    { env: {}, fileLogs: false },
  );
  await monitor.start();
  // A second connection to the same SQLite file: what a crash right now would leave behind.
  reader = await openStore({ driver: 'sqlite', path: monitor.config.paths.db });
  receiver.answer(async (r) => {
    const id = String(r.headers['webhook-id'] ?? '');
    seenAtSend.set(id, await reader.outbox.get(id));
    const body = r.json as { type?: string; data?: { alert?: { rule?: string } } };
    if (body.type === 'alert.firing' && body.data?.alert?.rule === 'api_response_time') firings.push(r);
    return { status: 200 };
  });
  server = createServer((req, res) =>
    monitor.handler(req, res, () => {
      const delay = req.url === '/slow' ? SLOW_MS : 0;
      setTimeout(() => res.end('ok'), delay);
    }),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await monitor?.stop({ drainDelayMs: 0 });
  await reader?.close();
  await receiver?.close();
  dir.cleanup();
});

const get = async (path: string) => {
  const res = await fetch(`${base}${path}`);
  await res.arrayBuffer();
};

test('a breach recorded in an embedded app reaches the webhook; its outbox row was stored before the send', async () => {
  for (let i = 0; i < 10; i++) await get('/fast');
  await Promise.all([get('/slow'), get('/slow')]);
  const breachAt = performance.now();

  // Wide bound (a loaded machine): the evaluation loop ticks every 60 s, so only
  // the evaluation of fresh data gets here within 30 s.
  const [firing] = await waitFor(() => (firings.length > 0 ? firings : null), {
    timeout: 30_000,
    what: 'the firing notification of api_response_time at the webhook',
  });
  assert.ok(firing!.at - breachAt < 30_000);
  const body = firing!.json as { data: { alert: { labels: Record<string, string>; severity: string } } };
  assert.equal(body.data.alert.labels.route, '/slow');
  assert.equal(body.data.alert.severity, 'critical');

  // The row the webhook was sent from was in the store, pending, before the send was answered.
  const id = String(firing!.headers['webhook-id']);
  const row = seenAtSend.get(id);
  assert.ok(row, `outbox row ${id} was stored before the send`);
  assert.equal(row.status, 'pending');
  assert.equal(row.channel, 'hook');
  assert.equal(row.transition, 'firing');
  assert.equal(row.attempts, 0);
  // Then the answer is recorded on that row.
  const sent = await waitFor(
    async () => {
      const r = await reader.outbox.get(id);
      return r?.status === 'delivered' ? r : null;
    },
    { timeout: 30_000, what: `outbox row ${id} recorded as delivered` },
  );
  assert.equal(sent.attempts, 1, `attempts of ${JSON.stringify(sent)}`);
  assert.equal(firings.length, 1, 'one firing notification');
});
