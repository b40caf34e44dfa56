/**
 * A service to run `prodmon verify` against: a `node:http` server with prodmon embedded (the real
 * monitor on SQLite in a temporary directory: health service, alert engine, read API), whose state a
 * test switches:
 *
 * - `setCheck(error | null)`: its critical custom check `app` fails with `error`, or passes (and the
 *   checks run at once, so `/health/` answers the new status);
 * - `fail(n)`: `n` requests to `/fail`, answered 500 and recorded: with more than 25 the `error_rate` rule
 *   (critical from 5 failed requests per minute over its 5 minute window, the defaults) fires within about
 *   a second and stays firing for minutes;
 * - `down = true`: every connection is dropped before an answer (prodmon unreachable, its port still
 *   held so that no other process takes it);
 * - `alertsDown = true`: the alert routes answer 503 while the rest answers (a proxy in front failing).
 *
 * The other built-in thresholds are off (a loaded machine's CPU must not fire a critical alert), so are
 * the host checks; `health_check` alerts are off unless `healthAlerts`, so a failing check is a health
 * finding alone.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMonitor, type Monitor } from '../../src/index.js';
import { tempDir } from './services.js';

/** A token with the read role. */
export const READ_TOKEN = 'gate-read-token-0123456789abcdef';
/** A token with the push role only (refused by the read API: 403). */
export const PUSH_TOKEN = 'gate-push-token-0123456789abcdef';

export interface GateService {
  url: string;
  monitor: Monitor;
  /** Drop every connection (true) or serve (false). */
  down: boolean;
  /** Answer 503 to `/production/alerts/...` (true). */
  alertsDown: boolean;
  setCheck(error: string | null): Promise<void>;
  fail(n: number): Promise<void>;
  /** The open alerts of the read API. */
  activeAlerts(): Promise<{ rule: string; status: string; severity: string }[]>;
  close(): Promise<void>;
}

export async function gateService(
  o: { checkError?: string | null; healthAlerts?: boolean } = {},
): Promise<GateService> {
  const dir = tempDir('prodmon-gate-');
  const off = { enabled: false };
  const monitor = createMonitor(
    {
      data_dir: dir.path,
      logs: { stdout: false },
      auth: {
        tokens: [
          { name: 'ci', token: READ_TOKEN, role: 'read' },
          { name: 'agent', token: PUSH_TOKEN, role: 'push' },
        ],
      },
      health: { builtin_checks: false, refresh_interval: '1s' },
      metrics: { flush_interval: '1s' },
      alerting: {
        evaluation_interval: '1s',
        thresholds: {
          api_response_time: off,
          database_query_time: off,
          memory_usage: off,
          cpu_usage: off,
          disk_usage: off,
        },
        health_checks: { enabled: o.healthAlerts ?? false },
      },
      jobs: { cleanup: false, archive: false, health: false, daily_summary: false },
    },
    { env: {}, fileLogs: false },
  );
  let checkError = o.checkError ?? null;
  monitor.health.register('app', async () => (checkError ? { error: checkError } : true));
  await monitor.start();
  const state = { down: false, alertsDown: false };
  const server: Server = createServer((req, res) => {
    if (state.down) {
      req.socket.destroy();
      return;
    }
    if (state.alertsDown && req.url?.startsWith('/production/alerts/')) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('upstream unavailable');
      return;
    }
    monitor.handler(req, res, () => {
      res.statusCode = req.url === '/fail' ? 500 : 200;
      res.end(req.url === '/fail' ? 'failed' : 'ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    monitor,
    get down() {
      return state.down;
    },
    set down(v: boolean) {
      state.down = v;
      if (v) server.closeIdleConnections();
    },
    get alertsDown() {
      return state.alertsDown;
    },
    set alertsDown(v: boolean) {
      state.alertsDown = v;
    },
    async setCheck(error) {
      checkError = error;
      await monitor.health.run();
    },
    async fail(n) {
      for (let i = 0; i < n; i++) await (await fetch(`${url}/fail`)).arrayBuffer();
    },
    async activeAlerts() {
      const res = await fetch(`${url}/production/alerts/?status=active`, {
        headers: { authorization: `Bearer ${READ_TOKEN}` },
      });
      return ((await res.json()) as { active: { rule: string; status: string; severity: string }[] }).active;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await monitor.stop({ drainDelayMs: 0 });
      dir.cleanup();
    },
  };
}
