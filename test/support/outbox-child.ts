/**
 * A monitor process reduced to its notification path, for crash tests: opens the SQLite store, accepts
 * transitions and runs the outbox worker on the real clock, driven by lines on stdin:
 *   fire <alertId> | resolve <alertId>  -> accepts the transition in a transaction, prints `stored <id>`
 *   start | stop                        -> starts / stops the worker, prints `started` / `stopped`
 * After each send it prints `sent <outboxId> <ok|failed>`; with `--hold-after-send` it then hangs
 * before recording, so the test can SIGKILL it between send and record.
 * Usage: outbox-child.ts <db path> <webhook url> [--hold-after-send]
 */
import { createInterface } from 'node:readline';
import { parseConfig } from '../../src/config/load.js';
import { systemClock } from '../../src/core/clock.js';
import { NotificationPipeline } from '../../src/notifiers/pipeline.js';
import { openStore } from '../../src/store/index.js';
import { sampleAlert, transition } from './notify-fixtures.js';

const [dbPath, url, flag] = process.argv.slice(2);
if (!dbPath || !url) throw new Error('usage: outbox-child.ts <db> <url> [--hold-after-send]');
const say = (line: string) => process.stdout.write(`${line}\n`);

// Grouped as by default, with a short group_interval: a resolution goes a second after its firing.
const config = parseConfig(
  {
    notifications: {
      channels: [
        {
          name: 'hook',
          kind: 'webhook',
          url,
          secret: `whsec_${Buffer.from('crash-test-secret-0123456789').toString('base64')}`,
        },
      ],
      grouping: { group_interval: '1s' },
    },
  },
  { dataDir: '/tmp', env: {} },
);
const store = await openStore({ driver: 'sqlite', path: dbPath });
await store.migrate(systemClock.now());
const pipeline = new NotificationPipeline({
  config,
  store,
  clock: systemClock,
  afterSend: async (items, outcome) => {
    for (const i of items) say(`sent ${i.id} ${outcome.ok ? 'ok' : 'failed'}`);
    if (flag === '--hold-after-send') await new Promise(() => {});
  },
  log: {
    error: (o, m) => say(`error ${m} ${JSON.stringify(o)}`),
    warn: (o, m) => say(`warn ${m} ${JSON.stringify(o)}`),
  },
});

const alerts = new Map<string, ReturnType<typeof sampleAlert>>();
for await (const line of createInterface({ input: process.stdin })) {
  const [cmd, id] = line.trim().split(/\s+/);
  if (cmd === 'start') {
    pipeline.start();
    say('started');
  } else if (cmd === 'stop') {
    await pipeline.stop();
    say('stopped');
  } else if ((cmd === 'fire' || cmd === 'resolve') && id) {
    const now = systemClock.now();
    const alert =
      alerts.get(id) ?? sampleAlert({ id, fingerprint: id, createdAt: now, firingAt: now, updatedAt: now });
    alerts.set(id, alert);
    const t = transition(cmd === 'fire' ? 'firing' : 'resolved', alert, { at: now, id: `ev_${id}_${cmd}` });
    await store.transaction((tx) => pipeline.sink.accept(tx, t, now));
    say(`stored ${t.id}`);
  }
}
await pipeline.stop();
await store.close();
