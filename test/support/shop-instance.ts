/**
 * One instance of a small instrumented service for the multi-instance test: an embedded prodmon on the
 * shared PostgreSQL (the real App: leadership, alert engine, outbox worker) and a `node:http` handler
 * whose `/fail` answers 500. Prints one JSON line per event. Args: url schema instance receiverUrl dataDir.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/app.js';

const [url, schema, instance, receiver, dataDir] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];
const say = (o: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify({ ...o, instance, t: Date.now() })}\n`);

const off = { enabled: false };
const monitor = createApp(
  {
    instance,
    data_dir: dataDir,
    store: { driver: 'postgres', url, schema },
    logs: { stdout: false },
    health: { builtin_checks: false },
    metrics: { flush_interval: '1s' },
    alerting: {
      evaluation_interval: '2s',
      thresholds: {
        api_response_time: off,
        database_query_time: off,
        memory_usage: off,
        cpu_usage: off,
        error_rate: off,
        disk_usage: off,
      },
      health_checks: off,
      // Failed requests per minute of all instances together: one instance alone (30/min) stays below.
      rules: [
        {
          name: 'shop_errors',
          metric: 'http_request_duration_ms',
          aggregation: 'rate',
          window: '30s',
          critical: 45,
          for: '0s',
          keep_firing_for: '15s',
          type: 'error',
          message: '{{value}} failed requests per minute in the shop',
        },
      ],
    },
    notifications: { channels: [{ name: 'hook', kind: 'webhook', url: receiver }] },
    jobs: { cleanup: false, archive: false, health: false, daily_summary: false },
  },
  { env: {}, fileLogs: false },
);
await monitor.start();
monitor.leadership.onChange((leader, epoch) => say({ event: leader ? 'leader' : 'follower', epoch }));
const server = createServer(
  monitor.wrap(
    (req, res) => {
      res.statusCode = req.url === '/fail' ? 500 : 200;
      res.end(req.url === '/fail' ? 'failed' : 'ok');
    },
    { route: (req) => (req.url === '/fail' ? '/fail' : '/ok') },
  ),
);
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
say({
  event: 'ready',
  url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
  leader: monitor.leadership.isLeader(),
  pid: process.pid,
});

process.on('SIGTERM', async () => {
  server.closeAllConnections();
  server.close();
  await monitor.stop({ drainDelayMs: 0 });
  say({ event: 'stopped' });
  process.exit(0);
});
