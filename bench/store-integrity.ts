/**
 * What watching a large SQLite store costs: `PRAGMA quick_check` as the `self` check runs it (on a
 * worker thread, its own read-only connection), and with BENCH_REPAIR=1 the two repairs while the
 * event loop keeps running: restoring a deleted file from the open database, salvaging a file with
 * random pages over its middle fifth. The file is prodmon's schema filled with per-minute rollups
 * (160-byte sketches, 200 series) up to BENCH_MB. The salvage's figures include the quick_check that
 * finds the damage.
 *
 *   node --import tsx bench/store-integrity.ts        # BENCH_MB=1024 BENCH_ROUNDS=3 BENCH_REPAIR=0
 */
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import BetterSqlite3 from 'better-sqlite3';
import { openStore } from '../src/store/index.js';
import { quickCheck } from '../src/store/integrity.js';
import type { SqliteWatch } from '../src/store/watch.js';
import { tempDir } from '../test/support/services.js';
import { corruptMiddle } from '../test/support/store-faults.js';

const MB = Number(process.env.BENCH_MB ?? 1024);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const REPAIR = process.env.BENCH_REPAIR === '1';
const MINUTE = 60_000;

const dir = tempDir('prodmon-bench-integrity-');
const path = join(dir.path, 'prodmon.db');
const size = () => statSync(path).size / 1024 / 1024;

async function build(): Promise<number> {
  const store = await openStore({ driver: 'sqlite', path });
  await store.migrate(Date.now());
  await store.close();
  const db = new BetterSqlite3(path);
  db.pragma('journal_mode = WAL');
  const insert = db.prepare(
    `insert into rollups (metric, labels, instance, resolution, bucket, count, sum, min, max, errors, sketch)
     values ('http_request', ?, 'bench', ${MINUTE}, ?, 10, 123.4, 1, 99, 0, ?)`,
  );
  const sketch = Buffer.alloc(160, 7);
  const start = Date.UTC(2026, 0, 1);
  let rows = 0;
  for (;;) {
    db.transaction(() => {
      for (let k = 0; k < 50_000; k++, rows++)
        insert.run(
          `{"method":"GET","route":"/api/r${rows % 200}"}`,
          start + Math.floor(rows / 200) * MINUTE,
          sketch,
        );
    })();
    if (rows % 100_000 === 0) {
      db.pragma('wal_checkpoint(TRUNCATE)');
      if (size() >= MB) break;
    }
  }
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return rows;
}

/** Runs `fn` and reports its wall time, the process's CPU time and the event loop's worst delay. */
async function measure(fn: () => Promise<unknown>) {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  h.disable();
  return {
    wallMs: Math.round(wall),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    loopMaxMs: Math.round(h.max / 1e6),
  };
}

try {
  const t0 = performance.now();
  const rows = await build();
  console.log(
    `file: ${size().toFixed(0)} MB, ${rows} rollup rows (built in ${((performance.now() - t0) / 1000).toFixed(0)} s)`,
  );
  // What the event loop's delay is with nothing running here (the machine's own noise).
  const idle = await measure(() => new Promise((r) => setTimeout(r, 5000)));
  console.log(`idle 5 s: event loop max delay ${idle.loopMaxMs} ms`);
  for (let i = 1; i <= ROUNDS; i++) {
    let ok = false;
    const m = await measure(async () => {
      ok = (await quickCheck(path)).ok;
    });
    console.log(
      `quick_check round ${i}: ${m.wallMs} ms wall, ${m.cpuMs} ms CPU, event loop max delay ${m.loopMaxMs} ms, ok=${ok}`,
    );
  }
  if (REPAIR) {
    const store = await openStore({ driver: 'sqlite', path });
    store.watch.configure({ repair: true });
    await store.watch.probe();
    rmSync(path);
    const restore = await measure(async () => {
      await store.watch.probe();
      await store.watch.idle();
    });
    const restored = (await store.watch.probe()).detail.lastRepair as { summary: string };
    console.log(
      `restore after delete: ${restore.wallMs} ms wall, ${restore.cpuMs} ms CPU, event loop max delay ${restore.loopMaxMs} ms (${restored.summary})`,
    );
    await store.close();
    corruptMiddle(path);
    const again = await openStore({ driver: 'sqlite', path });
    again.watch.configure({ repair: true });
    // Found by the scheduled check (a worker thread), as no statement has touched the damage yet.
    const salvage = await measure(async () => {
      await (again.watch as SqliteWatch).checkIntegrity();
      await again.watch.idle();
    });
    const salvaged = (await again.watch.probe()).detail.lastRepair as { summary: string };
    console.log(
      `salvage after corruption: ${salvage.wallMs} ms wall, ${salvage.cpuMs} ms CPU, event loop max delay ${salvage.loopMaxMs} ms (${salvaged?.summary})`,
    );
    await again.close();
  }
} finally {
  dir.cleanup();
}
