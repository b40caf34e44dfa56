/**
 * The demo: the shop with prodmon embedded, a webhook receiver, customers, and fault switches, for a
 * bounded time. Prints where everything is, each notification as it arrives, and a status line.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type FaultName, Faults } from '../faults.js';
import { prodmonTelemetry } from '../prodmon.js';
import { createShop } from '../shop.js';
import { runTraffic, type TrafficStats } from '../traffic.js';
import type { DemoArgs } from './args.js';
import { demoConfig } from './config.js';
import { type Received, startReceiver } from './receiver.js';

/** Where the demo writes and what may stop it. */
export interface DemoIo {
  out: (line: string) => void;
  signal: AbortSignal;
  /** Keys toggle faults (a TTY's stdin). */
  keys?: NodeJS.ReadStream;
}

/** How the demo ended. */
export interface DemoSummary {
  traffic: TrafficStats;
  notifications: Received[];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const clock = (ms: number) =>
  `${Math.floor(ms / 60_000)}:${String(Math.floor((ms % 60_000) / 1000)).padStart(2, '0')}`;

/** One line for a notification. */
export function describeNotification(r: Received): string {
  const a = r.body.data?.alert;
  const what = a ? `${a.rule} (${a.severity}): ${a.message}` : (r.body.data?.summary ?? '');
  return `[webhook] ${r.type.padEnd(15)} ${what}${r.verified ? '' : '  (SIGNATURE DID NOT VERIFY)'}`;
}

/** Runs the demo until the duration ends or `io.signal` aborts. */
export async function runDemo(args: DemoArgs, io: DemoIo): Promise<DemoSummary> {
  const { out } = io;
  const ownDir = !args.dataDir;
  const dir = args.dataDir ?? mkdtempSync(join(tmpdir(), 'prodmon-demo-'));
  const token = randomBytes(24).toString('base64url');
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const started = performance.now();
  const since = () => clock(performance.now() - started);

  const receiver = await startReceiver(secret, (r) => out(`${since()} ${describeNotification(r)}`));
  const port = args.port || (await freePort());
  const publicUrl = `http://127.0.0.1:${port}`;
  const faults = new Faults();
  const shop = await createShop({
    databaseUrl: args.databaseUrl ?? undefined,
    sqlitePath: join(dir, 'shop.db'),
    redisUrl: args.redisUrl,
    redisPrefix: `prodmon_demo_${process.pid}:`,
    demoToken: token,
    faults,
    telemetry: prodmonTelemetry({
      dataDir: join(dir, 'prodmon'),
      config: demoConfig({ token, webhookUrl: receiver.url, webhookSecret: secret, publicUrl }),
    }),
  });
  const url = await shop.listen(port, '127.0.0.1');
  const stop = new AbortController();
  const both = AbortSignal.any([stop.signal, io.signal]);

  out('prodmon demo: the example shop with prodmon embedded');
  out(`  shop            ${url}/api/products`);
  out(`  dashboard       ${url}/production/dashboard/`);
  out(`  alerts API      curl -H "Authorization: Bearer ${token}" ${url}/production/alerts/`);
  out(`  admin token     ${token}`);
  out(`  webhook         ${receiver.url} (notifications are printed below)`);
  out(
    `  fault control   curl -X POST -H "Authorization: Bearer ${token}" -H 'content-type: application/json' \\`,
  );
  out(`                    -d '{"fault":"errors","on":true}' ${url}/_demo/fault`);
  out(
    `  storage         ${args.databaseUrl ? 'PostgreSQL (SHOP_DATABASE_URL)' : join(dir, 'shop.db')}; cache ${args.redisUrl ?? 'none'}`,
  );
  out(`  data            ${dir}${ownDir ? ' (removed at the end)' : ''}`);
  out(
    `  running for     ${clock(args.durationMs)} with ${args.customers} customers${io.keys ? '; keys: e/s/r toggle errors/slow-db/redis-down, q quits' : ''}; Ctrl-C stops`,
  );

  faults.onChange((name, on) => out(`${since()} [fault] ${name} ${on ? 'ON' : 'off'}`));
  const timers: Promise<void>[] = [];
  const at = (ms: number, fn: () => void) =>
    timers.push(sleep(ms, undefined, { signal: both }).then(fn, () => {}));
  if (args.faults.length) {
    at(args.faultAfterMs, () => {
      for (const f of args.faults) faults.set(f, true);
    });
    if (args.faultForMs > 0) {
      at(args.faultAfterMs + args.faultForMs, () => {
        for (const f of args.faults) faults.set(f, false);
      });
    }
  }
  const onKey = (key: Buffer) => {
    const k = key.toString();
    const toggle: Record<string, FaultName> = { e: 'errors', s: 'slow-db', r: 'redis-down' };
    if (k === 'q' || k === '\u0003') stop.abort();
    else if (toggle[k]) faults.set(toggle[k], !faults.isOn(toggle[k]));
  };
  if (io.keys?.isTTY) {
    io.keys.setRawMode(true);
    io.keys.on('data', onKey);
    io.keys.resume();
  }

  const status = async () => {
    while (args.statusEveryMs > 0 && !both.aborted) {
      await sleep(args.statusEveryMs, undefined, { signal: both }).catch(() => {});
      if (both.aborted) break;
      out(
        `${since()} [status] ${await statusLine(url, token, shop.cache.state, faults.active(), traffic.live)}`,
      );
    }
  };

  const traffic = { live: { requests: 0, errors: 0 } };
  const run = runTraffic({
    baseUrl: url,
    concurrency: args.customers,
    durationMs: args.durationMs,
    signal: both,
    failedLoginShare: 0.02,
    onResponse: (status) => {
      traffic.live.requests++;
      if (status >= 500) traffic.live.errors++;
    },
  });
  const statusDone = status();
  let stats: TrafficStats;
  try {
    stats = await run;
  } finally {
    stop.abort();
    if (io.keys?.isTTY) {
      io.keys.off('data', onKey);
      io.keys.setRawMode(false);
      io.keys.pause();
    }
    await Promise.all([statusDone, ...timers]);
    out(`${since()} stopping: finishing requests, flushing prodmon...`);
    await shop.close();
    await receiver.close();
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  }
  out(
    `done: ${stats.requests} requests (${Object.entries(stats.byStatus)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ')}), ${stats.orders} orders, ${receiver.received.length} notifications`,
  );
  return { traffic: stats, notifications: receiver.received };
}

/** The status line: traffic, faults, cache, and the firing alerts as prodmon's API reports them. */
async function statusLine(
  url: string,
  token: string,
  cache: string,
  faults: FaultName[],
  live: { requests: number; errors: number },
): Promise<string> {
  let alerts: string;
  try {
    const res = await fetch(`${url}/production/alerts/?status=firing`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(2000),
    });
    if (!res.ok) alerts = `alerts API answered ${res.status}`;
    else {
      const body = (await res.json()) as { alerts?: { rule: string; severity: string }[] };
      // One entry per rule and severity (a rule grouped by route fires once per route: `x3`).
      const counts = new Map<string, number>();
      for (const a of body.alerts ?? []) {
        const key = `${a.rule}(${a.severity})`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      const names = [...counts].map(([k, n]) => (n > 1 ? `${k}x${n}` : k));
      alerts = names.length ? `firing: ${names.join(', ')}` : 'no alert firing';
    }
  } catch (err) {
    alerts = `alerts API unreachable (${(err as Error).message})`;
  }
  return `${live.requests} requests, ${live.errors} 5xx | faults: ${faults.join(', ') || 'none'} | cache: ${cache} | ${alerts}`;
}
