/**
 * The deployment gate's error rates, measured: comparisons of two windows of the example shop's
 * traffic with no change (false alarms) and with one route slowed by +5 %, +10 % and +20 %
 * (detections), with the gate's default settings.
 *
 *   node --import tsx bench/deploy-gate.ts            # GATE_TRIALS=40 GATE_RECORD_S=180
 *
 * The latencies are real: the demo's traffic generator (4 customers, 100 ms think time) against the
 * shop on SQLite, each request timed from its first middleware to its response's end, recorded in
 * chunks of 5 s per route. The windows are then built from them on a controlled clock: each minute
 * takes a minute-long stretch of the recording (12 chunks in a row from a random one, so the minutes
 * vary as the recorded conditions did), a Poisson number of requests per route at the recorded rate,
 * and latencies resampled from that stretch (a slowed route's multiplied by the slowdown). The minutes
 * go through prodmon's Recorder into per-minute rollups, are read back and compared as `prodmon
 * baseline compare` does: a 30-minute baseline against a 10-minute window (the commands' defaults),
 * then 60 against 20 minutes.
 *
 * The slowed route is the busiest one whose +20 % is at least twice the floor (below the floor a
 * slowdown is no regression by design). Two setups: the shop with every statement 5 ms away (the
 * slow-db fault at 5 ms: a database over a network), with the default settings; and the shop as it is
 * (SQLite in process, routes of 1-10 ms) with the floor off (`--min-delta 0ms`): the statistics alone.
 */
import { loadavg, uptime as osUptime } from 'node:os';
import { join } from 'node:path';
import type { RequestHandler } from 'express';
import { Faults } from '../examples/shop/src/faults.js';
import { createShop } from '../examples/shop/src/shop.js';
import { noTelemetry } from '../examples/shop/src/telemetry.js';
import { runTraffic } from '../examples/shop/src/traffic.js';
import { compareWindows, DEFAULT_SETTINGS, type GateSettings } from '../src/baseline/compare.js';
import { Random } from '../src/baseline/stats.js';
import { readWindow, type WindowFigures } from '../src/baseline/window.js';
import { type FakeRequest, memoryRecorder, recordMinutes } from '../test/support/gate-windows.js';
import { tempDir } from '../test/support/services.js';

const TRIALS = Number(process.env.GATE_TRIALS ?? 40);
const RECORD_S = Number(process.env.GATE_RECORD_S ?? 180);
const CHUNK_MS = 5000;
/** Chunks in a minute: a window's minute is a minute-long stretch of the recording. */
const CHUNKS_PER_MINUTE = 60_000 / CHUNK_MS;
/** Window lengths compared (baseline, current): the commands' defaults, and twice as long. */
const LENGTHS: [number, number][] = [
  [30, 10],
  [60, 20],
];
const SLOWDOWNS = [0, 0.05, 0.1, 0.2];
const T0 = Date.UTC(2026, 0, 5, 8, 0);

/** One recorded request. */
interface Sample {
  ms: number;
  failed: boolean;
}

/** The recording: per chunk, per route key, the samples; and each route's rate per minute. */
interface Pool {
  chunks: Map<string, Sample[]>[];
  all: Map<string, Sample[]>;
  perMinute: Map<string, number>;
  requests: number;
  seconds: number;
}

/** Records the shop's real traffic for `seconds`, in chunks of {@link CHUNK_MS}. */
async function record(dbMs: number, seconds: number): Promise<Pool> {
  const dir = tempDir('gate-bench-');
  const faults = new Faults({ slowDbMs: dbMs });
  if (dbMs > 0) faults.set('slow-db', true);
  const chunks: Map<string, Sample[]>[] = [];
  let current = new Map<string, Sample[]>();
  let chunkStart = performance.now();
  const timing: RequestHandler = (req, res, next) => {
    const t0 = performance.now();
    res.on('finish', () => {
      const route = req.route?.path;
      if (typeof route !== 'string') return;
      const now = performance.now();
      if (now - chunkStart >= CHUNK_MS) {
        chunks.push(current);
        current = new Map();
        chunkStart = now;
      }
      const key = `${req.method} ${req.baseUrl}${route}`;
      const list = current.get(key) ?? [];
      if (list.length === 0) current.set(key, list);
      list.push({ ms: now - t0, failed: res.statusCode >= 500 });
    });
    next();
  };
  const shop = await createShop({
    sqlitePath: join(dir.path, 'shop.db'),
    faults,
    telemetry: { ...noTelemetry(), before: [timing] },
  });
  try {
    const url = await shop.listen(0, '127.0.0.1');
    await runTraffic({ baseUrl: url, concurrency: 4, durationMs: 3000 }); // warm-up, not kept
    chunks.length = 0;
    current = new Map();
    chunkStart = performance.now();
    const stats = await runTraffic({ baseUrl: url, concurrency: 4, durationMs: seconds * 1000 });
    if (current.size > 0) chunks.push(current);
    const all = new Map<string, Sample[]>();
    for (const c of chunks)
      for (const [k, v] of c) {
        if (!all.has(k)) all.set(k, []);
        all.get(k)!.push(...v);
      }
    const perMinute = new Map([...all].map(([k, v]) => [k, (v.length / (stats.elapsedMs / 1000)) * 60]));
    return { chunks, all, perMinute, requests: stats.requests, seconds: stats.elapsedMs / 1000 };
  } finally {
    await shop.close();
    dir.cleanup();
  }
}

/** A Poisson count. */
function poisson(random: Random, mean: number): number {
  if (mean > 50) return Math.max(0, Math.round(mean + Math.sqrt(mean) * random.normal()));
  const l = Math.exp(-mean);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= random.next();
  } while (p > l);
  return k - 1;
}

/** A window of `minutes` built from the pool; `slow` multiplies one route's latencies. */
async function window(
  pool: Pool,
  random: Random,
  start: number,
  minutes: number,
  slow: { key: string; factor: number } | null,
): Promise<WindowFigures> {
  const { recorder } = memoryRecorder();
  try {
    recordMinutes(recorder, start, minutes, () => {
      // A minute of the recording from a random chunk on (wrapping round): its conditions as they came.
      const first = Math.floor(random.next() * pool.chunks.length);
      const stretch = Array.from(
        { length: Math.min(CHUNKS_PER_MINUTE, pool.chunks.length) },
        (_, i) => pool.chunks[(first + i) % pool.chunks.length]!,
      );
      const out: FakeRequest[] = [];
      for (const [key, rate] of pool.perMinute) {
        const own = stretch.flatMap((c) => c.get(key) ?? []);
        const from = own.length >= 5 ? own : pool.all.get(key)!;
        const factor = slow && slow.key === key ? slow.factor : 1;
        const [method, route] = [key.slice(0, key.indexOf(' ')), key.slice(key.indexOf(' ') + 1)];
        for (let i = 0, n = poisson(random, rate); i < n; i++) {
          const s = from[Math.floor(random.next() * from.length)]!;
          out.push({ method, route, ms: s.ms * factor, failed: s.failed });
        }
      }
      // Interleaved, as requests of several routes arrive.
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(random.next() * (i + 1));
        [out[i], out[j]] = [out[j]!, out[i]!];
      }
      return out;
    });
    return await readWindow({ store: null, recorder }, { from: start, until: start + minutes * 60_000 });
  } finally {
    recorder.close();
  }
}

function p95(samples: readonly Sample[]): number {
  const v = samples.map((s) => s.ms).sort((a, b) => a - b);
  return v[Math.min(v.length - 1, Math.floor(0.95 * (v.length - 1)))]!;
}

interface Row {
  change: number;
  trials: number;
  slowedFlagged: number;
  anyRegression: number;
  inconclusive: number;
}

/** The spread of a route's p95 between minute-long stretches of the recording (coefficient of variation). */
function minuteSpread(pool: Pool, key: string): number {
  const values: number[] = [];
  for (let first = 0; first < pool.chunks.length; first++) {
    const samples: Sample[] = [];
    for (let i = 0; i < Math.min(CHUNKS_PER_MINUTE, pool.chunks.length); i++)
      samples.push(...(pool.chunks[(first + i) % pool.chunks.length]!.get(key) ?? []));
    if (samples.length >= 20) values.push(p95(samples));
  }
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, values.length - 1));
  return sd / mean;
}

async function run(
  label: string,
  dbMs: number,
  settings: GateSettings,
  lengths: readonly [number, number][],
): Promise<void> {
  const pool = await record(dbMs, RECORD_S);
  // The slowed route: the busiest whose +20 % is at least twice the floor (below the floor a slowdown
  // is no regression by design) and that has requests to spare in a 10-minute window.
  const candidates = [...pool.perMinute]
    .filter(
      ([k, r]) =>
        r * 10 >= 2 * settings.minRequests && 0.2 * p95(pool.all.get(k)!) >= 2 * settings.minDeltaMs,
    )
    .sort((a, b) => b[1] - a[1]);
  if (candidates.length === 0) throw new Error('no route is busy and slow enough to slow');
  const slowKey = candidates[0]![0];
  const routes = [...pool.perMinute]
    .sort((a, b) => b[1] - a[1])
    .map(([k, r]) => `${k} ${Math.round(r)}/min p95 ${p95(pool.all.get(k)!).toFixed(1)} ms`);
  const out = [
    `### ${label}`,
    '',
    `recorded: ${pool.requests} requests in ${pool.seconds.toFixed(0)} s (${pool.chunks.length} chunks of 5 s); per route: ${routes.join('; ')}`,
    `slowed route: ${slowKey}; its p95 varies by ${(minuteSpread(pool, slowKey) * 100).toFixed(0)} % (coefficient of variation) between minute-long stretches of the recording`,
    `settings: p95 +${(settings.maxP95! * 100).toFixed(0)} %, error rate +${(settings.maxErrorRate! * 100).toFixed(1)} pp, ${settings.minRequests} requests, floor ${settings.minDeltaMs} ms, alpha ${settings.alpha}`,
    '',
    '| windows (baseline / current) | slowdown of the route | comparisons | the route flagged | any regression (exit 1) | inconclusive (exit 3) |',
    '|---|---|---|---|---|---|',
  ];
  for (const [baseMin, curMin] of lengths) {
    for (const change of SLOWDOWNS) {
      const row: Row = { change, trials: TRIALS, slowedFlagged: 0, anyRegression: 0, inconclusive: 0 };
      for (let t = 0; t < TRIALS; t++) {
        const random = new Random(1_000_003 * (t + 1) + Math.round(change * 1000) + dbMs * 7 + curMin);
        const base = await window(pool, random, T0, baseMin, null);
        const slow = change > 0 ? { key: slowKey, factor: 1 + change } : null;
        const cur = await window(pool, random, T0 + 24 * 60 * 60_000, curMin, slow);
        const r = compareWindows(base, cur, settings);
        if (process.env.GATE_DEBUG) {
          const u = r.units.find((x) => x.key === slowKey);
          process.stderr.write(
            `${curMin} ${change} ${u?.verdict}: ${u?.checks.map((c) => c.reason).join(' | ') ?? u?.missing}; ${r.missing.join('; ')}\n`,
          );
        }
        if (r.verdict === 'regression') row.anyRegression++;
        if (r.verdict === 'inconclusive') row.inconclusive++;
        if (r.units.some((u) => u.key === slowKey && u.verdict === 'regression')) row.slowedFlagged++;
      }
      out.push(
        `| ${baseMin} / ${curMin} min | ${row.change === 0 ? 'none' : `+${row.change * 100} %`} | ${row.trials} | ${row.change === 0 ? '—' : row.slowedFlagged} | ${row.anyRegression}${row.change === 0 ? ' (false alarms)' : ''} | ${row.inconclusive} |`,
      );
    }
  }
  process.stdout.write(`${out.join('\n')}\n\n`);
}

const t0 = performance.now();
process.stdout.write(
  `bench/deploy-gate.ts: ${TRIALS} comparisons per row; load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} (up ${Math.round(osUptime() / 60)} min)\n\n`,
);
await run('shop with every statement 5 ms away, default settings', 5, DEFAULT_SETTINGS, LENGTHS);
await run(
  'shop as it is (SQLite in process), floor off (--min-delta 0ms)',
  0,
  { ...DEFAULT_SETTINGS, minDeltaMs: 0 },
  LENGTHS,
);
process.stdout.write(
  `done in ${((performance.now() - t0) / 1000).toFixed(0)} s; load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}\n`,
);
