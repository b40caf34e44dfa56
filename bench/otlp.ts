/**
 * OTLP ingest next to prodmon's own push, with the same series: a standalone prodmon (bundled,
 * test/support/hub-child.ts, SQLite, default config) receives, every `interval` seconds, from each of
 * `instances` simulated instances one request holding `routes` request-latency series, 20 new
 * requests per series per round: first as `POST /production/ingest` bodies (the wire format, a
 * sketch per row, as an agent pushes), then, in a fresh prodmon, as OTLP protobuf exports to
 * `POST /v1/metrics` (a cumulative `http.server.request.duration` histogram per series with the SDK's
 * bounds, as `@opentelemetry/exporter-metrics-otlp-proto` sends them).
 *
 * Printed per kind: rows stored per second of request time (the hub's ingest cost: the requests are
 * sent one after the other, so their total time is the hub's busy time), request p50 / max, body
 * bytes per row, and the hub's RSS (mean and max, sampled every second from /proc).
 *
 *   node --import tsx bench/otlp.ts                         20 instances x 50 routes, 60 s per kind
 *   node --import tsx bench/otlp.ts --duration 5 --instances 2 --routes 5    a smoke run
 *     --duration <s>  per kind (default 60)   --interval <s>  between rounds (default 10)
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { encodeRequest } from '../src/metrics/otlp/decode.js';
import { MINUTE_MS } from '../src/metrics/rollup.js';
import { encodeSketch, newSketch, sketchAdd } from '../src/metrics/sketch.js';
import type { WireRow } from '../src/metrics/wire.js';
import { tempDir } from '../test/support/services.js';
import { bundleChild, quantile, stopChild, table } from './support.js';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '60' },
    interval: { type: 'string', default: '10' },
    instances: { type: 'string', default: '20' },
    routes: { type: 'string', default: '50' },
  },
});
const DURATION_MS = Number(args.duration) * 1000;
const INTERVAL_MS = Number(args.interval) * 1000;
const INSTANCES = Number(args.instances);
const ROUTES = Number(args.routes);
const PER_ROUND = 20;
const PUSH = 'bench-otlp-push-token-0123456789';
/** The bounds `@opentelemetry/instrumentation-http` gives `http.server.request.duration` (s). */
const BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The latencies (ms) of a series' requests in one round: a log-normal-ish mix per route. */
function latencies(route: number, round: number): number[] {
  const base = 5 + (route % 20) * 3;
  return Array.from({ length: PER_ROUND }, (_, i) => base * (1 + ((i * 7 + round * 3) % 11) / 5));
}

/** What a series has recorded so far: the current minute's values, and its whole life's histogram. */
interface SeriesState {
  minute: number;
  values: number[];
  counts: number[];
  sum: number;
  count: number;
}

function newState(): SeriesState {
  return { minute: -1, values: [], counts: new Array(BOUNDS.length + 1).fill(0), sum: 0, count: 0 };
}

function record(s: SeriesState, now: number, values: number[]): void {
  const minute = now - (now % MINUTE_MS);
  if (minute !== s.minute) {
    s.minute = minute;
    s.values = [];
  }
  for (const v of values) {
    s.values.push(v);
    const sec = v / 1000;
    let i = BOUNDS.findIndex((b) => sec <= b);
    if (i < 0) i = BOUNDS.length;
    s.counts[i]!++;
    s.sum += sec;
    s.count++;
  }
}

/** The ingest body of an instance: each series' current minute (as the agent re-sends a growing minute). */
function ingestBody(instance: string, states: SeriesState[]): string {
  const rows: WireRow[] = states.map((s, r) => {
    const sk = newSketch();
    for (const v of s.values) sketchAdd(sk, v);
    return {
      metric: 'http_request_duration_ms',
      labels: { route: `/r${r}/:id`, method: 'GET', status_class: '2xx' },
      resolution: MINUTE_MS,
      bucket: s.minute,
      count: s.values.length,
      sum: s.values.reduce((a, b) => a + b, 0),
      min: Math.min(...s.values),
      max: Math.max(...s.values),
      errors: 0,
      sketch: encodeSketch(sk).toString('base64'),
    };
  });
  return JSON.stringify({ instance, rows });
}

/** The OTLP export of an instance: a cumulative histogram point per series. */
function otlpBody(instance: string, states: SeriesState[], start: number, now: number): Buffer {
  const nanos = (ms: number) => `${BigInt(Math.round(ms)) * 1_000_000n}`;
  const dataPoints = states.map((s, r) => ({
    attributes: [
      { key: 'http.route', value: { stringValue: `/r${r}/:id` } },
      { key: 'http.request.method', value: { stringValue: 'GET' } },
      { key: 'http.response.status_code', value: { intValue: 200 } },
    ],
    startTimeUnixNano: nanos(start),
    timeUnixNano: nanos(now),
    count: s.count,
    sum: s.sum,
    bucketCounts: s.counts,
    explicitBounds: BOUNDS,
  }));
  return encodeRequest({
    resourceMetrics: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: { stringValue: 'bench' } },
            { key: 'service.instance.id', value: { stringValue: instance } },
          ],
        },
        scopeMetrics: [
          {
            metrics: [
              {
                name: 'http.server.request.duration',
                unit: 's',
                histogram: { aggregationTemporality: 2, dataPoints },
              },
            ],
          },
        ],
      },
    ],
  });
}

function rssOf(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

async function startHub(bundle: string, dataDir: string): Promise<{ child: ChildProcess; base: string }> {
  const config = {
    instance: 'hub',
    data_dir: dataDir,
    logs: { stdout: false },
    health: { builtin_checks: false },
    auth: { tokens: [{ name: 'bench', token: PUSH, role: 'push' }] },
  };
  const child = spawn(process.execPath, [bundle, JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const port = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`hub exited with ${code}`)));
  });
  return { child, base: `http://127.0.0.1:${port}` };
}

interface KindResult {
  kind: string;
  rows: number;
  busyMs: number;
  times: number[];
  bytes: number;
  rss: number[];
}

async function run(kind: 'ingest' | 'otlp', bundle: string): Promise<KindResult> {
  const dir = tempDir();
  const { child, base } = await startHub(bundle, dir.path);
  const result: KindResult = { kind, rows: 0, busyMs: 0, times: [], bytes: 0, rss: [] };
  const sampler = setInterval(() => result.rss.push(rssOf(child.pid!)), 1000);
  const states = Array.from({ length: INSTANCES }, () => Array.from({ length: ROUTES }, newState));
  const start = Date.now();
  try {
    for (let round = 0; Date.now() - start < DURATION_MS; round++) {
      const roundStart = Date.now();
      for (let i = 0; i < INSTANCES; i++) {
        const now = Date.now();
        for (const [r, s] of states[i]!.entries()) record(s, now, latencies(r, round));
        const instance = `i${i}`;
        const body =
          kind === 'ingest' ? ingestBody(instance, states[i]!) : otlpBody(instance, states[i]!, start, now);
        const url = kind === 'ingest' ? `${base}/production/ingest` : `${base}/v1/metrics`;
        const type = kind === 'ingest' ? 'application/json' : 'application/x-protobuf';
        const t0 = performance.now();
        const res = await fetch(url, {
          method: 'POST',
          headers: { authorization: `Bearer ${PUSH}`, 'content-type': type },
          body,
        });
        await res.arrayBuffer();
        const took = performance.now() - t0;
        if (res.status !== 200) throw new Error(`${kind}: answered ${res.status}`);
        result.times.push(took);
        result.busyMs += took;
        result.rows += ROUTES;
        result.bytes += typeof body === 'string' ? Buffer.byteLength(body) : body.length;
      }
      await sleep(Math.max(0, INTERVAL_MS - (Date.now() - roundStart)));
    }
  } finally {
    clearInterval(sampler);
    await stopChild(child);
    dir.cleanup();
  }
  return result;
}

// (inside the repository: the bundle's packages resolve from its node_modules; removed at the end)
const outDir = fileURLToPath(new URL(`../.bench-otlp-${process.pid}/`, import.meta.url));
const bundle = await bundleChild(
  fileURLToPath(new URL('../test/support/hub-child.ts', import.meta.url)),
  outDir,
);
log(
  `${INSTANCES} instances x ${ROUTES} routes, ${PER_ROUND} requests per series every ${INTERVAL_MS / 1000} s, ${DURATION_MS / 1000} s per kind`,
);
let results: KindResult[];
try {
  results = [await run('ingest', bundle), await run('otlp', bundle)];
} finally {
  rmSync(outDir, { recursive: true, force: true });
}
const mb = (b: number) => (b / 1024 / 1024).toFixed(1);
table(
  [
    'kind',
    'rows',
    'rows/s of request time',
    'request p50 ms',
    'max ms',
    'bytes/row',
    'RSS mean MB',
    'RSS max MB',
  ],
  results.map((r) => [
    r.kind === 'ingest' ? 'POST /production/ingest' : 'POST /v1/metrics (OTLP protobuf)',
    r.rows,
    Math.round(r.rows / (r.busyMs / 1000)),
    quantile(r.times, 0.5).toFixed(1),
    Math.max(...r.times).toFixed(1),
    Math.round(r.bytes / r.rows),
    mb(r.rss.reduce((a, b) => a + b, 0) / Math.max(1, r.rss.length)),
    mb(Math.max(0, ...r.rss)),
  ]),
);
