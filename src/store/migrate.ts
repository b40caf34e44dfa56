/** Runs pending migrations once, under a lock, so processes starting together never collide. */
import { type Kysely, sql } from 'kysely';
import { errorMessage, ProdmonError } from '../core/errors.js';
import { type Dialect, MIGRATIONS, type Migration } from './migrations.js';
import type { Database } from './schema.js';

/** An arbitrary constant key for the PostgreSQL advisory lock guarding migrations. */
const MIGRATION_LOCK_KEY = 74_657_001;

/** Applies every migration not yet recorded; returns the ids applied now. */
export async function migrate(
  db: Kysely<Database>,
  dialect: Dialect,
  opts: { schema?: string; now: number; migrations?: readonly Migration[] },
): Promise<string[]> {
  const migrations = opts.migrations ?? MIGRATIONS;
  try {
    return await db.connection().execute(async (conn) => {
      await sql.raw(dialect === 'sqlite' ? 'begin immediate' : 'begin').execute(conn);
      try {
        if (dialect === 'postgres') {
          await sql`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`.execute(conn);
          if (opts.schema) await sql`create schema if not exists ${sql.id(opts.schema)}`.execute(conn);
        }
        await conn.schema
          .createTable('prodmon_migrations')
          .ifNotExists()
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('applied_at', 'bigint', (c) => c.notNull())
          .execute();
        const done = new Set(
          (await conn.selectFrom('prodmonMigrations').select('id').execute()).map((r) => r.id),
        );
        const applied: string[] = [];
        for (const m of migrations) {
          if (done.has(m.id)) continue;
          await m.up(conn, dialect);
          await conn.insertInto('prodmonMigrations').values({ id: m.id, appliedAt: opts.now }).execute();
          applied.push(m.id);
        }
        await sql.raw('commit').execute(conn);
        return applied;
      } catch (err) {
        await sql
          .raw('rollback')
          .execute(conn)
          .catch(() => {});
        throw err;
      }
    });
  } catch (err) {
    throw new ProdmonError('PRODMON_E_MIGRATION', `database migration failed: ${errorMessage(err)}`, {
      cause: err,
      exitCode: 2,
    });
  }
}
