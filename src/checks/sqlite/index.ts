/**
 * `sqlite` (better-sqlite3): opens the file (read-only by default, never creating it), `select 1` timed,
 * SQLite version, file size and journal mode. The handle is kept between runs and closed on stop. The work
 * is synchronous: a locked database is waited for (SQLite's busy timeout) up to the check's timeout, then
 * the run fails and the handle is closed.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import type { CheckDefinition } from '../types.js';
import { latencyOutcome, monotonic, targetError } from '../util.js';
import { shape } from './options.js';

type Options = { path: string; readonly: boolean; latency_threshold?: number };

/** The `sqlite` kind. */
export const sqliteCheck: CheckDefinition<Options, Options & { latency_threshold: number }> = {
  kind: 'sqlite',
  shape,
  resolve: (spec, d) => ({ ...spec, latency_threshold: spec.latency_threshold ?? d.databaseLatency }),
  create(spec) {
    const threshold = spec.latency_threshold;
    const path = resolve(spec.path);
    let db: BetterSqlite3.Database | null = null;
    const drop = () => {
      try {
        db?.close();
      } catch {
        // already closed
      }
      db = null;
    };
    return {
      name: spec.name,
      kind: spec.kind,
      critical: spec.critical,
      timeout: spec.timeout,
      async run(signal) {
        const details: Record<string, unknown> = { path };
        try {
          if (!db) {
            const { default: Database } = await import('better-sqlite3');
            signal.throwIfAborted(); // timed out during the import: open nothing
            db = new Database(path, { readonly: spec.readonly, fileMustExist: true, timeout: spec.timeout });
          }
          const t0 = monotonic();
          db.prepare('select 1').get();
          const latency = monotonic() - t0;
          details.version = (db.prepare('select sqlite_version() as v').get() as { v: string }).v;
          details.journalMode = db.pragma('journal_mode', { simple: true });
          details.sizeBytes = statSync(path).size;
          return latencyOutcome(latency, threshold, details);
        } catch (err) {
          drop();
          if (signal.aborted) throw err;
          return { status: 'unhealthy', details, error: `SQLite ${path}: ${targetError(err)}` };
        }
      },
      async close() {
        drop();
      },
    };
  },
};
