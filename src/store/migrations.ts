/**
 * Versioned migrations, applied in order at start. Each runs inside the runner's transaction, under a
 * lock (PostgreSQL advisory lock; SQLite `BEGIN IMMEDIATE`), so several processes can start at once.
 * Append new migrations; never edit one that has shipped.
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/** `postgres` or `sqlite`: the few places where SQL types differ. */
export type Dialect = 'postgres' | 'sqlite';

export interface Migration {
  id: string;
  // biome-ignore lint/suspicious/noExplicitAny: migrations work on the untyped schema
  up(db: Kysely<any>, dialect: Dialect): Promise<void>;
}

const types = (d: Dialect) => ({
  ms: 'bigint' as const,
  float: d === 'postgres' ? ('double precision' as const) : ('real' as const),
  blob: d === 'postgres' ? ('bytea' as const) : ('blob' as const),
});

/**
 * Migration 0006 re-keys rollups only when they hold at most this many rows (a few seconds of
 * blocked start); a larger store keeps the series-first key.
 */
export const REKEY_MAX_ROWS = 250_000;

/** The key of rollups since 0006 (time first; 0001 had it series first). */
export const ROLLUP_KEY = ['resolution', 'bucket', 'metric', 'labels', 'instance'] as const;

/**
 * Creates the rollups table keyed time first, with 0001's columns (0006; 0001 stays as it shipped, so
 * its own copy of the columns is not shared with this one).
 */
async function createRollups(
  // biome-ignore lint/suspicious/noExplicitAny: migrations work on the untyped schema
  db: Kysely<any>,
  t: ReturnType<typeof types>,
): Promise<void> {
  await db.schema
    .createTable('rollups')
    .addColumn('metric', 'text', (c) => c.notNull())
    .addColumn('labels', 'text', (c) => c.notNull())
    .addColumn('instance', 'text', (c) => c.notNull())
    .addColumn('resolution', 'integer', (c) => c.notNull())
    .addColumn('bucket', t.ms, (c) => c.notNull())
    .addColumn('count', t.ms, (c) => c.notNull())
    .addColumn('sum', t.float, (c) => c.notNull())
    .addColumn('min', t.float, (c) => c.notNull())
    .addColumn('max', t.float, (c) => c.notNull())
    .addColumn('errors', t.ms, (c) => c.notNull())
    .addColumn('sketch', t.blob)
    .addPrimaryKeyConstraint('rollups_pk', [...ROLLUP_KEY])
    .execute();
}

/**
 * The time index of rollups, as 0001 made it (0006 makes it again on the copied table): the keyset
 * reads of `RollupsRepo.pages` go along it (by rowid within a bucket and metric on SQLite).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations work on the untyped schema
function rollupsByTime(db: Kysely<any>) {
  return db.schema.createIndex('rollups_by_time').on('rollups').columns(['resolution', 'bucket', 'metric']);
}

export const MIGRATIONS: readonly Migration[] = [
  {
    id: '0001_initial',
    async up(db, dialect) {
      const t = types(dialect);
      await db.schema
        .createTable('rollups')
        .addColumn('metric', 'text', (c) => c.notNull())
        .addColumn('labels', 'text', (c) => c.notNull())
        .addColumn('instance', 'text', (c) => c.notNull())
        .addColumn('resolution', 'integer', (c) => c.notNull())
        .addColumn('bucket', t.ms, (c) => c.notNull())
        .addColumn('count', t.ms, (c) => c.notNull())
        .addColumn('sum', t.float, (c) => c.notNull())
        .addColumn('min', t.float, (c) => c.notNull())
        .addColumn('max', t.float, (c) => c.notNull())
        .addColumn('errors', t.ms, (c) => c.notNull())
        .addColumn('sketch', t.blob)
        .addPrimaryKeyConstraint('rollups_pk', ['metric', 'labels', 'instance', 'resolution', 'bucket'])
        .execute();
      await db.schema
        .createIndex('rollups_by_time')
        .on('rollups')
        .columns(['resolution', 'bucket', 'metric'])
        .execute();

      await db.schema
        .createTable('check_results')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('response_time_ms', t.float, (c) => c.notNull())
        .addColumn('details', 'text', (c) => c.notNull())
        .addColumn('error', 'text')
        .addColumn('critical', 'integer', (c) => c.notNull())
        .addColumn('checked_at', t.ms, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('check_results_by_name')
        .on('check_results')
        .columns(['name', 'checked_at'])
        .execute();
      await db.schema.createIndex('check_results_by_time').on('check_results').column('checked_at').execute();

      await db.schema
        .createTable('alerts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('rule', 'text', (c) => c.notNull())
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('value', t.float)
        .addColumn('threshold', t.float)
        .addColumn('labels', 'text', (c) => c.notNull())
        .addColumn('metadata', 'text', (c) => c.notNull())
        .addColumn('created_at', t.ms, (c) => c.notNull())
        .addColumn('updated_at', t.ms, (c) => c.notNull())
        .addColumn('firing_at', t.ms)
        .addColumn('resolved_at', t.ms)
        .addColumn('resolution_kind', 'text')
        .addColumn('resolution_by', 'text')
        .addColumn('resolution_reason', 'text')
        .addColumn('state', 'text', (c) => c.notNull())
        .execute();
      // At most one open alert per (rule, labels).
      await db.schema
        .createIndex('alerts_open_fingerprint')
        .on('alerts')
        .column('fingerprint')
        .unique()
        .where(sql.ref('status'), '<>', 'resolved')
        .execute();
      await db.schema
        .createIndex('alerts_by_status')
        .on('alerts')
        .columns(['status', 'created_at'])
        .execute();
      await db.schema.createIndex('alerts_by_time').on('alerts').column('created_at').execute();

      await db.schema
        .createTable('alert_events')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('alert_id', 'text', (c) => c.notNull())
        .addColumn('at', t.ms, (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('value', t.float)
        .addColumn('threshold', t.float)
        .addColumn('actor', 'text')
        .addColumn('detail', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('alert_events_by_alert')
        .on('alert_events')
        .columns(['alert_id', 'at'])
        .execute();

      await db.schema
        .createTable('audit')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('at', t.ms, (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target', 'text')
        .addColumn('detail', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_by_time').on('audit').column('at').execute();

      await db.schema
        .createTable('outbox')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('key', 'text', (c) => c.notNull().unique())
        .addColumn('alert_id', 'text')
        .addColumn('transition', 'text', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', t.ms, (c) => c.notNull())
        .addColumn('created_at', t.ms, (c) => c.notNull())
        .addColumn('updated_at', t.ms, (c) => c.notNull())
        .addColumn('delivered_at', t.ms)
        .addColumn('last_error', 'text')
        .execute();
      await db.schema.createIndex('outbox_due').on('outbox').columns(['status', 'next_attempt_at']).execute();

      await db.schema
        .createTable('deliveries')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('outbox_id', 'text', (c) => c.notNull())
        .addColumn('at', t.ms, (c) => c.notNull())
        .addColumn('ok', 'integer', (c) => c.notNull())
        .addColumn('status_code', 'integer')
        .addColumn('error', 'text')
        .addColumn('duration_ms', t.float, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('deliveries_by_outbox')
        .on('deliveries')
        .columns(['outbox_id', 'at'])
        .execute();

      await db.schema
        .createTable('silences')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('matchers', 'text', (c) => c.notNull())
        .addColumn('starts_at', t.ms, (c) => c.notNull())
        .addColumn('ends_at', t.ms, (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('comment', 'text', (c) => c.notNull())
        .addColumn('created_at', t.ms, (c) => c.notNull())
        .addColumn('expired_at', t.ms)
        .execute();

      await db.schema
        .createTable('leases')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('epoch', t.ms, (c) => c.notNull())
        .addColumn('expires_at', t.ms, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('job_runs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('job', 'text', (c) => c.notNull())
        .addColumn('instance', 'text', (c) => c.notNull())
        .addColumn('started_at', t.ms, (c) => c.notNull())
        .addColumn('ended_at', t.ms)
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('detail', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('job_runs_by_job').on('job_runs').columns(['job', 'started_at']).execute();

      await db.schema
        .createTable('instances')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('host', 'text', (c) => c.notNull())
        .addColumn('pid', 'integer', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('started_at', t.ms, (c) => c.notNull())
        .addColumn('last_seen_at', t.ms, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('state')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('updated_at', t.ms, (c) => c.notNull())
        .execute();
    },
  },
  {
    id: '0002_alert_indexes',
    async up(db) {
      // The engine reads recent resolutions every tick, and the last alert of a fingerprint.
      await db.schema.createIndex('alerts_by_resolved').on('alerts').column('resolved_at').execute();
      await db.schema
        .createIndex('alerts_by_fingerprint')
        .on('alerts')
        .columns(['fingerprint', 'created_at'])
        .execute();
    },
  },
  {
    id: '0003_outbox_groups',
    async up(db) {
      // Notifications grouped per (rule, channel): the group of a row, and the group message that
      // claimed it (stable across retries and crashes, so a re-send carries the same id).
      await db.schema.alterTable('outbox').addColumn('group_key', 'text').execute();
      await db.schema.alterTable('outbox').addColumn('batch_id', 'text').execute();
      await db.schema
        .createIndex('outbox_by_group')
        .on('outbox')
        .columns(['group_key', 'channel', 'status'])
        .execute();
      await db.schema.createIndex('outbox_by_batch').on('outbox').column('batch_id').execute();
    },
  },
  {
    id: '0004_deployments',
    async up(db, dialect) {
      const t = types(dialect);
      // Deploy markers: listed by time (charts, the list), looked up by version (comparisons).
      await db.schema
        .createTable('deployments')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('instance', 'text')
        .addColumn('note', 'text')
        .addColumn('at', t.ms, (c) => c.notNull())
        .addColumn('recorded_by', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('deployments_by_time').on('deployments').column('at').execute();
      await db.schema
        .createIndex('deployments_by_version')
        .on('deployments')
        .columns(['version', 'at'])
        .execute();
    },
  },
  {
    id: '0005_baselines',
    async up(db, dialect) {
      // Baselines of the deployment gate (`prodmon baseline save`): the window's figures per route.
      const t = types(dialect);
      await db.schema
        .createTable('baselines')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('created_at', t.ms, (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('window_from', t.ms, (c) => c.notNull())
        .addColumn('window_until', t.ms, (c) => c.notNull())
        .addColumn('instance', 'text')
        .addColumn('route_filter', 'text')
        .addColumn('requests', t.ms, (c) => c.notNull())
        .addColumn('errors', t.ms, (c) => c.notNull())
        .addColumn('routes', 'integer', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('baseline_series')
        .addColumn('baseline', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('method', 'text', (c) => c.notNull())
        .addColumn('route', 'text', (c) => c.notNull())
        .addColumn('count', t.ms, (c) => c.notNull())
        .addColumn('errors', t.ms, (c) => c.notNull())
        .addColumn('sum', t.float, (c) => c.notNull())
        .addColumn('min', t.float, (c) => c.notNull())
        .addColumn('max', t.float, (c) => c.notNull())
        .addColumn('sketch', t.blob)
        .addColumn('minutes', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('baseline_series_pk', ['baseline', 'key'])
        .execute();
    },
  },
  {
    id: '0006_rollups_time_first',
    async up(db, dialect) {
      // The key of rollups, time first: the rows of each new minute go at the end of the key's index
      // instead of one place per series scattered over it. With the key series first, a hub storing a
      // settled minute of 20,000 series dirtied 20,000 index pages, and the cost grew with the table
      // (bench/rollup-writes.ts on SQLite: 0.64-0.72 s of CPU a minute with 5 minutes stored, 0.88-1.22 s
      // with 120; time first a flat 0.38-0.42 s). Every read of rollups is by resolution and time
      // range, or by whole key.
      // Rebuilding takes about 7 s per million rows (SQLite, 2-vCPU VM: 1.6 s for 240,000 rows in
      // bench/rollup-writes.ts; 21.7 s for 2.4 million), blocking the start: a
      // store holding more than REKEY_MAX_ROWS keeps the series-first key (see docs/operations.md).
      const n = await sql<{ n: number | string }>`select count(*) as n from (select 1 from rollups limit ${
        REKEY_MAX_ROWS + 1
      }) as r`.execute(db);
      if (Number(n.rows[0]?.n ?? 0) > REKEY_MAX_ROWS) return;
      if (dialect === 'postgres') {
        await sql`alter table rollups drop constraint rollups_pk`.execute(db);
        await sql`alter table rollups add constraint rollups_pk primary key (${sql.raw(ROLLUP_KEY.join(', '))})`.execute(
          db,
        );
        return;
      }
      // SQLite cannot change a primary key in place: the table is copied in the new key's order.
      await db.schema.dropIndex('rollups_by_time').execute();
      await db.schema.alterTable('rollups').renameTo('rollups_series_first').execute();
      await createRollups(db, types(dialect));
      await sql`insert into rollups select * from rollups_series_first order by ${sql.raw(ROLLUP_KEY.join(', '))}`.execute(
        db,
      );
      await db.schema.dropTable('rollups_series_first').execute();
      await rollupsByTime(db).execute();
    },
  },
];
