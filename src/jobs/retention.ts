/**
 * Retention: ARCHIVE, then delete. Old records are written to compressed NDJSON files, and only the
 * records in a complete file are deleted (exactly those, and only if unchanged since read), so the
 * archive holds every record cleanup deletes. Used by the cleanup and archive jobs and `prodmon cleanup`.
 */
import type { ResolvedConfig } from '../config/load.js';
import type { ArchiveDataset } from '../domain/archive.js';
import { applyLogRetention, type LogRetentionOptions } from '../logging/index.js';
import { compact } from '../metrics/maintenance.js';
import { bucketStart, HOUR_MS, MINUTE_MS } from '../metrics/rollup.js';
import type { Repos, Store } from '../store/index.js';
import { ArchiveWriter } from './archive/writer.js';
import type { JobProgress } from './types.js';

/**
 * `archive`: records older than `archive.after`; `cleanup`: that, plus rollups past their retention, deploy
 * markers past the longer rollup retention, and logs.
 */
export type RetentionScope = 'cleanup' | 'archive';

/** What happened to one dataset. */
export interface DatasetOutcome {
  dataset: ArchiveDataset;
  /** Records older than this go. */
  cutoff: number;
  /** Records older than the cutoff when the run began (what a dry run would archive and delete). */
  found: number;
  archived: number;
  deleted: number;
  files: string[];
}

/** Log files removed (or, in a dry run, to remove). */
export interface LogOutcome {
  dir: string;
  cutoff: number;
  files: string[];
  failed: { path: string; error: string }[];
}

/** What a retention run did. */
export interface RetentionReport {
  scope: RetentionScope;
  dryRun: boolean;
  now: number;
  archiveDir: string;
  datasets: DatasetOutcome[];
  /** Hours of minute rollups merged into hourly rows before minute rows went (null: not run). */
  compactedHours: number | null;
  logs: LogOutcome | null;
}

/** What a run needs. */
export interface RetentionOptions {
  store: Store;
  config: ResolvedConfig;
  scope: RetentionScope;
  now: number;
  dryRun?: boolean;
  /** Checks leadership in each deleting transaction (jobs); none for `prodmon cleanup`. */
  fence?: (tx: Repos) => Promise<unknown>;
  signal?: AbortSignal;
  onProgress?: (p: JobProgress) => void;
  /** Records read per query (default 1000) and per archive file (default 10 000). */
  pageSize?: number;
  fileRecords?: number;
  /** Log retention (default: the production logger's). */
  logRetention?: (
    o: LogRetentionOptions,
  ) => Promise<{ deleted: string[]; failed: { path: string; error: string }[] }>;
}

/** The cutoff of each dataset for a scope. */
export function retentionCutoffs(
  config: ResolvedConfig,
  scope: RetentionScope,
  now: number,
): Map<ArchiveDataset, number> {
  const old = now - config.archive.after;
  const cutoffs = new Map<ArchiveDataset, number>([
    ['check_results', old],
    ['alerts', old],
    ['outbox', old],
    ['job_runs', old],
    ['instances', old],
  ]);
  if (scope === 'cleanup') {
    cutoffs.set('rollups_minute', bucketStart(now - config.metrics.retention, MINUTE_MS));
    cutoffs.set('rollups_hourly', bucketStart(now - config.metrics.hourly_retention, HOUR_MS));
    // Deploy markers go with the last chart that can show them: the longer of the two rollup retentions.
    cutoffs.set('deployments', now - Math.max(config.metrics.retention, config.metrics.hourly_retention));
  }
  return cutoffs;
}

/** Archives, then deletes, the records of one dataset older than `cutoff`. */
export async function archiveDataset(
  o: RetentionOptions,
  dataset: ArchiveDataset,
  cutoff: number,
): Promise<DatasetOutcome> {
  const { store } = o;
  const pageSize = o.pageSize ?? 1000;
  const fileRecords = Math.max(pageSize, o.fileRecords ?? 10_000);
  const found = await store.archive.count(dataset, cutoff);
  const out: DatasetOutcome = { dataset, cutoff, found, archived: 0, deleted: 0, files: [] };
  if (o.dryRun || found === 0) return out;
  const step = `archive ${dataset}`;
  o.onProgress?.({ step, done: 0, total: found });
  // Bounded: each file takes up to `fileRecords`; rows arriving meanwhile wait for the next run.
  for (let part = 0; part <= Math.ceil(found / fileRecords); part++) {
    o.signal?.throwIfAborted();
    const batch: Record<string, unknown>[] = [];
    let writer: ArchiveWriter | null = null;
    try {
      for (let offset = 0; batch.length < fileRecords; offset += pageSize) {
        const page = await store.archive.oldest(
          dataset,
          cutoff,
          Math.min(pageSize, fileRecords - batch.length),
          offset,
        );
        if (page.length === 0) break;
        writer ??= ArchiveWriter.open(o.config.paths.archive, dataset, o.now);
        await writer.write(page);
        batch.push(...page);
        o.onProgress?.({ step, done: out.archived + batch.length, total: found });
        if (page.length < pageSize) break;
      }
      if (!writer) break;
      const file = await writer.close();
      writer = null;
      out.files.push(file.path);
    } catch (err) {
      await writer?.abort();
      throw err;
    }
    out.archived += batch.length;
    out.deleted += await store.transaction(async (tx) => {
      await o.fence?.(tx);
      return tx.archive.remove(dataset, batch);
    });
    if (batch.length < fileRecords) break;
  }
  return out;
}

/** Runs retention for a scope: compaction, then archive-and-delete per dataset, then log files. */
export async function runRetention(o: RetentionOptions): Promise<RetentionReport> {
  const report: RetentionReport = {
    scope: o.scope,
    dryRun: o.dryRun === true,
    now: o.now,
    archiveDir: o.config.paths.archive,
    datasets: [],
    compactedHours: null,
    logs: null,
  };
  const cutoffs = retentionCutoffs(o.config, o.scope, o.now);
  if (o.scope === 'cleanup' && !o.dryRun) {
    // Minute rows leave only after their hour has an hourly row.
    o.onProgress?.({ step: 'compact rollups', done: 0, total: null });
    report.compactedHours = (await compact(o.store, { now: o.now, fence: o.fence, signal: o.signal })).hours;
  }
  for (const [dataset, cutoff] of cutoffs) {
    o.signal?.throwIfAborted();
    report.datasets.push(await archiveDataset(o, dataset, cutoff));
  }
  if (o.scope === 'cleanup') {
    o.onProgress?.({ step: 'delete old log files', done: 0, total: null });
    const retentionMs = o.config.logs.retention;
    const r = await (o.logRetention ?? applyLogRetention)({
      dir: o.config.paths.logs,
      retentionMs,
      now: o.now,
      dryRun: o.dryRun,
    });
    report.logs = {
      dir: o.config.paths.logs,
      cutoff: o.now - retentionMs,
      files: r.deleted,
      failed: r.failed,
    };
  }
  return report;
}

/** Totals of a report: records found, archived and deleted, files written, log files removed. */
export function retentionTotals(r: RetentionReport): Record<string, number> {
  const sum = (k: 'found' | 'archived' | 'deleted') => r.datasets.reduce((n, d) => n + d[k], 0);
  return {
    found: sum('found'),
    archived: sum('archived'),
    deleted: sum('deleted'),
    files: r.datasets.reduce((n, d) => n + d.files.length, 0),
    logFiles: r.logs?.files.length ?? 0,
  };
}
