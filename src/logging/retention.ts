/** Log retention: delete rotated log files older than the limit (by rotation time), keep the rest. */
import { unlink } from 'node:fs/promises';
import { listRotated } from './files.js';

/** What to clean. */
export interface LogRetentionOptions {
  /** The logs directory (`config.paths.logs`). */
  dir: string;
  /** Keep files rotated less than this long ago (`logs.retention`); 0 or less keeps everything. */
  retentionMs: number;
  /** Current time in ms (from a Clock). */
  now: number;
  /** Report what would be deleted without deleting. */
  dryRun?: boolean;
}

/** Paths deleted (or, in a dry run, to delete), kept, and those whose deletion failed (with the reason). */
export interface LogRetentionResult {
  deleted: string[];
  kept: string[];
  failed: { path: string; error: string }[];
}

/**
 * Applies retention to the rotated files of the four streams in `dir`, including files left by earlier runs:
 * a file is old when it was rotated (the time in its name; the mtime for files named otherwise) more than
 * `retentionMs` before `now`. Live files (`application.log`...) and unrelated files are never touched.
 * A missing directory is not an error.
 */
export async function applyLogRetention(opts: LogRetentionOptions): Promise<LogRetentionResult> {
  const result: LogRetentionResult = { deleted: [], kept: [], failed: [] };
  const files = await listRotated(opts.dir);
  const cutoff = opts.now - opts.retentionMs;
  for (const f of files) {
    if (opts.retentionMs <= 0 || !(f.at < cutoff)) {
      result.kept.push(f.path);
      continue;
    }
    if (opts.dryRun) {
      result.deleted.push(f.path);
      continue;
    }
    try {
      await unlink(f.path);
      result.deleted.push(f.path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Another cleanup (a second logger, `prodmon cleanup`) got there first: it is gone, which is the goal.
      if (code === 'ENOENT') result.deleted.push(f.path);
      else result.failed.push({ path: f.path, error: code ?? String(err) });
    }
  }
  return result;
}
