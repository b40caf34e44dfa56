/**
 * SQLite's `PRAGMA quick_check` on a worker thread, over a read-only connection of its own: it reads
 * every page of the file (its time grows with the file's size, see docs/benchmarks.md), so it must not
 * run on the event loop. The worker's connection only reads; in WAL mode the main
 * connection keeps writing meanwhile.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** What the check found. */
export interface IntegrityResult {
  /** True when SQLite answered `ok`. */
  ok: boolean;
  /** SQLite's findings (at most `maxErrors`), or why the check could not run. */
  problems: string[];
  /** The check could not run at all (the file could not be opened...): not a verdict on the pages. */
  failed: boolean;
  durationMs: number;
}

// Plain CommonJS run with `eval`, so it needs no file of its own in the package (or the bundle).
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
let db;
try {
  db = new Database(workerData.path, { readonly: true, fileMustExist: true });
  db.pragma('cache_size = -2048');
  const rows = db.pragma('quick_check(' + workerData.maxErrors + ')');
  const lines = rows.flatMap((r) => String(Object.values(r)[0]).split('\\n')).filter(Boolean);
  parentPort.postMessage({ ok: lines.length === 1 && lines[0] === 'ok', problems: lines });
} catch (err) {
  const corrupt = /^SQLITE_(CORRUPT|NOTADB)/.test(String(err && err.code));
  parentPort.postMessage({ ok: false, failed: !corrupt, problems: [String(err && err.message)] });
} finally {
  try { db && db.close(); } catch {}
}
`;

let modulePath: string | undefined;

/** Runs `PRAGMA quick_check(maxErrors)` on the file at `path` on a worker thread. */
export function quickCheck(path: string, maxErrors = 10): Promise<IntegrityResult> {
  modulePath ??= createRequire(import.meta.url).resolve('better-sqlite3');
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: Omit<IntegrityResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      resolve({ ...r, durationMs: Math.round(performance.now() - started) });
    };
    const worker = new Worker(WORKER, {
      eval: true,
      workerData: { path, module: modulePath, maxErrors },
      // A plain script: no loader hooks of the parent (tsx in tests) are needed.
      execArgv: [],
    });
    worker.once('message', (m: { ok: boolean; problems: string[]; failed?: boolean }) =>
      done({ ok: m.ok, problems: m.problems, failed: m.failed ?? false }),
    );
    worker.once('error', (err) => done({ ok: false, failed: true, problems: [err.message] }));
    worker.once('exit', (code) =>
      done({ ok: false, failed: true, problems: [`the integrity check's thread exited with code ${code}`] }),
    );
  });
}
