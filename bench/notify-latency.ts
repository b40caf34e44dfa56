/**
 * Notification latency: from a transition being accepted (the alert engine's transaction that stores it
 * commits) to the webhook receiver on loopback getting the signed POST. Side by side:
 *   - the worker woken by the sink (default; 5 s poll as a safety net), on SQLite and on PostgreSQL,
 *   - the worker on its poll tick alone (1 s poll, no wake-up), what a poll-only outbox would give.
 * Each run is a new alert; runs are sequential. The lead adds this to the alert engine's
 * breach-to-alert latency (bench/alert-latency.ts) for breach-to-notification.
 *
 *   node --import tsx bench/notify-latency.ts            (BENCH_RUNS=100 by default, at most 1000)
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parseConfig } from '../src/config/load.js';
import { systemClock } from '../src/core/clock.js';
import { alertLink } from '../src/notifiers/message.js';
import { NotificationPipeline } from '../src/notifiers/pipeline.js';
import type { RouteChannel } from '../src/notifiers/routing.js';
import { NotificationSink } from '../src/notifiers/sink.js';
import { openStore, type Store } from '../src/store/index.js';
import { sampleAlert, transition } from '../test/support/notify-fixtures.js';
import { pgSchema, tempDir } from '../test/support/services.js';
import { table } from './support.js';

/** The webhook's signing secret (`whsec_` + base64, as Standard Webhooks has it). */
const BENCH_SECRET = `whsec_${Buffer.from('bench-signing-secret-0123456789').toString('base64')}`;

const RUNS = Math.max(1, Math.min(1000, Number(process.env.BENCH_RUNS ?? 100)));
const POLL_RUNS = Math.min(RUNS, 20);

// The receiver: resolves the waiter of each alert id when its webhook arrives.
const waiters = new Map<string, (t: number) => void>();
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const at = performance.now();
    res.writeHead(200).end();
    const id = (JSON.parse(Buffer.concat(chunks).toString()) as { data: { alert: { id: string } } }).data
      .alert.id;
    waiters.get(id)?.(at);
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

/** Runs `n` transitions through a pipeline on `store`; returns the latencies (ms). */
async function measure(store: Store, n: number, mode: 'wake' | 'poll', tag: string): Promise<number[]> {
  const config = parseConfig(
    {
      notifications: {
        channels: [{ name: 'hook', kind: 'webhook', url, secret: BENCH_SECRET }],
        outbox: { poll_interval: mode === 'wake' ? '5s' : '1s' },
      },
    },
    { dataDir: '/tmp', env: {} },
  );
  const pipeline = new NotificationPipeline({ config, store, clock: systemClock });
  // Poll-only: a sink that does not wake the worker.
  const sink =
    mode === 'wake'
      ? pipeline.sink
      : new NotificationSink({
          channels: config.notifications.channels as RouteChannel[],
          link: (id) => alertLink(config, id),
        });
  pipeline.start();
  await pipeline.worker.idle();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    await pipeline.worker.idle(); // the worker is asleep (between polls) when the transition comes
    const id = `al_${tag}_${i}`;
    const arrived = new Promise<number>((r) => waiters.set(id, r));
    const now = systemClock.now();
    // A rule of its own: each alert is the first of its group, sent at once (grouped, the default).
    const alert = sampleAlert({ id, rule: `bench_${id}`, fingerprint: id, createdAt: now, firingAt: now });
    const t = transition('firing', alert, { at: now });
    const t0 = performance.now();
    await store.transaction((tx) => sink.accept(tx, t, now));
    out.push((await arrived) - t0);
    waiters.delete(id);
  }
  await pipeline.stop();
  return out;
}

const rows: (string | number)[][] = [];
const row = (name: string, xs: number[]) => {
  rows.push([name, xs.length, pct(xs, 50).toFixed(1), pct(xs, 99).toFixed(1), Math.max(...xs).toFixed(1)]);
  return pct(xs, 50);
};

const dir = tempDir('prodmon-bench-');
const sqlite = await openStore({ driver: 'sqlite', path: join(dir.path, 'prodmon.db') });
await sqlite.migrate(Date.now());
await measure(sqlite, 5, 'wake', 'warmup');
const wake = row('sqlite, woken by the sink', await measure(sqlite, RUNS, 'wake', 'sqlite'));

const pg = pgSchema();
let pgStore: Store | undefined;
try {
  pgStore = await openStore({ driver: 'postgres', url: pg.url, schema: pg.schema, poolSize: 4 });
  await pgStore.migrate(Date.now());
  row('postgres, woken by the sink', await measure(pgStore, RUNS, 'wake', 'pg'));
} catch (err) {
  rows.push(['postgres, woken by the sink', 0, `skipped: ${(err as Error).message}`, '', '']);
} finally {
  await pgStore?.close();
  await pg.drop().catch(() => {});
}

const poll = row('sqlite, 1 s poll only (no wake)', await measure(sqlite, POLL_RUNS, 'poll', 'poll'));
await sqlite.close();
dir.cleanup();
server.close();

table(['mode', 'runs', 'p50 ms', 'p99 ms', 'max ms'], rows);
process.stdout.write(`\npoll-only p50 / woken p50 = ${(poll / wake).toFixed(0)}x\n`);
