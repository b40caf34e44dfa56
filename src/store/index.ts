/**
 * The store: one interface of small repositories, two databases (SQLite, PostgreSQL) behind one Kysely
 * code path. `transaction()` gives the same repositories bound to one transaction, so an alert
 * transition and its outbox rows are written together or not at all.
 */
import { type Kysely, sql } from 'kysely';
import type { AlertRepository, AuditRepository, SilenceRepository } from '../alerting/repository.js';
import type { BaselineRepository } from '../baseline/repository.js';
import type { CheckResultRepository } from '../checks/repository.js';
import type { ResolvedConfig } from '../config/load.js';
import { errorMessage, ProdmonError } from '../core/errors.js';
import type { DeploymentRepository } from '../deployments/repository.js';
import type { StateRepository } from '../domain/state.js';
import type {
  ArchiveRepository,
  InstanceRepository,
  JobRunRepository,
  LeaseRepository,
} from '../jobs/repository.js';
import type { RollupRepository } from '../metrics/repository.js';
import type { OutboxRepository } from '../notifiers/outbox/repository.js';
import { openPostgres, openSqlite } from './dialects.js';
import { migrate } from './migrate.js';
import type { Dialect } from './migrations.js';
import { AlertRepo } from './repos/alerts.js';
import { ArchiveRepo } from './repos/archive.js';
import { AuditRepo } from './repos/audit.js';
import { BaselineRepo } from './repos/baselines.js';
import { CheckResultRepo } from './repos/checks.js';
import { DeploymentRepo } from './repos/deployments.js';
import { InstanceRepo } from './repos/instances.js';
import { JobRunRepo } from './repos/job-runs.js';
import { LeaseRepo } from './repos/leases.js';
import { OutboxRepo } from './repos/outbox.js';
import { RollupRepo } from './repos/rollups.js';
import { SilenceRepo } from './repos/silences.js';
import { StateRepo } from './repos/state.js';
import { PgRollupFeed, type RollupFeed } from './rollup-feed.js';
import type { Database } from './schema.js';
import { PlainWatch, PostgresWatch, SqliteWatch, type StoreWatch } from './watch.js';

/** The repositories, bound to the database or to one transaction. */
export interface Repos {
  rollups: RollupRepository;
  checks: CheckResultRepository;
  alerts: AlertRepository;
  audit: AuditRepository;
  outbox: OutboxRepository;
  silences: SilenceRepository;
  leases: LeaseRepository;
  jobs: JobRunRepository;
  instances: InstanceRepository;
  /** Old records for the archive job and `prodmon cleanup`. */
  archive: ArchiveRepository;
  state: StateRepository;
  /** Deploy markers. */
  deployments: DeploymentRepository;
  /** Baselines of the deployment gate (`prodmon baseline`). */
  baselines: BaselineRepository;
  /**
   * Runs `fn` once the transaction these repositories are bound to has committed (never after a
   * rollback); outside a transaction, at once. For work that must see the committed rows from another
   * connection, such as waking the outbox worker. `fn` must not throw (an error is ignored: the
   * transaction stands).
   */
  afterCommit(fn: () => void): void;
}

/** Everything prodmon keeps. */
export interface Store extends Repos {
  readonly dialect: Dialect;
  /** Applies pending migrations (safe from several processes at once); returns the ids applied. */
  migrate(now: number): Promise<string[]>;
  /** Runs `fn` in one transaction with repositories bound to it. */
  transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T>;
  /** Whether the database answers (`select 1`; `prodmon health` without a server). */
  ping(): Promise<void>;
  /** Watches the store for the `self` check: round trip, file identity and integrity, failures at once. */
  readonly watch: StoreWatch;
  /**
   * Shared stores (PostgreSQL): which minutes the other processes wrote, as they write them
   * (src/store/rollup-feed.ts). Absent for SQLite, which one process writes.
   */
  readonly rollupFeed?: RollupFeed;
  close(): Promise<void>;
}

function repos(db: Kysely<Database>, committed?: (() => void)[]): Repos {
  return {
    afterCommit(fn) {
      if (committed) committed.push(fn);
      else runHook(fn);
    },
    rollups: new RollupRepo(db),
    checks: new CheckResultRepo(db),
    alerts: new AlertRepo(db),
    audit: new AuditRepo(db),
    outbox: new OutboxRepo(db),
    silences: new SilenceRepo(db),
    leases: new LeaseRepo(db),
    jobs: new JobRunRepo(db),
    instances: new InstanceRepo(db),
    archive: new ArchiveRepo(db),
    state: new StateRepo(db),
    deployments: new DeploymentRepo(db),
    baselines: new BaselineRepo(db),
  };
}

function runHook(fn: () => void): void {
  try {
    fn();
  } catch {
    // documented: a hook's error does not undo what was written
  }
}

/** A store over an open Kysely instance. */
export function storeFromKysely(
  db: Kysely<Database>,
  dialect: Dialect,
  opts: { schema?: string; onClose?: () => Promise<void> | void; watch?: StoreWatch; feed?: RollupFeed } = {},
): Store {
  let closed = false;
  const watch = opts.watch ?? new PlainWatch(db, dialect);
  return {
    ...repos(db),
    dialect,
    watch,
    ...(opts.feed ? { rollupFeed: opts.feed } : {}),
    migrate: (now) => migrate(db, dialect, { schema: opts.schema, now }),
    async transaction(fn) {
      const committed: (() => void)[] = [];
      const out = await db.transaction().execute((trx) => fn(repos(trx, committed)));
      for (const hook of committed) runHook(hook);
      return out;
    },
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      if (closed) return;
      closed = true;
      await watch.close(); // a repair in progress finishes first
      await opts.feed?.close();
      await db.destroy();
      await opts.onClose?.();
    },
  };
}

/** Where the store lives. */
export type StoreTarget =
  | { driver: 'sqlite'; path: string }
  | { driver: 'postgres'; url: string; schema: string; poolSize?: number };

/** Opens (without migrating) the store a config names. */
export function storeTarget(config: ResolvedConfig): StoreTarget {
  return config.store.driver === 'sqlite'
    ? { driver: 'sqlite', path: config.paths.db }
    : {
        driver: 'postgres',
        url: config.store.url,
        schema: config.store.schema,
        poolSize: config.store.pool_size,
      };
}

/** Opens a store and checks that it answers; throws a clear PRODMON_E_STORE error if not. */
export async function openStore(target: StoreTarget): Promise<Store> {
  if (target.driver === 'sqlite') {
    let opened: ReturnType<typeof openSqlite>;
    let watch: SqliteWatch | undefined;
    try {
      opened = openSqlite(target.path, (kind, err) => watch?.failed(kind, err));
    } catch (err) {
      throw new ProdmonError(
        'PRODMON_E_STORE',
        `cannot open the SQLite database ${target.path}: ${errorMessage(err)}`,
        {
          cause: err,
          exitCode: 2,
        },
      );
    }
    watch = new SqliteWatch(opened.db, opened.handle);
    return storeFromKysely(opened.db, 'sqlite', { watch });
  }
  let watch: PostgresWatch | undefined;
  const { db, pool } = openPostgres(target.url, target.schema, target.poolSize ?? 10, (err) =>
    watch?.dropped(err),
  );
  watch = new PostgresWatch(db);
  watch.attachPool(pool);
  const feed = new PgRollupFeed({ db, url: target.url, schema: target.schema });
  const store = storeFromKysely(db, 'postgres', { schema: target.schema, watch, feed });
  try {
    await store.ping();
  } catch (err) {
    await store.close().catch(() => {});
    const where = safeHost(target.url);
    throw new ProdmonError('PRODMON_E_STORE', `cannot reach PostgreSQL at ${where}: ${errorMessage(err)}`, {
      cause: err,
      exitCode: 2,
    });
  }
  return store;
}

/** host:port/database of a connection URL, without credentials. */
export function safeHost(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    return 'the configured URL';
  }
}
