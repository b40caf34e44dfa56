/** Runs of scheduled jobs, the instances that share the store, and reading old records for archival. */
import type { Kysely } from 'kysely';
import { newId } from '../../core/ids.js';
import type { ArchiveDataset, ArchiveRecord } from '../../domain/archive.js';
import type { InstanceInfo } from '../../domain/instance.js';
import type { JobOutcome, JobRun } from '../../domain/job.js';
import type { Database } from '../schema.js';
import { fromJson, toJson } from './json.js';

export class JobRunRepo {
  /** Old records for the archive job and `prodmon cleanup` (bound to the same database or transaction). */
  readonly archive: ArchiveRepo;

  constructor(private readonly db: Kysely<Database>) {
    this.archive = new ArchiveRepo(db);
  }

  /** Records the start of a run (with e.g. the schedule slot it runs for); returns its id. */
  async start(
    job: string,
    instance: string,
    now: number,
    detail: Record<string, unknown> = {},
  ): Promise<string> {
    const id = newId(now, 'jr_');
    await this.db
      .insertInto('jobRuns')
      .values({
        id,
        job,
        instance,
        startedAt: now,
        endedAt: null,
        outcome: 'running',
        detail: toJson(detail),
      })
      .execute();
    return id;
  }

  /** One run by id. */
  async get(id: string): Promise<JobRun | undefined> {
    const r = await this.db.selectFrom('jobRuns').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? { ...r, outcome: r.outcome as JobOutcome, detail: fromJson(r.detail, {}) } : undefined;
  }

  /** The newest run of each job (any instance), by job name. */
  async latestPerJob(): Promise<JobRun[]> {
    const newest = this.db
      .selectFrom('jobRuns')
      .select(['job'])
      .select((eb) => eb.fn.max('startedAt').as('at'))
      .groupBy('job')
      .as('n');
    const rows = await this.db
      .selectFrom('jobRuns')
      .innerJoin(newest, (j) => j.onRef('n.job', '=', 'jobRuns.job').onRef('n.at', '=', 'jobRuns.startedAt'))
      .selectAll('jobRuns')
      .orderBy('jobRuns.job')
      .orderBy('jobRuns.id', 'desc')
      .execute();
    const seen = new Set<string>();
    return rows
      .filter((r) => !seen.has(r.job) && seen.add(r.job))
      .map((r) => ({ ...r, outcome: r.outcome as JobOutcome, detail: fromJson(r.detail, {}) }));
  }

  /** Records how a run ended. */
  async finish(id: string, outcome: JobOutcome, detail: Record<string, unknown>, now: number): Promise<void> {
    await this.db
      .updateTable('jobRuns')
      .set({ outcome, detail: toJson(detail), endedAt: now })
      .where('id', '=', id)
      .execute();
  }

  /** Recent runs, newest first (optionally of one job). */
  async recent(opts: { job?: string; limit?: number } = {}): Promise<JobRun[]> {
    let q = this.db.selectFrom('jobRuns').selectAll();
    if (opts.job) q = q.where('job', '=', opts.job);
    const rows = await q
      .orderBy('startedAt', 'desc')
      .orderBy('id', 'desc')
      .limit(opts.limit ?? 50)
      .execute();
    return rows.map((r) => ({ ...r, outcome: r.outcome as JobOutcome, detail: fromJson(r.detail, {}) }));
  }

  /** Deletes runs started before `before`. */
  async deleteBefore(before: number): Promise<number> {
    const r = await this.db.deleteFrom('jobRuns').where('startedAt', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}

export class InstanceRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /** Registers or refreshes an instance's heartbeat. */
  async heartbeat(info: Omit<InstanceInfo, 'lastSeenAt'>, now: number): Promise<void> {
    await this.db
      .insertInto('instances')
      .values({ ...info, lastSeenAt: now })
      // A restart under a fixed `instance` name is a new process: its pid, host and start replace the old.
      .onConflict((oc) =>
        oc.column('id').doUpdateSet({
          lastSeenAt: now,
          version: info.version,
          host: info.host,
          pid: info.pid,
          startedAt: info.startedAt,
        }),
      )
      .execute();
  }

  /** Instances seen since `since`, most recent first. */
  async list(since = 0): Promise<InstanceInfo[]> {
    return this.db
      .selectFrom('instances')
      .selectAll()
      .where('lastSeenAt', '>=', since)
      .orderBy('lastSeenAt', 'desc')
      .execute();
  }

  /** Removes an instance (on clean shutdown). */
  async remove(id: string): Promise<void> {
    await this.db.deleteFrom('instances').where('id', '=', id).execute();
  }
}

interface ArchiveSpec {
  table: string;
  /** The age column: a record is old when it is before the cutoff. */
  time: string;
  filter?: [column: string, op: 'in' | '=', value: unknown];
  /** Columns a row must still have, unchanged, to be deleted (a row changed since it was read stays). */
  match: string[];
  json?: string[];
  binary?: string[];
  children?: { table: string; fk: string; as: string; json?: string[] };
}

const SPECS: Record<ArchiveDataset, ArchiveSpec> = {
  check_results: { table: 'checkResults', time: 'checkedAt', match: ['id'], json: ['details'] },
  alerts: {
    table: 'alerts',
    time: 'resolvedAt',
    filter: ['status', '=', 'resolved'],
    match: ['id', 'updatedAt'],
    json: ['labels', 'metadata', 'state'],
    children: { table: 'alertEvents', fk: 'alertId', as: 'events', json: ['detail'] },
  },
  outbox: {
    table: 'outbox',
    time: 'updatedAt',
    filter: ['status', 'in', ['delivered', 'failed', 'dead']],
    match: ['id', 'updatedAt'],
    json: ['payload'],
    children: { table: 'deliveries', fk: 'outboxId', as: 'deliveries' },
  },
  job_runs: { table: 'jobRuns', time: 'startedAt', match: ['id', 'outcome'], json: ['detail'] },
  instances: { table: 'instances', time: 'lastSeenAt', match: ['id', 'lastSeenAt'] },
  rollups_minute: {
    table: 'rollups',
    time: 'bucket',
    filter: ['resolution', '=', 60_000],
    match: ['metric', 'labels', 'instance', 'resolution', 'bucket', 'count'],
    binary: ['sketch'],
  },
  rollups_hourly: {
    table: 'rollups',
    time: 'bucket',
    filter: ['resolution', '=', 3_600_000],
    match: ['metric', 'labels', 'instance', 'resolution', 'bucket', 'count'],
    binary: ['sketch'],
  },
};

function toRecord(row: Record<string, unknown>, json: string[] = [], binary: string[] = []): ArchiveRecord {
  const out: ArchiveRecord = { ...row };
  for (const c of json) out[c] = fromJson(row[c] as string | null, null);
  for (const c of binary) {
    const v = row[c];
    out[c] = v instanceof Uint8Array ? Buffer.from(v).toString('base64') : null;
  }
  return out;
}

/** Reads and deletes old records table by table (one spec per dataset, the same code for all). */
export class ArchiveRepo {
  // biome-ignore lint/suspicious/noExplicitAny: one table-driven code path over several tables
  readonly #db: Kysely<any>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  // biome-ignore lint/suspicious/noExplicitAny: see above
  #old(ds: ArchiveDataset, before: number): any {
    const s = SPECS[ds];
    let q = this.#db.selectFrom(s.table).where(s.time, '<', before);
    if (s.filter) q = q.where(s.filter[0], s.filter[1], s.filter[2]);
    return q;
  }

  /** How many records of `ds` are older than `before`. */
  async count(ds: ArchiveDataset, before: number): Promise<number> {
    const r = await this.#old(ds, before)
      .select((eb: { fn: { countAll: () => { as: (n: string) => unknown } } }) => eb.fn.countAll().as('n'))
      .executeTakeFirst();
    return Number((r as { n?: unknown } | undefined)?.n ?? 0);
  }

  /** Up to `limit` records of `ds` older than `before` (skipping `offset`), oldest first, children nested. */
  async oldest(ds: ArchiveDataset, before: number, limit: number, offset = 0): Promise<ArchiveRecord[]> {
    const s = SPECS[ds];
    let q = this.#old(ds, before).selectAll().orderBy(s.time);
    for (const c of s.match) if (c !== s.time) q = q.orderBy(c);
    const rows = (await q.limit(limit).offset(offset).execute()) as Record<string, unknown>[];
    const records = rows.map((r) => toRecord(r, s.json, s.binary));
    const ch = s.children;
    if (ch && records.length > 0) {
      const kids = (await this.#db
        .selectFrom(ch.table)
        .selectAll()
        .where(
          ch.fk,
          'in',
          records.map((r) => r.id),
        )
        .orderBy('id')
        .execute()) as Record<string, unknown>[];
      const by = new Map<unknown, ArchiveRecord[]>();
      for (const k of kids) {
        const list = by.get(k[ch.fk]) ?? [];
        list.push(toRecord(k, ch.json));
        by.set(k[ch.fk], list);
      }
      for (const r of records) r[ch.as] = by.get(r.id) ?? [];
    }
    return records;
  }

  /**
   * Deletes exactly these records (and the nested children listed with them): a row that changed since
   * it was read, or that got a child not in the archive, stays for the next run. Returns how many went.
   */
  async remove(ds: ArchiveDataset, records: readonly ArchiveRecord[]): Promise<number> {
    const s = SPECS[ds];
    let deleted = 0;
    for (let i = 0; i < records.length; i += 100) {
      const chunk = records.slice(i, i + 100);
      const ch = s.children;
      if (ch) {
        const kidIds = chunk.flatMap((r) =>
          ((r[ch.as] as ArchiveRecord[] | undefined) ?? []).map((k) => k.id),
        );
        for (let j = 0; j < kidIds.length; j += 500) {
          await this.#db
            .deleteFrom(ch.table)
            .where('id', 'in', kidIds.slice(j, j + 500))
            .execute();
        }
      }
      let q = this.#db
        .deleteFrom(s.table)
        .where((eb) =>
          eb.or(chunk.map((r) => eb.and(s.match.map((c) => eb(c, '=', (r[c] as string | number) ?? null))))),
        );
      if (ch) {
        q = q.where((eb) =>
          eb.not(
            eb.exists(
              eb.selectFrom(ch.table).select('id').whereRef(`${ch.table}.${ch.fk}`, '=', `${s.table}.id`),
            ),
          ),
        );
      }
      const r = await q.executeTakeFirst();
      deleted += Number(r.numDeletedRows);
    }
    return deleted;
  }
}
