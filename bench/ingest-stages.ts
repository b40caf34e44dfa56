/**
 * Where a hub's CPU goes per pushed row, stage by stage, in one process: 100 instances x 200 routes
 * re-sending their open minute every 10 s for 3 minutes (as `prodmon/agent` does), each push a JSON
 * body of 200 rows with base64 DDSketches. For each body: decoding and validating it (the push body
 * parser, the batch header and `parseRows`: JSON, zod, base64, the sketch's count), then writing the
 * rows to a fresh SQLite store in the admission's batches of 64 (`RollupRepo.upsert`). Printed: CPU
 * microseconds per row of each stage (`process.cpuUsage`, user + system) and the body's bytes per row.
 *
 *   node --import tsx bench/ingest-stages.ts [--per <n>]   requests per route per push (default 10)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Slicer } from '../src/core/slice.js';
import { parsePushBody } from '../src/metrics/push-body.js';
import { encodeSketch, newSketch, type Sketch, sketchAdd } from '../src/metrics/sketch.js';
import { batchHeader, parseRows } from '../src/metrics/wire.js';
import { openStore } from '../src/store/index.js';
import { latency } from './latency-mix.js';

const { values: args } = parseArgs({ options: { per: { type: 'string', default: '10' } } });
const PER = Number(args.per);
const INSTANCES = 100;
const ROUTES = 200;
const MINUTE = 60_000;
const WRITE_CHUNK = 64;

const cpuMs = (from: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(from);
  return (u.user + u.system) / 1000;
};

const dir = mkdtempSync(join(tmpdir(), 'prodmon-ingest-'));
const store = await openStore({ driver: 'sqlite', path: join(dir, 'prodmon.db') });
await store.migrate(Date.now());
const t0 = Math.floor(Date.now() / MINUTE) * MINUTE - 3 * MINUTE;
const sketches = new Map<string, Sketch>();
let rows = 0;
let bytes = 0;
let decodeMs = 0;
let writeMs = 0;
try {
  for (let m = 0; m < 3; m++) {
    for (let push = 0; push < 6; push++) {
      for (let inst = 0; inst < INSTANCES; inst++) {
        const wire = [];
        for (let r = 0; r < ROUTES; r++) {
          const k = `${inst}/${r}/${m}`;
          let s = sketches.get(k);
          if (!s) {
            s = newSketch();
            sketches.set(k, s);
          }
          for (let j = 0; j < PER; j++) sketchAdd(s, latency(20 + r));
          wire.push({
            metric: 'http_request_duration_ms',
            labels: { method: 'GET', route: `/api/v1/items/${r}`, status_class: '2xx' },
            resolution: MINUTE,
            bucket: t0 + m * MINUTE,
            count: s.count,
            sum: s.count * 30,
            min: 1,
            max: 900,
            errors: 0,
            sketch: encodeSketch(s).toString('base64'),
          });
        }
        const body = Buffer.from(JSON.stringify({ instance: `app-${inst}`, rows: wire }));
        bytes += body.length;
        let at = process.cpuUsage();
        const parsed = await parsePushBody(body);
        const decoded = await parseRows(batchHeader(parsed), t0 + m * MINUTE + 30_000, new Slicer());
        decodeMs += cpuMs(at);
        at = process.cpuUsage();
        for (let i = 0; i < decoded.length; i += WRITE_CHUNK)
          await store.rollups.upsert(decoded.slice(i, i + WRITE_CHUNK));
        writeMs += cpuMs(at);
        rows += decoded.length;
      }
    }
  }
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
const us = (ms: number) => ((1000 * ms) / rows).toFixed(1);
process.stdout.write(
  `${rows} rows (${INSTANCES} instances x ${ROUTES} routes, 6 pushes a minute, 3 minutes, ${PER} requests per route per push), ` +
    `${(bytes / rows).toFixed(0)} body bytes per row\n` +
    `CPU per row: decode and validate ${us(decodeMs)} µs, SQLite upsert ${us(writeMs)} µs, together ${us(decodeMs + writeMs)} µs\n`,
);
