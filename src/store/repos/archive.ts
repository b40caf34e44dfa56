/** Reading old records for archival and deleting exactly what was archived, one spec per dataset. */
import type { Kysely } from 'kysely';
import type { ArchiveDataset, ArchiveRecord } from '../../domain/archive.js';
import type { ArchiveRepository } from '../../jobs/repository.js';
import type { Database } from '../schema.js';
import { fromJson } from './json.js';

/** The tables archived, with their columns as plain values: the one code path below reads them all alike. */
type ArchivedTables = Record<string, Record<string, unknown>>;

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
  deployments: { table: 'deployments', time: 'at', match: ['id'] },
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
export class ArchiveRepo implements ArchiveRepository {
  readonly #db: Kysely<ArchivedTables>;

  constructor(db: Kysely<Database>) {
    // Table and column names come from SPECS (tables of `Database`), not from input.
    this.#db = db as unknown as Kysely<ArchivedTables>;
  }

  #old(ds: ArchiveDataset, before: number) {
    const s = SPECS[ds];
    let q = this.#db.selectFrom(s.table).where(s.time, '<', before);
    if (s.filter) q = q.where(s.filter[0], s.filter[1], s.filter[2]);
    return q;
  }

  /** How many records of `ds` are older than `before`. */
  async count(ds: ArchiveDataset, before: number): Promise<number> {
    const r = await this.#old(ds, before)
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirst();
    return Number(r?.n ?? 0);
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
