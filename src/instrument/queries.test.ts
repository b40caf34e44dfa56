import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import mysql from 'mysql2';
import mysqlPromise from 'mysql2/promise';
import pg from 'pg';
import { testEngine } from '../../test/support/metrics.js';
import { MYSQL_URL, PG_URL, tempDir, uniqueName } from '../../test/support/services.js';
import { FakeClock } from '../core/clock.js';
import type { MetricsEngine } from '../metrics/engine.js';
import { METRIC } from '../metrics/names.js';

/** Count and errors per `db/operation` recorded so far. */
function queries(engine: MetricsEngine): Record<string, [count: number, errors: number]> {
  const out: Record<string, [number, number]> = {};
  for (const s of engine.recorder.allSeries(METRIC.dbQuery)) {
    out[`${s.labels.db}/${s.labels.operation}`] = [s.totalCount, s.totalErrors];
  }
  return out;
}

/** No label value carries SQL text or a bound value. */
function assertNoSqlInLabels(engine: MetricsEngine): void {
  for (const s of engine.recorder.allSeries(METRIC.dbQuery)) {
    assert.deepEqual(Object.keys(s.labels).sort(), ['db', 'operation']);
    assert.match(s.labels.operation!, /^(select|insert|update|delete|other)$/);
    assert.doesNotMatch(s.labels.db!, /\s|secret/i);
  }
}

const engines: MetricsEngine[] = [];
function engine(): MetricsEngine {
  const e = testEngine({ clock: new FakeClock() });
  engines.push(e);
  return e;
}
after(() => {
  for (const e of engines) e.recorder.close();
});

describe('pg wrapper against the real PostgreSQL', () => {
  test('a pool times pool.query (promise and callback) and the queries of its checked-out clients', async () => {
    const e = engine();
    const pool = e.instrumentPg(new pg.Pool({ connectionString: PG_URL, max: 2 }));
    const table = uniqueName('pm_q');
    try {
      await pool.query('SELECT $1::text AS secret', ['hunter2']);
      await new Promise<void>((resolve, reject) =>
        pool.query('select 1', (err) => (err ? reject(err) : resolve())),
      );
      const client = await pool.connect();
      try {
        await client.query(`create table ${table} (id int primary key, v text)`);
        await client.query(`insert into ${table} values ($1, $2)`, [1, 'a']);
        await client.query({ text: `update ${table} set v = $1 where id = $2`, values: ['b', 1] });
        await client.query(`with x as (select 1) delete from ${table} where id in (select * from x)`);
        await assert.rejects(client.query('select * from no_such_table_at_all'));
        await assert.rejects(client.query(`insert into ${table} values (null, 'x')`));
      } finally {
        await client.query(`drop table if exists ${table}`);
        client.release();
      }
    } finally {
      await pool.end();
    }
    assert.deepEqual(queries(e), {
      'test/select': [3, 1],
      'test/insert': [2, 1],
      'test/update': [1, 0],
      'test/delete': [1, 0],
      'test/other': [2, 0],
    });
    assertNoSqlInLabels(e);
  });

  test('a single client is timed, including submitted query objects; instrumenting twice counts once', async () => {
    const e = engine();
    const client = new pg.Client({ connectionString: PG_URL });
    e.instrumentPg(client);
    e.instrumentPg(client);
    await client.connect();
    try {
      await client.query('select now()');
      const q = new pg.Query('select 1');
      await new Promise<void>((resolve, reject) => {
        q.on('end', () => resolve());
        q.on('error', reject);
        client.query(q);
      });
    } finally {
      await client.end();
    }
    assert.deepEqual(queries(e), { 'test/select': [2, 0] });
  });
});

describe('mysql2 wrapper against the real MariaDB', () => {
  test('a callback connection times query and execute, failures counted', async () => {
    const e = engine();
    const conn = e.instrumentMysql(mysql.createConnection(MYSQL_URL));
    const run = (fn: (cb: (err: unknown) => void) => void) =>
      new Promise<unknown>((resolve) => fn((err) => resolve(err)));
    try {
      assert.equal(await run((cb) => conn.query('SELECT ? AS secret', ['hunter2'], cb)), null);
      assert.equal(await run((cb) => conn.execute('select ? + 1 as x', [1], cb)), null);
      assert.ok(await run((cb) => conn.query('select * from no_such_table_here', cb)));
      assert.equal(
        (await run((cb) => conn.query({ sql: 'update no_such_update_target set a = 1 where 1 = 0' }, cb))) !==
          null,
        true,
      );
    } finally {
      await new Promise<void>((r) => conn.end(() => r()));
    }
    assert.deepEqual(queries(e), { 'test/select': [3, 1], 'test/update': [1, 1] });
    assertNoSqlInLabels(e);
  });

  test('a promise pool times queries on new and existing connections', async () => {
    const e = engine();
    const pool = mysqlPromise.createPool({ uri: MYSQL_URL, connectionLimit: 2 });
    const table = uniqueName('pm_q');
    try {
      await pool.query('select 1'); // a connection exists before instrumenting
      e.instrumentMysql(pool);
      await pool.query(`create table ${table} (id int primary key, v text)`);
      await pool.execute(`insert into ${table} values (?, ?)`, [1, 'a']);
      const conn = await pool.getConnection();
      try {
        await conn.query(`delete from ${table} where id = ?`, [1]);
        await assert.rejects(conn.query(`insert into ${table} values (1, 'a'), (1, 'b')`));
      } finally {
        conn.release();
      }
      await Promise.all([pool.query('select 2'), pool.query('select 3'), pool.query('select 4')]);
    } finally {
      await pool.query(`drop table if exists ${table}`).catch(() => {});
      await pool.end();
    }
    const q = queries(e);
    assert.deepEqual(q['test/insert'], [2, 1]);
    assert.deepEqual(q['test/delete'], [1, 0]);
    assert.deepEqual(q['test/select'], [3, 0]);
    assert.ok(q['test/other']![0] >= 1);
  });
});

describe('better-sqlite3 wrapper against a real SQLite file', () => {
  test('prepared statements (run, get, all, iterate) and exec are timed by operation', () => {
    const e = engine();
    const dir = tempDir();
    const db = new Database(join(dir.path, 'shop.db'));
    try {
      e.instrumentSqlite(db);
      db.exec('create table t (id integer primary key, v text)');
      const ins = db.prepare('insert into t (v) values (?)');
      for (const v of ['a', 'b', 'c']) ins.run(v);
      assert.equal((db.prepare('select count(*) as n from t').get() as { n: number }).n, 3);
      assert.equal(db.prepare('select * from t').all().length, 3);
      assert.deepEqual([...db.prepare('select v from t order by id').pluck().iterate()], ['a', 'b', 'c']);
      db.prepare('update t set v = ? where id = ?').run('z', 1);
      db.prepare('delete from t where id = ?').run(2);
      assert.throws(() => ins.run(null, 'extra'));
      assert.throws(() => db.exec('insert into nope values (1)'));
    } finally {
      db.close();
      dir.cleanup();
    }
    assert.deepEqual(queries(e), {
      'shop.db/other': [1, 0],
      'shop.db/insert': [5, 2],
      'shop.db/select': [3, 0],
      'shop.db/update': [1, 0],
      'shop.db/delete': [1, 0],
    });
  });
});

describe('timeQuery', () => {
  test('times sync and async calls, passes results and errors through, and counts failures', async () => {
    const e = engine();
    assert.equal(await e.timeQuery('redis', async () => 'value'), 'value');
    assert.equal(
      e.timeQuery({ db: 'cache', operation: 'select' }, () => 42),
      42,
    );
    await assert.rejects(
      e.timeQuery('redis', async () => {
        throw new Error('timeout');
      }),
      /timeout/,
    );
    assert.throws(() =>
      e.timeQuery('redis', () => {
        throw new Error('sync');
      }),
    );
    assert.deepEqual(queries(e), { 'redis/other': [3, 2], 'cache/select': [1, 0] });
  });
});
