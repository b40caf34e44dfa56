/**
 * `prodmon cleanup`: applies retention now. Every record that goes is first written to the archive
 * (compressed NDJSON under `archive.dir`); then old rollups, check results, resolved alerts and their
 * events, finished notifications and their delivery logs, job runs and log files are deleted.
 * `--dry-run` shows what would go and changes nothing. Progress goes to stderr.
 */
import { hostname } from 'node:os';
import Table from 'cli-table3';
import type { Command } from 'commander';
import type { ResolvedConfig } from '../config/load.js';
import { errorMessage } from '../core/errors.js';
import { type RetentionReport, runRetention } from '../jobs/index.js';
import { retentionTotals } from '../jobs/retention.js';
import type { JobProgress } from '../jobs/types.js';
import type { Store } from '../store/index.js';
import { configFrom, EXIT, type GlobalOptions, globalOptions, printJson, runCommand } from './common.js';
import { openDataStore, storeLocation } from './status.js';

interface CleanupOptions extends GlobalOptions {
  dryRun?: boolean;
}

/** Progress on stderr: one rewritten line on a terminal, a line per step (at most every 2 s) otherwise. */
function progressPrinter(stream: NodeJS.WriteStream = process.stderr): {
  update(p: JobProgress): void;
  done(): void;
} {
  let lastStep = '';
  let lastAt = 0;
  let drawn = false;
  return {
    update(p) {
      const line = `${p.step}: ${p.done}${p.total !== null ? `/${p.total}` : ''}`;
      if (stream.isTTY) {
        stream.write(`\r\x1b[K${line}`);
        drawn = true;
      } else if (p.step !== lastStep || Date.now() - lastAt > 2000 || p.done === p.total) {
        stream.write(`${line}\n`);
        lastAt = Date.now();
      }
      lastStep = p.step;
    },
    done() {
      if (drawn) stream.write('\r\x1b[K');
    },
  };
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

function render(r: RetentionReport): string {
  const t = new Table({
    head: [
      'records',
      'older than',
      r.dryRun ? 'would go' : 'archived',
      r.dryRun ? '' : 'deleted',
      r.dryRun ? '' : 'files',
    ].filter(Boolean),
    style: { head: [], border: [] },
  });
  for (const d of r.datasets) {
    t.push(
      r.dryRun
        ? [d.dataset, day(d.cutoff), String(d.found)]
        : [d.dataset, day(d.cutoff), String(d.archived), String(d.deleted), String(d.files.length)],
    );
  }
  const totals = retentionTotals(r);
  const lines = [
    r.dryRun ? 'cleanup (dry run): nothing was changed' : 'cleanup done',
    t.toString(),
    r.logs
      ? `log files older than ${day(r.logs.cutoff)} in ${r.logs.dir}: ${r.logs.files.length} ${r.dryRun ? 'would be deleted' : 'deleted'}${r.logs.failed.length ? `, ${r.logs.failed.length} could not be deleted` : ''}`
      : '',
    ...(r.logs?.files.map((f) => `  ${f}`) ?? []),
    r.dryRun
      ? `${totals.found} records would be archived to ${r.archiveDir}, then deleted`
      : `${totals.archived} records archived to ${r.archiveDir} (${totals.files} files), ${totals.deleted} deleted${r.compactedHours ? `; ${r.compactedHours} hours of rollups compacted first` : ''}`,
  ];
  return `${lines.filter((l) => l !== '').join('\n')}\n`;
}

/** Runs retention against the store of the config; records the run in `job_runs` unless it is a dry run. */
export async function runCleanup(
  config: ResolvedConfig,
  store: Store,
  o: { dryRun: boolean; onProgress?: (p: JobProgress) => void },
) {
  const now = Date.now();
  const instance = `cli@${hostname()}:${process.pid}`;
  const runId = o.dryRun
    ? null
    : await store.jobs.start('cleanup', instance, now, { slot: null, manual: true });
  try {
    const report = await runRetention({
      store,
      config,
      scope: 'cleanup',
      now,
      dryRun: o.dryRun,
      onProgress: o.onProgress,
    });
    if (runId) {
      await store.jobs.finish(
        runId,
        'ok',
        { slot: null, manual: true, durationMs: Date.now() - now, counts: retentionTotals(report) },
        Date.now(),
      );
    }
    return report;
  } catch (err) {
    if (runId)
      await store.jobs
        .finish(runId, 'failed', { slot: null, manual: true, error: errorMessage(err) }, Date.now())
        .catch(() => {});
    throw err;
  }
}

export function registerCleanup(program: Command): void {
  program
    .command('cleanup')
    .description('apply retention now: archive, then delete, old data and logs')
    .option('--dry-run', 'show what would be archived and deleted; change nothing')
    .option('--json', 'print JSON')
    .action(async (_o, cmd: Command) => {
      const opts = globalOptions(cmd) as CleanupOptions;
      await runCommand(opts, async () => {
        const config = configFrom(opts);
        const store = await openDataStore(config);
        if (!store) {
          process.stderr.write(
            `prodmon: nothing to clean: no store at ${config.paths.db} (prodmon has not run from ${config.dataDir})\n`,
          );
          return EXIT.failed;
        }
        const progress = progressPrinter();
        try {
          const report = await runCleanup(config, store, {
            dryRun: opts.dryRun === true,
            onProgress: (p) => progress.update(p),
          });
          progress.done();
          if (opts.json)
            printJson({ ...report, store: storeLocation(config), totals: retentionTotals(report) });
          else process.stdout.write(render(report));
          return report.logs?.failed.length ? EXIT.failed : EXIT.ok;
        } finally {
          progress.done();
          await store.close();
        }
      });
    });
}
