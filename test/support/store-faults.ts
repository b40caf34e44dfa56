/** Faults of prodmon's own store for tests: history big enough to have a middle, random pages over it. */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import type { RollupRow } from '../../src/domain/rollup.js';
import type { Store } from '../../src/store/index.js';

const MINUTE = 60_000;

/** `count` per-minute rollups of one metric over 50 routes, each with a 160-byte sketch, from `from`. */
export async function seedHistory(
  store: Store,
  count: number,
  from: number,
  instance = 'seed',
): Promise<void> {
  const rows: RollupRow[] = [];
  for (let i = 0; i < count; i++) {
    rows.push({
      metric: 'http_request',
      labels: JSON.stringify({ method: 'GET', route: `/api/r${i % 50}` }),
      instance,
      resolution: MINUTE,
      bucket: from + Math.floor(i / 50) * MINUTE,
      count: 10,
      sum: 123.5,
      min: 1,
      max: 99,
      errors: 0,
      sketch: Buffer.alloc(160, i % 251),
    });
  }
  await store.rollups.upsert(rows);
}

/**
 * Writes random bytes over the middle fifth of an SQLite file, as
 * `dd if=/dev/urandom of=<file> bs=4096 seek=<40 %> count=<20 %> conv=notrunc` does, after a checkpoint
 * from a connection of its own (so the pages are in the file, not only in its WAL). Returns the pages hit.
 */
export function corruptMiddle(path: string): { seek: number; count: number; pages: number } {
  const side = new BetterSqlite3(path);
  try {
    side.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    side.close();
  }
  const pages = Math.floor(statSync(path).size / 4096);
  const seek = Math.floor(pages * 0.4);
  const count = Math.max(1, Math.floor(pages * 0.2));
  execFileSync(
    'dd',
    ['if=/dev/urandom', `of=${path}`, 'bs=4096', `seek=${seek}`, `count=${count}`, 'conv=notrunc'],
    {
      stdio: 'ignore',
    },
  );
  return { seek, count, pages };
}
