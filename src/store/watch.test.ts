/** The store's watch against real faults: a deleted, replaced or corrupted SQLite file, a dropped PostgreSQL connection. */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { pgSchema, tempDir, uniqueName } from '../../test/support/services.js';
import { corruptMiddle, seedHistory } from '../../test/support/store-faults.js';
import { waitFor } from '../../test/support/wait.js';
import { FakeClock } from '../core/clock.js';
import { newId } from '../core/ids.js';
import type { StoredAlert } from '../domain/alert.js';
import { openStore, type Store } from './index.js';
import type { StoreFault } from './watch.js';

const T0 = Date.UTC(2026, 2, 1, 12, 0, 0);
const MINUTE = 60_000;
const dirs: { cleanup: () => void }[] = [];
after(() => {
  for (const d of dirs) d.cleanup();
});

function alert(n: number): StoredAlert {
  return {
    id: newId(T0, 'al_'),
    rule: 'api_response_time',
    fingerprint: `api_response_time|route="/r${n}"`,
    type: 'performance',
    severity: 'high',
    status: 'resolved',
    message: `alert ${n}`,
    value: 900,
    threshold: 500,
    labels: { route: `/r${n}` },
    metadata: {},
    createdAt: T0 + n,
    updatedAt: T0 + n,
    firingAt: T0 + n,
    resolvedAt: T0 + n + 1,
    resolution: { kind: 'auto', by: 'prodmon', at: T0 + n + 1, reason: 'cleared' },
    state: {},
  };
}

async function sqliteStore(
  repair = true,
): Promise<{ store: Store; path: string; dir: string; faults: StoreFault[]; clock: FakeClock }> {
  const d = tempDir();
  dirs.push(d);
  const path = join(d.path, 'prodmon.db');
  const store = await openStore({ driver: 'sqlite', path });
  await store.migrate(T0);
  const clock = new FakeClock(T0);
  store.watch.configure({ clock, repair });
  const faults: StoreFault[] = [];
  store.watch.onFault((f) => faults.push(f));
  return { store, path, dir: d.path, faults, clock };
}

/** Rows of a table read by a connection of the test's own. */
function countRows(path: string, table: string): number {
  const db = new BetterSqlite3(path, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('store watch: SQLite', () => {
  test('healthy: a write-then-read round trip on its own row, not select 1', async () => {
    const { store, path } = await sqliteStore();
    try {
      const r = await store.watch.probe();
      assert.equal(r.status, 'healthy');
      assert.equal(r.failing, false);
      assert.equal(r.detail.driver, 'sqlite');
      assert.equal(typeof r.detail.latencyMs, 'number');
      assert.ok(await store.state.get('store_probe'), 'the round trip row is written');
      // A table that refuses writes: `select 1` still answers, the round trip does not.
      const side = new BetterSqlite3(path);
      side.exec(
        `create trigger no_state before update on state begin select raise(abort, 'state is read-only'); end`,
      );
      side.close();
      await store.ping();
      const broken = await store.watch.probe();
      assert.equal(broken.status, 'unhealthy');
      assert.equal(broken.failing, true);
      assert.match(broken.error ?? '', /round trip failed: state is read-only/);
    } finally {
      await store.close();
    }
  });

  test('the file deleted while open: unhealthy at once, restored from the open database, nothing lost', async () => {
    const { store, path } = await sqliteStore();
    try {
      await store.alerts.insert(alert(1));
      await seedHistory(store, 500, T0);
      for (const f of ['', '-wal', '-shm']) rmSync(path + f, { force: true });
      // What the finding saw: the deleted file still takes writes, and select 1 answers.
      await store.alerts.insert(alert(2));
      await store.ping();
      const r = await store.watch.probe();
      assert.equal(r.status, 'unhealthy');
      assert.equal(r.failing, true);
      assert.match(r.error ?? '', /prodmon\.db was deleted while prodmon had it open; restoring it/);
      await store.watch.idle();
      assert.ok(existsSync(path), 'the file is back at its path');
      const after = await store.watch.probe();
      assert.equal(after.status, 'healthy', after.error ?? '');
      assert.match(
        String((after.detail.lastRepair as { summary: string }).summary),
        /restored .* nothing was lost/,
      );
      // Writes after the restore land in the file at the path.
      await store.alerts.insert(alert(3));
      assert.equal(countRows(path, 'alerts'), 3);
      assert.equal(countRows(path, 'rollups'), 500);
    } finally {
      await store.close();
    }
    assert.equal(countRows(path, 'alerts'), 3, 'still there after closing');
  });

  test('a repair the blocker refuses (other processes use the file) waits, and runs once it is allowed', async () => {
    const { store, path } = await sqliteStore();
    try {
      let blocker: string | null =
        'other prodmon processes use this file (b, pid 2): stop them all, then start one';
      store.watch.configure({ repairBlocker: async () => blocker });
      await store.alerts.insert(alert(1));
      rmSync(path);
      for (let i = 0; i < 2; i++) {
        const r = await store.watch.probe();
        assert.equal(r.status, 'unhealthy');
        assert.match(
          r.error ?? '',
          /was deleted while prodmon had it open; not restored: other prodmon processes use this file/,
        );
        await store.watch.idle();
        assert.equal(existsSync(path), false);
      }
      blocker = null;
      assert.match((await store.watch.probe()).error ?? '', /restoring it from the open database/);
      await store.watch.idle();
      assert.equal((await store.watch.probe()).status, 'healthy');
      assert.equal(countRows(path, 'alerts'), 1);
    } finally {
      await store.close();
    }
  });

  test('the file replaced while open: the stranger is moved aside, the open database restored', async () => {
    const { store, path, dir } = await sqliteStore();
    try {
      await store.alerts.insert(alert(1));
      const other = join(dir, 'other.db');
      new BetterSqlite3(other).close();
      renameSync(other, path);
      const r = await store.watch.probe();
      assert.equal(r.status, 'unhealthy');
      assert.match(r.error ?? '', /was replaced by another file/);
      await store.watch.idle();
      assert.equal((await store.watch.probe()).status, 'healthy');
      const aside = readdirSync(dir).filter((f) => f.startsWith('prodmon.db.replaced-'));
      assert.equal(aside.length, 1, `the stranger is kept: ${readdirSync(dir).join(', ')}`);
      assert.equal(countRows(path, 'alerts'), 1);
    } finally {
      await store.close();
    }
  });

  test('corrupt pages: the failing statement is reported at once, the file salvaged and quarantined', async () => {
    const { store, path, dir, faults } = await sqliteStore();
    try {
      for (let i = 0; i < 5; i++) await store.alerts.insert(alert(i));
      await seedHistory(store, 8000, T0);
      const hit = corruptMiddle(path);
      assert.ok(hit.pages > 500, `a file with a middle (${hit.pages} pages)`);
      await assert.rejects(
        store.rollups.query({ resolution: MINUTE, since: 0, until: T0 + 10_000 * MINUTE }),
        /malformed/,
      );
      assert.equal(faults.length, 1, 'told before the error reached the caller');
      assert.equal(faults[0]!.kind, 'corrupt');
      const during = await store.watch.probe();
      assert.equal(during.status, 'unhealthy');
      assert.equal(during.failing, true);
      await store.watch.idle();
      const r = await store.watch.probe();
      assert.equal(r.status, 'healthy', r.error ?? '');
      const repair = r.detail.lastRepair as {
        kind: string;
        summary: string;
        movedTo: string;
        tables: { table: string; rows: number; regions: number }[];
      };
      assert.equal(repair.kind, 'salvaged');
      assert.match(repair.summary, /rollups: \d+ unreadable region/);
      assert.ok(existsSync(repair.movedTo), 'the corrupt file is kept');
      assert.ok(readdirSync(dir).some((f) => /^prodmon\.db\.corrupt-/.test(f)));
      const rollups = repair.tables.find((t) => t.table === 'rollups')!;
      assert.ok(rollups.rows > 2000 && rollups.rows < 8000, `most history salvaged: ${rollups.rows}`);
      // The alerts (pages before the damage) are all there, the fresh file is sound, and it takes writes.
      assert.equal((await store.alerts.list({ limit: 100 })).total, 5);
      const back = await store.rollups.query({ resolution: MINUTE, since: 0, until: T0 + 10_000 * MINUTE });
      assert.equal(back.length, rollups.rows);
      await store.alerts.insert(alert(9));
      const side = new BetterSqlite3(path, { readonly: true });
      assert.deepEqual(side.pragma('quick_check'), [{ quick_check: 'ok' }]);
      side.close();
    } finally {
      await store.close();
    }
    assert.equal(countRows(path, 'alerts'), 6);
  });

  test('the integrity check runs on its schedule: one interval after the first probe, then every interval', async () => {
    const { store, clock } = await sqliteStore();
    try {
      store.watch.configure({ integrityIntervalMs: 3_600_000 });
      assert.equal((await store.watch.probe()).detail.integrity, undefined);
      await store.watch.idle();
      await clock.advance(3_599_000);
      await store.watch.probe();
      await store.watch.idle();
      assert.equal((await store.watch.probe()).detail.integrity, undefined, 'not yet');
      await clock.advance(1000);
      await store.watch.probe();
      await store.watch.idle();
      const r = await store.watch.probe();
      const integrity = r.detail.integrity as { ok: boolean; at: string; durationMs: number };
      assert.equal(integrity.ok, true);
      assert.equal(integrity.at, new Date(T0 + 3_600_000).toISOString());
      assert.equal(typeof integrity.durationMs, 'number');
    } finally {
      await store.close();
    }
  });

  test('a process that does not own the store (a CLI command) reports corruption and leaves the file alone', async () => {
    const { store, path, dir, faults } = await sqliteStore(false);
    try {
      await seedHistory(store, 8000, T0);
      corruptMiddle(path);
      const before = readdirSync(dir).sort();
      await assert.rejects(
        store.rollups.query({ resolution: MINUTE, since: 0, until: T0 + 10_000 * MINUTE }),
        /malformed/,
      );
      assert.equal(faults[0]?.kind, 'corrupt');
      const r = await store.watch.probe();
      assert.equal(r.status, 'unhealthy');
      assert.match(r.error ?? '', /the database file is corrupt/);
      await store.watch.idle();
      assert.deepEqual(readdirSync(dir).sort(), before, 'no file moved, none created');
    } finally {
      await store.close();
    }
  });

  test('the scheduled integrity check finds corruption no statement touched', async () => {
    const { store, path, faults } = await sqliteStore();
    try {
      await seedHistory(store, 8000, T0);
      corruptMiddle(path);
      assert.equal((await store.watch.probe()).status, 'healthy', 'the round trip alone does not see it');
      const watch = store.watch as import('./watch.js').SqliteWatch;
      await watch.checkIntegrity();
      assert.equal(faults.at(-1)?.kind, 'corrupt');
      assert.match(faults.at(-1)!.detail, /integrity check found the database file corrupt/);
      await store.watch.idle();
      const r = await store.watch.probe();
      assert.equal(r.status, 'healthy', r.error ?? '');
      assert.equal((r.detail.lastRepair as { kind: string }).kind, 'salvaged');
      await watch.checkIntegrity();
      const again = await store.watch.probe();
      assert.equal((again.detail.integrity as { ok: boolean }).ok, true, 'the salvaged file passes');
    } finally {
      await store.close();
    }
  });
});

describe('store watch: PostgreSQL', () => {
  test('a terminated connection is degraded at once, healthy again once a round trip reconnects', async () => {
    const s = pgSchema();
    const app = uniqueName('pm_watch');
    const store = await openStore({
      driver: 'postgres',
      url: `${s.url}?application_name=${app}`,
      schema: s.schema,
      poolSize: 4,
    });
    const admin = new pg.Client({ connectionString: s.url });
    await admin.connect();
    try {
      await store.migrate(T0);
      const faults: StoreFault[] = [];
      store.watch.onFault((f) => faults.push(f));
      assert.equal((await store.watch.probe()).status, 'healthy');
      const killed = await admin.query(
        'select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1',
        [app],
      );
      assert.ok(killed.rowCount && killed.rowCount > 0, 'prodmon had connections');
      await waitFor(() => faults.length > 0, { what: 'a fault from the watch' });
      assert.equal(faults[0]?.kind, 'dropped');
      const r = await store.watch.probe();
      assert.equal(r.status, 'degraded');
      assert.equal(r.failing, false);
      assert.match(
        r.error ?? '',
        /connection\(s\) dropped .*terminating connection due to administrator command.*the pool reconnected/,
      );
      const again = await store.watch.probe();
      assert.equal(again.status, 'healthy', again.error ?? '');
    } finally {
      await admin.end();
      await store.close();
      await s.drop();
    }
  });

  test('a round trip that fails (its table dropped) is unhealthy and failing', async () => {
    const s = pgSchema();
    const store = await openStore({ driver: 'postgres', url: s.url, schema: s.schema, poolSize: 2 });
    try {
      await store.migrate(T0);
      await s.drop(); // the schema (and the round trip's table) is gone
      const r = await store.watch.probe();
      assert.equal(r.status, 'unhealthy');
      assert.equal(r.failing, true);
      assert.match(r.error ?? '', /round trip failed/);
    } finally {
      await store.close();
    }
  });
});
