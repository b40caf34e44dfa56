/**
 * Migration 0006 on a store made before it, SQLite and the real PostgreSQL: the rollups keep every
 * row, their key becomes time first, the time index stays, and upserts still replace by key.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { type Kysely, sql } from 'kysely';
import { pgSchema, tempDir } from '../../test/support/services.js';
import { openPostgres, openSqlite } from './dialects.js';
import { openStore } from './index.js';
import { migrate } from './migrate.js';
import { type Dialect, MIGRATIONS, REKEY_MAX_ROWS, ROLLUP_KEY } from './migrations.js';
import type { Database } from './schema.js';

const T0 = Date.UTC(2026, 10, 1, 12, 0, 0);
const BEFORE = MIGRATIONS.filter((m) => m.id < '0006');
/** The key of rollups before 0006. */
const SERIES_FIRST_KEY = ['metric', 'labels', 'instance', 'resolution', 'bucket'];

const rows = [
  ['http_request', '{"route":"/b"}', 'app-1', 60_000, T0, 3, 30, 5, 15, 0, Buffer.from([1, 2, 3])],
  ['http_request', '{"route":"/a"}', 'app-2', 60_000, T0 + 60_000, 1, 7, 7, 7, 1, null],
  ['db_query', '{"op":"select"}', 'app-1', 3_600_000, T0, 9, 90, 1, 30, 0, Buffer.from([4])],
] as const;

/** The rollups as plain rows, in one order (a Buffer compared by its bytes). */
async function allRollups(db: Kysely<Database>): Promise<unknown[]> {
  const r = await sql<Record<string, unknown>>`select * from rollups order by metric, labels, bucket`.execute(
    db,
  );
  return r.rows.map((row) => ({
    ...row,
    bucket: Number(row.bucket),
    count: Number(row.count),
    errors: Number(row.errors),
    sketch: row.sketch === null ? null : [...(row.sketch as Uint8Array)],
  }));
}

const FIXTURES: {
  dialect: Dialect;
  open(): {
    db: Kysely<Database>;
    target: Parameters<typeof openStore>[0];
    schema?: string;
    end(): Promise<void>;
  };
  keyColumns(db: Kysely<Database>, schema?: string): Promise<string[]>;
  indexes(db: Kysely<Database>, schema?: string): Promise<string[]>;
}[] = [
  {
    dialect: 'sqlite',
    open() {
      const dir = tempDir();
      const path = join(dir.path, 'prodmon.db');
      const { db } = openSqlite(path);
      return {
        db,
        target: { driver: 'sqlite', path },
        async end() {
          await db.destroy();
          dir.cleanup();
        },
      };
    },
    async keyColumns(db) {
      const r = await sql<{ name: string }>`select name from pragma_index_info(
          (select name from pragma_index_list('rollups') where origin = 'pk')) order by seqno`.execute(db);
      return r.rows.map((x) => x.name);
    },
    async indexes(db) {
      const r = await sql<{
        name: string;
      }>`select name from pragma_index_list('rollups') order by name`.execute(db);
      return r.rows.map((x) => x.name);
    },
  },
  {
    dialect: 'postgres',
    open() {
      const s = pgSchema();
      const { db } = openPostgres(s.url, s.schema, 2);
      return {
        db,
        schema: s.schema,
        target: { driver: 'postgres', url: s.url, schema: s.schema, poolSize: 2 },
        async end() {
          await db.destroy();
          await s.drop();
        },
      };
    },
    async keyColumns(db, schema) {
      const r = await sql<{ attname: string }>`
        select a.attname from pg_index i
          join pg_class c on c.oid = i.indrelid
          join pg_namespace n on n.oid = c.relnamespace
          cross join lateral unnest(i.indkey) with ordinality as k(attnum, ord)
          join pg_attribute a on a.attrelid = c.oid and a.attnum = k.attnum
        where c.relname = 'rollups' and n.nspname = ${schema} and i.indisprimary
        order by k.ord`.execute(db);
      return r.rows.map((x) => x.attname);
    },
    async indexes(db, schema) {
      const r = await sql<{ indexname: string }>`select indexname from pg_indexes
        where tablename = 'rollups' and schemaname = ${schema} order by indexname`.execute(db);
      return r.rows.map((x) => x.indexname);
    },
  },
];

for (const f of FIXTURES) {
  describe(`migration 0006 (rollups keyed time first): ${f.dialect}`, () => {
    test('every row is kept, the key is time first, the time index stays, upserts still replace', async () => {
      const o = f.open();
      try {
        await migrate(o.db, f.dialect, { schema: o.schema, now: T0, migrations: BEFORE });
        assert.deepEqual(await f.keyColumns(o.db, o.schema), SERIES_FIRST_KEY);
        for (const r of rows) {
          await sql`insert into rollups (metric, labels, instance, resolution, bucket, count, sum, min, max, errors, sketch)
            values (${sql.join(r.map((v) => sql`${v}`))})`.execute(o.db);
        }
        const before = await allRollups(o.db);
        assert.equal(before.length, 3);

        assert.deepEqual(await migrate(o.db, f.dialect, { schema: o.schema, now: T0 }), [
          '0006_rollups_time_first',
        ]);
        assert.deepEqual(await f.keyColumns(o.db, o.schema), [...ROLLUP_KEY]);
        assert.deepEqual(await allRollups(o.db), before, 'every row, every column, as it was');
        const indexes = await f.indexes(o.db, o.schema);
        assert.ok(indexes.includes('rollups_by_time'), `the time index stays: ${indexes.join(', ')}`);
        assert.deepEqual(await migrate(o.db, f.dialect, { schema: o.schema, now: T0 }), []);

        const store = await openStore(o.target);
        try {
          const [metric, labels, instance, resolution, bucket] = rows[0];
          await store.rollups.upsert([
            {
              metric,
              labels,
              instance,
              resolution,
              bucket,
              count: 4,
              sum: 44,
              min: 5,
              max: 20,
              errors: 1,
              sketch: null,
            },
          ]);
          const got = await store.rollups.query({
            metrics: [metric],
            resolution,
            since: T0,
            until: T0 + 120_000,
          });
          assert.deepEqual(
            got.map((r) => [r.labels, r.instance, Number(r.bucket), Number(r.count)]),
            [
              ['{"route":"/b"}', 'app-1', T0, 4],
              ['{"route":"/a"}', 'app-2', T0 + 60_000, 1],
            ],
            'the row of the same key was replaced, not added',
          );
        } finally {
          await store.close();
        }
      } finally {
        await o.end();
      }
    });

    test(`a store of more than ${REKEY_MAX_ROWS.toLocaleString('en')} rollups keeps its key (no rebuild blocking the start)`, async () => {
      const o = f.open();
      try {
        await migrate(o.db, f.dialect, { schema: o.schema, now: T0, migrations: BEFORE });
        const n = REKEY_MAX_ROWS + 1;
        const numbers =
          f.dialect === 'postgres'
            ? sql`select g as i from generate_series(1, ${n}) as g`
            : sql`with recursive s(i) as (select 1 union all select i + 1 from s where i < ${n}) select i from s`;
        await sql`insert into rollups (metric, labels, instance, resolution, bucket, count, sum, min, max, errors, sketch)
          select 'http_request', '{}', 'app-' || i, 60000, ${T0}, 1, 1, 1, 1, 0, null from (${numbers}) as n`.execute(
          o.db,
        );
        assert.deepEqual(await migrate(o.db, f.dialect, { schema: o.schema, now: T0 }), [
          '0006_rollups_time_first',
        ]);
        assert.deepEqual(await f.keyColumns(o.db, o.schema), SERIES_FIRST_KEY);
        const count = await sql<{ n: number | string }>`select count(*) as n from rollups`.execute(o.db);
        assert.equal(Number(count.rows[0]!.n), n);
      } finally {
        await o.end();
      }
    });
  });
}
