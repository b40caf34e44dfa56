/**
 * The PostgreSQL store after `pg_terminate_backend` of every session of its pool, on the running
 * PostgreSQL (a database of its own, so that terminating "every session of the database" touches nothing
 * else): the first statements after the termination succeed (reads, the rollup upsert, a transaction);
 * a transaction whose session dies inside it fails; a database that takes no new sessions fails the
 * statement with the server's reason instead of retrying without end.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import { PG_URL, pgDatabase } from '../../test/support/services.js';
import { MINUTE_MS } from '../metrics/rollup.js';
import { openPostgres } from './dialects.js';
import { type Store, storeFromKysely } from './index.js';
import { isConnectionLost } from './pg-retry.js';
import { StateRepo } from './repos/state.js';
import type { Database } from './schema.js';

const T0 = Date.UTC(2026, 2, 1, 12, 0, 0);
const POOL = 4;

describe('the PostgreSQL pool after its sessions were terminated', () => {
  let database: Awaited<ReturnType<typeof pgDatabase>>;
  let admin: pg.Client;
  let store: Store;
  let db: Kysely<Database>;
  let pool: pg.Pool;

  before(async () => {
    database = await pgDatabase();
    admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    const opened = openPostgres(database.url, 'prodmon', POOL);
    pool = opened.pool;
    db = opened.db;
    store = storeFromKysely(opened.db, 'postgres', { schema: 'prodmon' });
    await store.migrate(T0);
  });

  after(async () => {
    await store?.close();
    await admin?.end();
    await database?.drop();
  });

  /** Opens every connection of the pool (all idle afterwards), then ends every session of the database. */
  async function terminateAll(before?: () => Promise<unknown>): Promise<number> {
    const clients = await Promise.all(Array.from({ length: POOL }, () => pool.connect()));
    for (const c of clients) c.release();
    assert.equal(pool.idleCount, POOL, 'every connection of the pool is open and idle');
    await before?.();
    const r = await admin.query(
      'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
      [database.name],
    );
    return r.rowCount ?? 0;
  }

  const row = (i: number) => ({
    metric: 'http_request_duration_ms',
    labels: `{"route":"/r${i}"}`,
    instance: 'shop-1',
    resolution: MINUTE_MS,
    bucket: T0,
    count: i + 1,
    sum: 10,
    min: 1,
    max: 9,
    errors: 0,
    sketch: null,
  });

  test('reads, the rollup upsert and a transaction right after the termination all succeed (20 rounds)', async () => {
    for (let round = 0; round < 20; round++) {
      assert.equal(await terminateAll(), POOL, `round ${round}: the pool's sessions were ended`);
      // At once, or a few milliseconds later: the window in which pg still hands out the dead connections.
      if (round % 4 > 0) await new Promise((r) => setTimeout(r, round % 4));
      const results = await Promise.allSettled([
        store.ping(),
        store.rollups.upsert([row(round)]),
        store.leases.get('leader'),
        store.transaction(async (tx) => {
          await tx.state.set(`round-${round}`, round, T0);
          return tx.state.get(`round-${round}`);
        }),
        sql<{ n: number }>`select ${round}::int as n`.execute(db),
      ]);
      const failed = results.flatMap((r, i) =>
        r.status === 'rejected' ? [`#${i}: ${(r.reason as Error).message}`] : [],
      );
      assert.deepEqual(failed, [], `round ${round}: nothing fails`);
    }
    const rows = await store.rollups.query({
      metrics: ['http_request_duration_ms'],
      resolution: MINUTE_MS,
      since: T0,
      until: T0 + MINUTE_MS,
    });
    assert.equal(rows.length, 20, 'each round’s upsert was stored once');
  });

  test('a session ended inside a transaction fails that transaction; the next one succeeds', async () => {
    const attempt = db.transaction().execute(async (trx) => {
      const state = new StateRepo(trx);
      await state.set('inside', 1, T0);
      const own = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
      await admin.query('select pg_terminate_backend($1)', [own.rows[0]!.pid]);
      await state.set('inside', 2, T0);
    });
    await assert.rejects(attempt, (err) => isConnectionLost(err));
    assert.equal(await store.state.get('inside'), undefined, 'nothing of the failed transaction was kept');
    await store.transaction((tx) => tx.state.set('after', 1, T0));
    assert.equal(await store.state.get('after'), 1);
  });

  test('a database that takes no new sessions: the statement fails with the server’s reason, no endless retries', async () => {
    try {
      const refuse = () => admin.query(`alter database "${database.name}" allow_connections false`);
      assert.equal(await terminateAll(refuse), POOL);
      // The old connections are dead, and a new one is refused: the statement fails, promptly.
      await assert.rejects(store.ping(), /is not currently accepting connections/);
    } finally {
      await admin.query(`alter database "${database.name}" allow_connections true`);
    }
    await store.ping();
  });
});
