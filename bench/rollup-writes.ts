/**
 * What storing a hub's settled minutes costs on SQLite, by the rollups' key: series first (the key
 * of stores made before migration 0006) against time first (0006 on), side by side, each with
 * `--stored` minutes already in the table. A minute is 20,000 rows (100 instances x 200 routes, a
 * 120-byte sketch each), upserted through the store's own `rollups.upsert` in the order a hub writes
 * them; the figure is the process's CPU time (user + system: the WAL's writes are system time) per
 * minute stored, over `--minutes` minutes, after a WAL checkpoint. Then the time migration 0006 takes
 * to re-key the largest store it re-keys (`REKEY_MAX_ROWS`).
 *
 *   node --import tsx bench/rollup-writes.ts                     5 and 120 minutes stored
 *   node --import tsx bench/rollup-writes.ts --stored 60 --minutes 10
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { RollupRow } from '../src/domain/rollup.js';
import { openRawSqlite, openSqlite } from '../src/store/dialects.js';
import { openStore } from '../src/store/index.js';
import { migrate } from '../src/store/migrate.js';
import { MIGRATIONS, REKEY_MAX_ROWS } from '../src/store/migrations.js';
import { tempDir } from '../test/support/services.js';
import { table } from './support.js';

const { values: args } = parseArgs({
  options: {
    stored: { type: 'string', multiple: true },
    minutes: { type: 'string', default: '5' },
  },
});
const STORED = (args.stored ?? ['5', '120']).map(Number);
const MINUTES = Number(args.minutes);
const T0 = Date.UTC(2026, 10, 1, 0, 0, 0);
const SKETCH = Buffer.alloc(120, 7);
const SERIES = Array.from({ length: 100 * 200 }, (_, k) => ({
  labels: `{"method":"GET","route":"/api/route-${k % 200}","status_class":"2xx"}`,
  instance: `app-${Math.floor(k / 200)}`,
}));

const minute = (bucket: number): RollupRow[] =>
  SERIES.map((s) => ({
    metric: 'http_request',
    labels: s.labels,
    instance: s.instance,
    resolution: 60_000,
    bucket,
    count: 10,
    sum: 123.4,
    min: 1,
    max: 99,
    errors: 0,
    sketch: SKETCH,
  }));

/** CPU ms per minute stored, with `stored` minutes in the table first. */
async function run(key: 'series first' | 'time first', stored: number): Promise<number> {
  const dir = tempDir();
  try {
    const path = join(dir.path, 'prodmon.db');
    const { db } = openSqlite(path);
    const migrations = key === 'series first' ? MIGRATIONS.filter((m) => m.id < '0006') : MIGRATIONS;
    await migrate(db, 'sqlite', { now: T0, migrations });
    await db.destroy();
    const store = await openStore({ driver: 'sqlite', path });
    try {
      for (let m = 0; m < stored; m++) await store.rollups.upsert(minute(T0 + m * 60_000));
      const raw = openRawSqlite(path);
      raw.pragma('wal_checkpoint(TRUNCATE)');
      raw.close();
      const batches = Array.from({ length: MINUTES }, (_, m) => minute(T0 + (stored + m) * 60_000));
      const cpu0 = process.cpuUsage();
      for (const rows of batches) await store.rollups.upsert(rows);
      const u = process.cpuUsage(cpu0);
      return (u.user + u.system) / 1000 / MINUTES;
    } finally {
      await store.close();
    }
  } finally {
    dir.cleanup();
  }
}

/** Wall time of migration 0006 re-keying a series-first store of `minutes` minutes (at most REKEY_MAX_ROWS). */
async function rekey(minutes: number): Promise<number> {
  const dir = tempDir();
  try {
    const path = join(dir.path, 'prodmon.db');
    const { db } = openSqlite(path);
    await migrate(db, 'sqlite', { now: T0, migrations: MIGRATIONS.filter((m) => m.id < '0006') });
    const store = await openStore({ driver: 'sqlite', path });
    for (let m = 0; m < minutes; m++) await store.rollups.upsert(minute(T0 + m * 60_000));
    await store.close();
    const t0 = performance.now();
    const applied = await migrate(db, 'sqlite', { now: T0 });
    const ms = performance.now() - t0;
    await db.destroy();
    if (!applied.includes('0006_rollups_time_first')) throw new Error('0006 was not applied');
    return ms;
  } finally {
    dir.cleanup();
  }
}

const out: string[][] = [];
for (const stored of STORED) {
  // Alternated, twice each: the machine's noise lands on both keys.
  const series: number[] = [];
  const time: number[] = [];
  for (let round = 0; round < 2; round++) {
    series.push(await run('series first', stored));
    time.push(await run('time first', stored));
  }
  const fmt = (xs: number[]) => `${Math.round(Math.min(...xs))}-${Math.round(Math.max(...xs))} ms`;
  out.push([
    `${stored} minutes (${(stored * SERIES.length).toLocaleString('en')} rows)`,
    fmt(series),
    fmt(time),
  ]);
}
process.stdout.write(
  `CPU per minute of 20,000 rows stored (SQLite, ${MINUTES} minutes measured, two rounds alternated: min-max)\n`,
);
table(['already stored', 'series first (before 0006)', 'time first (0006)'], out);
const limitMinutes = Math.floor(REKEY_MAX_ROWS / SERIES.length);
const ms = await rekey(limitMinutes);
process.stdout.write(
  `\nmigration 0006 re-keying ${(limitMinutes * SERIES.length).toLocaleString('en')} rows (the most it re-keys: ${REKEY_MAX_ROWS.toLocaleString('en')}): ${(ms / 1000).toFixed(1)} s\n`,
);
