/**
 * Where a hub's CPU goes per pushed row, stage by stage, in one process: 100 instances x 200 routes
 * re-sending their open minute every 10 s for 3 minutes (as `prodmon/agent` does), each push a body
 * of 200 rows with DDSketches, on a clock of its own (the minutes settle as they would), after five
 * minutes of the fleet's rows already in the store. Rounds alternate between the two bodies a hub
 * takes (`--body both`, the default): JSON (base64 sketches) and binary (`application/vnd.prodmon.rows`,
 * what the agent sends), with the same rows.
 * For each body: decoding and validating it (JSON: the push body parser, the batch header and
 * `parseRows`: JSON, the row check, base64, the sketch's count; binary: `readPushRows` of a copy of the
 * body, as the route makes, and its rows); journaling and holding its rows
 * (`OpenMinutes.put`: one journal record, the binary body as it came; the rows of open minutes kept
 * in memory); taking them into the
 * kept alert windows (`MetricsEngine.written`). Every 10 s of the fleet's time: writing the minutes
 * that settled (`OpenMinutes.settle`: each series-minute once, to a fresh SQLite store), and
 * `--evaluations` evaluations of the windows the built-in rules on request latency read
 * (`api_response_time`: p95 by route over 5 minutes; `error_rate`: the rate over 5 minutes), as the
 * pushes trigger them at a hub (the minutes' reads and merges included). Printed: CPU microseconds
 * per pushed row of each stage, CPU milliseconds per evaluation, and what both come to per minute of
 * the fleet's time (`process.cpuUsage`, user + system), each as the range over `--rounds` rounds (each
 * with a fresh store and journal), and the body's bytes per row.
 *
 *   node --import tsx bench/ingest-stages.ts [--body both|json|binary] [--per <n>] [--rounds <n>] [--evaluations <n>] [--write-through]
 *     --body <kind>      which bodies (default both: rounds alternate)
 *     --per <n>          requests per route per push (default 10)
 *     --rounds <n>       rounds of each body (default 3)
 *     --evaluations <n>  evaluations per 10 s of the fleet's time (default 40: a hub's pace while
 *                        pushes come, one every PUSH_NOTIFY_MIN_MS)
 *     --write-through    also time writing every pushed row to SQLite as it comes (what a hub did
 *                        before holding open minutes; what it still does on PostgreSQL)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseConfig } from '../src/config/load.js';
import { FakeClock } from '../src/core/clock.js';
import { Slicer } from '../src/core/slice.js';
import type { RollupRow } from '../src/domain/rollup.js';
import { MetricsEngine } from '../src/metrics/engine.js';
import { METRIC } from '../src/metrics/names.js';
import { OpenMinutes, OpenMinutesRollups } from '../src/metrics/open-minutes.js';
import { toWire } from '../src/metrics/push.js';
import { parsePushBody } from '../src/metrics/push-body.js';
import { encodePushRows } from '../src/metrics/push-rows.js';
import { readPushRows } from '../src/metrics/push-rows-read.js';
import { encodeSketch, newSketch, type Sketch, sketchAdd } from '../src/metrics/sketch.js';
import { batchHeader, parseRows } from '../src/metrics/wire.js';
import { openStore } from '../src/store/index.js';
import { Journal } from '../src/store/journal.js';
import { latency } from './latency-mix.js';

const { values: args } = parseArgs({
  options: {
    body: { type: 'string', default: 'both' },
    per: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    evaluations: { type: 'string', default: '40' },
    'write-through': { type: 'boolean', default: false },
  },
});
const PER = Number(args.per);
const ROUNDS = Number(args.rounds);
const EVALUATIONS = Number(args.evaluations);
const INSTANCES = 100;
const ROUTES = 200;
const MINUTES = 3;
/** Minutes of history in the store before the measured ones. */
const HISTORY = 5;
const MINUTE = 60_000;
const WRITE_CHUNK = 64;

const cpuMs = (from: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(from);
  return (u.user + u.system) / 1000;
};

interface Round {
  rows: number;
  written: number;
  bytes: number;
  evaluations: number;
  ms: {
    decode: number;
    hold: number;
    windows: number;
    settle: number;
    evaluate: number;
    writeThrough: number;
  };
}

type Body = 'json' | 'binary';

async function round(kind: Body): Promise<Round> {
  const dir = mkdtempSync(join(tmpdir(), 'prodmon-ingest-'));
  const t0 = Date.UTC(2026, 0, 5, 12, 0, 0);
  const clock = new FakeClock(t0);
  const base = await openStore({ driver: 'sqlite', path: join(dir, 'prodmon.db') });
  await base.migrate(t0);
  const open = new OpenMinutes({
    rollups: base.rollups,
    journal: new Journal({ dir: join(dir, 'journal') }),
    clock,
    maxRows: 100_000,
  });
  await open.start();
  const store = { ...base, rollups: new OpenMinutesRollups(base.rollups, open) };
  const config = parseConfig({ instance: 'hub' }, { env: {}, dataDir: dir });
  const engine = new MetricsEngine({ config, clock });
  engine.attachStore(store);
  const through = args['write-through']
    ? await openStore({ driver: 'sqlite', path: join(dir, 'through.db') })
    : null;
  await through?.migrate(t0);

  const r: Round = {
    rows: 0,
    written: 0,
    bytes: 0,
    evaluations: 0,
    ms: { decode: 0, hold: 0, windows: 0, settle: 0, evaluate: 0, writeThrough: 0 },
  };
  const sketches = new Map<string, Sketch>();
  // Five minutes of history before the measured ones (settled, in the store): the rules' 5-minute
  // windows then read what they read at a hub that has been running.
  const history: RollupRow[] = [];
  for (let m = -HISTORY; m < 0; m++) {
    for (let inst = 0; inst < INSTANCES; inst++) {
      for (let k = 0; k < ROUTES; k++) {
        const s = newSketch();
        for (let j = 0; j < 6 * PER; j++) sketchAdd(s, latency(20 + k));
        history.push({
          metric: METRIC.httpRequest,
          labels: `{"method":"GET","route":"/api/v1/items/${k}","status_class":"2xx"}`,
          instance: `app-${inst}`,
          resolution: MINUTE,
          bucket: t0 + m * MINUTE,
          count: s.count,
          sum: s.count * 30,
          min: 1,
          max: 900,
          errors: 0,
          sketch: Buffer.from(encodeSketch(s)),
        });
      }
    }
  }
  for (let i = 0; i < history.length; i += 500) await base.rollups.upsert(history.slice(i, i + 500));
  history.length = 0;
  const evaluate = async () => {
    const until = clock.now();
    for (const [aggregation, groupBy] of [
      ['p95', ['route']],
      ['rate', []],
    ] as const) {
      await engine.windowValues({
        metric: METRIC.httpRequest,
        aggregation,
        labels: {},
        groupBy: [...groupBy],
        since: until - 5 * MINUTE,
        until,
      });
    }
  };
  await evaluate(); // (reading the history's minutes from the store: once, at the hub's start)
  try {
    for (let m = 0; m < MINUTES; m++) {
      for (let push = 0; push < 6; push++) {
        clock.set(t0 + m * MINUTE + push * 10_000 + 5_000);
        // The minutes that settled meanwhile, as the hub's check every few seconds writes them.
        let at = process.cpuUsage();
        const before = open.written;
        await open.settle();
        r.written += open.written - before;
        r.ms.settle += cpuMs(at);
        // The round's bodies first: making them is not the hub's work (nor is its garbage).
        const bodies: Buffer[] = [];
        for (let inst = 0; inst < INSTANCES; inst++) {
          const rows: RollupRow[] = [];
          for (let k = 0; k < ROUTES; k++) {
            const key = `${inst}/${k}/${m}`;
            let s = sketches.get(key);
            if (!s) {
              s = newSketch();
              sketches.set(key, s);
            }
            for (let j = 0; j < PER; j++) sketchAdd(s, latency(20 + k));
            rows.push({
              metric: METRIC.httpRequest,
              labels: `{"method":"GET","route":"/api/v1/items/${k}","status_class":"2xx"}`,
              instance: `app-${inst}`,
              resolution: MINUTE,
              bucket: t0 + m * MINUTE,
              count: s.count,
              sum: s.count * 30,
              min: 1,
              max: 900,
              errors: 0,
              sketch: Buffer.from(encodeSketch(s)),
            });
          }
          bodies.push(
            kind === 'binary'
              ? encodePushRows(`app-${inst}`, rows)
              : Buffer.from(JSON.stringify(toWire(`app-${inst}`, rows))),
          );
        }
        for (const body of bodies) {
          r.bytes += body.length;
          at = process.cpuUsage();
          let rows: RollupRow[];
          let record: Buffer | null = null;
          if (kind === 'binary') {
            const batch = readPushRows(Buffer.from(body));
            rows = await batch.rows(clock.now(), new Slicer());
            record = batch.record;
          } else {
            const parsed = await parsePushBody(body);
            rows = await parseRows(batchHeader(parsed), clock.now(), new Slicer());
          }
          r.ms.decode += cpuMs(at);
          at = process.cpuUsage();
          await open.put(rows, new Slicer(), record);
          r.ms.hold += cpuMs(at);
          at = process.cpuUsage();
          await engine.written(rows);
          r.ms.windows += cpuMs(at);
          if (through) {
            at = process.cpuUsage();
            for (let i = 0; i < rows.length; i += WRITE_CHUNK)
              await through.rollups.upsert(rows.slice(i, i + WRITE_CHUNK));
            r.ms.writeThrough += cpuMs(at);
          }
          r.rows += rows.length;
        }
        at = process.cpuUsage();
        for (let e = 0; e < EVALUATIONS; e++) {
          await evaluate();
          r.evaluations++;
        }
        r.ms.evaluate += cpuMs(at);
      }
    }
    // The last minute settles too: its writes belong to the rows pushed.
    clock.set(t0 + (MINUTES + 1) * MINUTE);
    const at = process.cpuUsage();
    const before = open.written;
    await open.settle();
    r.written += open.written - before;
    r.ms.settle += cpuMs(at);
  } finally {
    await open.close();
    await engine.stop();
    await base.close();
    await through?.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return r;
}

const kinds: Body[] = args.body === 'both' ? ['json', 'binary'] : [args.body as Body];
if (!kinds.every((k) => k === 'json' || k === 'binary'))
  throw new Error(`--body: json, binary or both, not ${args.body}`);
const byKind = new Map<Body, Round[]>(kinds.map((k) => [k, []]));
for (let i = 0; i < ROUNDS; i++) for (const k of kinds) byKind.get(k)!.push(await round(k));

const lines: string[] = [];
for (const [kind, rounds] of byKind) {
  const range = (f: (r: Round) => number, digits = 1) => {
    const xs = rounds.map(f);
    const lo = Math.min(...xs).toFixed(digits);
    const hi = Math.max(...xs).toFixed(digits);
    return lo === hi ? lo : `${lo}-${hi}`;
  };
  const perRow = (k: keyof Round['ms']) => range((r) => (1000 * r.ms[k]) / r.rows);
  const r0 = rounds[0]!;
  lines.push(
    `${kind} body: ${r0.rows} rows a round (${INSTANCES} instances x ${ROUTES} routes, 6 pushes a minute, ${MINUTES} minutes, ${PER} requests per route per push), ${(r0.bytes / r0.rows).toFixed(0)} body bytes per row, ${rounds.length} rounds`,
    `  CPU per pushed row: decode and validate ${perRow('decode')} µs, journal and hold ${perRow('hold')} µs, settled minutes written ${perRow('settle')} µs (${range((r) => (1000 * r.ms.settle) / r.written)} µs per row written, ${r0.written} rows), alert windows ${perRow('windows')} µs; together ${range((r) => (1000 * (r.ms.decode + r.ms.hold + r.ms.settle + r.ms.windows)) / r.rows)} µs`,
    `  CPU per evaluation of api_response_time and error_rate's windows (5 minutes, ${INSTANCES * ROUTES} series): ${range((r) => r.ms.evaluate / r.evaluations, 2)} ms (${EVALUATIONS} per 10 s)`,
    `  CPU per minute of the fleet's time: ${range((r) => (r.ms.decode + r.ms.hold + r.ms.settle + r.ms.windows) / 1000 / MINUTES, 2)} s for the rows, ${range((r) => r.ms.evaluate / 1000 / MINUTES, 2)} s for the evaluations`,
  );
  if (args['write-through'])
    lines.push(
      `  for comparison, writing every pushed row to SQLite as it comes: ${perRow('writeThrough')} µs per row`,
    );
}
process.stdout.write(`${lines.join('\n')}\n`);
