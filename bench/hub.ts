/**
 * A standalone prodmon as the hub of a fleet, beside Prometheus scraping the same fleet, in one run:
 * `instances` simulated app instances x `routes` routes (100 x 200 = 20,000 series) record a latency
 * mix all along (bench/hub-apps.ts); each pushes its rollups to prodmon every 10 s through
 * `prodmon/agent` (the real wire format) and serves the same requests as a prom-client histogram on
 * `/metrics`, which Prometheus (Debian package `prometheus`, 10 s scrape, default storage, its own temp
 * dir and port) scrapes. prodmon runs as it ships (bundled, test/support/hub-child.ts: a standalone
 * monitor on SQLite with the default config, a webhook channel to a receiver here, host alerts off,
 * V8's garbage collection tuned as `prodmon start` tunes it: src/core/gc.ts).
 *
 * Printed, for the measured window (after `warmup`): for both, RSS (mean and max, sampled every
 * second from /proc), CPU seconds per minute (all threads, from /proc) and rows (prodmon: rows the
 * hub accepted) or samples (Prometheus: prometheus_tsdb_head_samples_appended_total) ingested per
 * second; `/health/` (Prometheus: `/-/healthy`, the same probe traffic for both) p50 / p99 / max from
 * a probe paced every 20 ms; for prodmon, the CPU its event loop spent while a probe waited, the time
 * of each evaluation tick of the alert engine, and breach to notification: every `trial` seconds one
 * instance's own route (a series of its own) gets 20 requests of 2.5 s, above the built-in
 * api_response_time rule's critical threshold (p95 by route over 5 minutes, 2 s), which the instance
 * flushes and pushes at once; from the moment the hub has answered that push to the firing
 * notification arriving at the webhook receiver.
 *
 * Goals: /health/ p99 < 50 ms and max < 200 ms throughout, breach to notification p99 < 1 s, RSS and
 * CPU no higher than Prometheus's alone.
 *
 *   node --import tsx bench/hub.ts                          the full run: 100 x 200, 5 minutes measured
 *   node --import tsx bench/hub.ts --duration 60 --instances 10 --warmup 30     a short dev run
 *     --duration <s>   measured seconds (default 300)      --warmup <s>  before measuring (default 60)
 *     --instances <n>  (default 100)    --routes <n> (default 200)     --trial <s>  (default 20)
 *     --no-prometheus  prodmon alone            --hub-profile <dir>  write the hub's CPU profile there
 *     --v8-defaults    the hub keeps V8's own garbage-collection heuristics (what src/core/gc.ts changes)
 *     --hub-node-args=<flags>  more Node/V8 flags for the hub (e.g. "--trace-gc")
 *     --hub-out <file>  append the hub's stdout there (where --trace-gc writes)
 *
 * Prometheus: `apt-get install -y prometheus` (Debian; the bench does not install it). Without it the
 * prodmon rows are printed and the reason instead of Prometheus's.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { quantileOf, startProbe } from '../test/support/probe.js';
import { startHttpReceiver } from '../test/support/receivers.js';
import { tempDir } from '../test/support/services.js';
import { type Daemon, findPrometheus, prometheusVersion, startScrapingPrometheus } from './promstack.js';
import { bundleChild, stopChild, table } from './support.js';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '300' },
    warmup: { type: 'string', default: '60' },
    instances: { type: 'string', default: '100' },
    routes: { type: 'string', default: '200' },
    trial: { type: 'string', default: '20' },
    'no-prometheus': { type: 'boolean', default: false },
    'hub-profile': { type: 'string' },
    'hub-node-args': { type: 'string', default: '' },
    'v8-defaults': { type: 'boolean', default: false },
    'hub-out': { type: 'string' },
  },
});
const DURATION_S = Number(args.duration);
const WARMUP_S = Number(args.warmup);
const INSTANCES = Number(args.instances);
const ROUTES = Number(args.routes);
const TRIAL_S = Number(args.trial);
const PUSH = 'bench-push-token-0123456789';
const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** RSS (bytes) and CPU (s, all threads) of a process, from /proc. */
function procStats(pid: number): { rss: number; cpu: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { rss, cpu: (Number(f[11]) + Number(f[12])) / 100 };
  } catch {
    return null;
  }
}

/** A child process from a bundled script; resolves with the first line matching `ready`. */
async function startBundled(
  bundle: string,
  args: string[],
  ready: RegExp,
  nodeArgs: string[] = [],
  stdoutTo?: string,
): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, [...nodeArgs, bundle, ...args], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    let out: string | null = ''; // until the ready line: the rest of stdout goes only to `stdoutTo`
    child.stdout!.on('data', (d: Buffer) => {
      if (stdoutTo) appendFileSync(stdoutTo, d);
      if (out === null) return;
      out += d.toString();
      const m = ready.exec(out);
      if (m) {
        out = null;
        resolve(m);
      }
    });
    child.once('exit', (code) => reject(new Error(`${bundle} exited with ${code}`)));
  });
  return { child, match };
}

/** The next IPC message of a child that has `key`. */
function reply<T>(child: ChildProcess, key: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: unknown) => {
      if (m && typeof m === 'object' && key in m) {
        child.off('message', on);
        resolve(m as T);
      }
    };
    child.on('message', on);
  });
}

/** The samples Prometheus has appended so far. */
async function promSamples(prom: Daemon): Promise<number> {
  const text = await (await fetch(`${prom.url}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('prometheus_tsdb_head_samples_appended_total'))
      total += Number(line.split(' ').pop());
  }
  return total;
}

// ---- the parts ----------------------------------------------------------------------------------

const receiver = await startHttpReceiver();
const firings = new Map<string, number>();
const waiters = new Map<string, (at: number) => void>();
receiver.answer((r) => {
  const body = r.json as {
    type?: string;
    data?: { alert?: { rule: string; labels: Record<string, string> } };
  };
  const alert = body?.data?.alert;
  if (body?.type === 'alert.firing' && alert?.rule === 'api_response_time' && alert.labels.route) {
    const at = performance.timeOrigin + r.at;
    if (!firings.has(alert.labels.route)) firings.set(alert.labels.route, at);
    waiters.get(alert.labels.route)?.(at);
  }
  return { status: 200 };
});

const dir = tempDir('prodmon-bench-hub-');
const hubConfig = {
  data_dir: dir.path,
  instance: 'hub',
  logs: { stdout: false },
  auth: { tokens: [{ name: 'fleet', token: PUSH, role: 'push' }] },
  // The machine's own CPU, memory and disk are not the fleet's: their alerts would only add noise.
  alerting: {
    thresholds: {
      cpu_usage: { enabled: false },
      memory_usage: { enabled: false },
      disk_usage: { enabled: false },
    },
  },
  notifications: {
    channels: [{ name: 'hook', kind: 'webhook', url: `${receiver.url}/hook` }],
    // Each trial breaches a route of its own and is measured as a single breach is: the first of its
    // group. Grouped per rule alone (the default), a trial within a minute of the last one's message
    // would wait for the group interval by design, and the bench would measure that wait.
    grouping: { group_by: ['route'] },
  },
};
log(`bundling prodmon and the fleet ...`);
// Two levels under the repository (so prodmon finds `src/dashboard/static`), beside node_modules' packages.
const BUILD_DIR = fileURLToPath(new URL('../node_modules/.hub-bench/', import.meta.url));
const hubBundle = await bundleChild(
  fileURLToPath(new URL('../test/support/hub-child.ts', import.meta.url)),
  BUILD_DIR,
);
const appsBundle = await bundleChild(fileURLToPath(new URL('./hub-apps.ts', import.meta.url)), BUILD_DIR);
const hubProfile = args['hub-profile'] ? ['--cpu-prof', `--cpu-prof-dir=${args['hub-profile']}`] : [];
const hubNodeArgs = args['hub-node-args']!.split(/\s+/).filter(Boolean);
const hub = await startBundled(
  hubBundle,
  [JSON.stringify(hubConfig), ...(args['v8-defaults'] ? ['--v8-defaults'] : [])],
  /PORT (\d+)/,
  [...hubNodeArgs, ...hubProfile],
  args['hub-out'],
);
const hubUrl = `http://127.0.0.1:${hub.match[1]}`;
const ticks: number[] = [];
let measuring = false;
hub.child.on('message', (m) => {
  const ms = (m as { tick?: number }).tick;
  if (ms !== undefined && measuring) ticks.push(ms);
});
log(
  `prodmon hub at ${hubUrl} (pid ${hub.child.pid}); starting ${INSTANCES} instances x ${ROUTES} routes ...`,
);
const apps = await startBundled(
  appsBundle,
  [JSON.stringify({ instances: INSTANCES, routes: ROUTES, url: hubUrl, token: PUSH })],
  /PORTS ([\d,]+)/,
);
const ports = apps.match[1]!.split(',');

let prom: Daemon | null = null;
let promWhy = '';
const promBin = args['no-prometheus'] ? null : findPrometheus();
if (args['no-prometheus']) promWhy = 'left out (--no-prometheus)';
else if (!promBin) promWhy = 'not installed (apt-get install -y prometheus)';
else {
  prom = await startScrapingPrometheus(
    promBin,
    ports.map((p) => `127.0.0.1:${p}`),
    '10s',
  );
  log(`Prometheus ${prometheusVersion(promBin)} at ${prom.url} (pid ${prom.child.pid}), scraping every 10 s`);
}

// ---- warmup, then the measured window -----------------------------------------------------------

log(`warming up ${WARMUP_S} s ...`);
await sleep(WARMUP_S * 1000);

const stats = async () => {
  const answer = reply<{ stats: { sent: number } }>(apps.child, 'stats');
  apps.child.send('stats');
  return (await answer).stats;
};
const startStats = await stats();
const startSamples = prom ? await promSamples(prom) : 0;
const startProc = {
  hub: procStats(hub.child.pid!),
  prom: prom ? procStats(prom.child.pid!) : null,
  apps: procStats(apps.child.pid!),
};
const rss: { hub: number[]; prom: number[] } = { hub: [], prom: [] };
const sampler = setInterval(() => {
  const h = procStats(hub.child.pid!);
  if (h) rss.hub.push(h.rss);
  const p = prom ? procStats(prom.child.pid!) : null;
  if (p) rss.prom.push(p.rss);
}, 1000);
const probe = startProbe(`${hubUrl}/health/`, 20, hub.child.pid);
// Prometheus's own health endpoint at the same pace: both serve the same probe traffic.
const promProbe = prom ? startProbe(`${prom.url}/-/healthy`, 20) : null;
measuring = true;
const t0 = performance.now();
log(`measuring ${DURATION_S} s ...`);

// Breach trials, one every TRIAL_S, on the next instance's own route.
const breaches: { route: string; ms: number | null }[] = [];
let k = 0;
while (k < INSTANCES && (k + 1) * TRIAL_S <= DURATION_S) {
  const next = t0 + (k + 1) * TRIAL_S * 1000;
  await sleep(Math.max(0, next - performance.now()));
  const answer = reply<{ route: string; t0: number }>(apps.child, 'breach');
  apps.child.send({ breach: k });
  const { route, t0: pushed } = await answer;
  const arrived = firings.has(route)
    ? Promise.resolve(firings.get(route)!)
    : new Promise<number | null>((resolve) => {
        waiters.set(route, resolve);
        setTimeout(() => resolve(null), 30_000);
      });
  const at = await arrived;
  waiters.delete(route);
  breaches.push({ route, ms: at === null ? null : at - pushed });
  k++;
}
await sleep(Math.max(0, t0 + DURATION_S * 1000 - performance.now()));

const seconds = (performance.now() - t0) / 1000;
measuring = false;
clearInterval(sampler);
const probed = await probe.stop();
const promProbed = await promProbe?.stop();
const endStats = await stats();
const endSamples = prom ? await promSamples(prom) : 0;
const endProc = {
  hub: procStats(hub.child.pid!),
  prom: prom ? procStats(prom.child.pid!) : null,
  apps: procStats(apps.child.pid!),
};

await stopChild(apps.child);
await prom?.stop();
await stopChild(hub.child);
await receiver.close();
dir.cleanup();

// ---- report -------------------------------------------------------------------------------------

const mb = (b: number) => (b / 1024 / 1024).toFixed(0);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const cpuPerMin = (a: { cpu: number } | null, b: { cpu: number } | null) =>
  a && b ? ((b.cpu - a.cpu) / seconds) * 60 : Number.NaN;
const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(x < 10 ? 1 : 0)} ms` : '-');
const hubCpu = cpuPerMin(startProc.hub, endProc.hub);
const promCpu = cpuPerMin(startProc.prom, endProc.prom);
const rows: (string | number)[][] = [
  [
    'RSS, mean / max',
    `${mb(mean(rss.hub))} / ${mb(Math.max(...rss.hub))} MB`,
    prom ? `${mb(mean(rss.prom))} / ${mb(Math.max(...rss.prom))} MB` : promWhy,
  ],
  ['CPU per minute', `${hubCpu.toFixed(1)} s`, prom ? `${promCpu.toFixed(1)} s` : ''],
  [
    'ingested per second',
    `${((endStats.sent - startStats.sent) / seconds).toFixed(0)} rows`,
    prom ? `${((endSamples - startSamples) / seconds).toFixed(0)} samples` : '',
  ],
  [
    'health p50 / p99 / max (probed every 20 ms)',
    `${ms(quantileOf(probed.latencies, 0.5))} / ${ms(quantileOf(probed.latencies, 0.99))} / ${ms(Math.max(...probed.latencies))}`,
    promProbed
      ? `${ms(quantileOf(promProbed.latencies, 0.5))} / ${ms(quantileOf(promProbed.latencies, 0.99))} / ${ms(Math.max(...promProbed.latencies))} (/-/healthy)`
      : '',
  ],
  [
    'hub event-loop CPU while a probe waited, p99 / max',
    `${quantileOf(probed.serverCpu, 0.99)} / ${Math.max(...probed.serverCpu)} ms`,
    '',
  ],
  [
    'evaluation tick: count, p50, max',
    ticks.length
      ? `${ticks.length}, ${ms(quantileOf(ticks, 0.5))}, ${ms(Math.max(...ticks))}`
      : 'none in the window',
    '',
  ],
];
const done = breaches.filter((b) => b.ms !== null).map((b) => b.ms!);
rows.push([
  'breach to notification: trials, p50, p99, max',
  `${breaches.length}${done.length < breaches.length ? ` (${breaches.length - done.length} not notified within 30 s)` : ''}, ${ms(quantileOf(done, 0.5))}, ${ms(quantileOf(done, 0.99))}, ${ms(Math.max(...done))}`,
  '',
]);
log('');
log(
  `${INSTANCES} instances x ${ROUTES} routes (${INSTANCES * ROUTES} series), ${seconds.toFixed(0)} s measured after ${WARMUP_S} s; fleet process ${cpuPerMin(startProc.apps, endProc.apps).toFixed(1)} s CPU per minute (not counted)`,
);
table(['', 'prodmon hub', prom ? 'Prometheus (scrape only)' : 'Prometheus'], rows);
const goal = (ok: boolean) => (ok ? 'met' : 'NOT met');
const p99 = quantileOf(probed.latencies, 0.99);
log('');
log(
  `goals: /health/ p99 < 50 ms: ${goal(p99 < 50)}; max < 200 ms: ${goal(Math.max(...probed.latencies) < 200)}; breach to notification p99 < 1 s: ${goal(done.length === breaches.length && quantileOf(done, 0.99) < 1000)}${prom ? `; RSS <= Prometheus: ${goal(mean(rss.hub) <= mean(rss.prom))}; CPU <= Prometheus: ${goal(hubCpu <= promCpu)}` : ''}`,
);
