/**
 * `prodmon report`: the performance report of a period (`--since 1h|24h|7d` or a date) compared with
 * the period before, as text, JSON or one self-contained HTML file with charts (`--output FILE`).
 */
import { writeFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { inTimeRange } from '../core/bounds.js';
import { parseDuration } from '../core/duration.js';
import { ProdmonError } from '../core/errors.js';
import { buildReport, REPORT_FORMATS, type ReportFormat, renderReport } from '../report/index.js';
import { configFrom, EXIT, type GlobalOptions, globalOptions, runCommand } from './common.js';
import { openDataStore } from './status.js';

interface ReportOptions extends GlobalOptions {
  since: string;
  until?: string;
  format: ReportFormat;
  output?: string;
  groupBy: string;
}

/** The longest period a report covers (a year and a day). */
export const MAX_REPORT_PERIOD_MS = 366 * 86_400_000;

/** A time: a duration before `now` (`24h`) or an ISO date, from 1970 to 9999. */
export function parseWhen(text: string, now: number, flag: string): number {
  const d = parseDuration(text);
  const t = d !== null && /[a-z]$/i.test(text.trim()) ? now - d : Date.parse(text);
  if (inTimeRange(t)) return t;
  throw new ProdmonError(
    'PRODMON_E_CONFIG',
    `${flag}: expected a duration such as "1h", "24h", "7d" or a date (1970 to 9999), got "${text}"`,
    {
      exitCode: 2,
    },
  );
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('performance report for a period, compared with the period before')
    .option('--since <when>', 'start: a duration ago (1h, 24h, 7d) or a date', '24h')
    .option('--until <when>', 'end: a duration ago or a date (default: now)')
    .addOption(new Option('--format <format>', 'output format').choices([...REPORT_FORMATS]).default('text'))
    .option('--json', 'same as --format json')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .option('--group-by <labels>', 'route grouping labels, comma-separated', 'route,method')
    .action(async (_o, cmd: Command) => {
      const opts = globalOptions(cmd) as ReportOptions;
      await runCommand(opts, async () => {
        const config = configFrom(opts);
        const now = Date.now();
        const until = opts.until ? parseWhen(opts.until, now, '--until') : now;
        const since = parseWhen(opts.since, until === now ? now : until, '--since');
        if (!(since < until)) {
          throw new ProdmonError('PRODMON_E_CONFIG', '--since must be before --until', { exitCode: 2 });
        }
        if (until - since > MAX_REPORT_PERIOD_MS) {
          throw new ProdmonError(
            'PRODMON_E_CONFIG',
            '--since: a report covers at most 366d (from --since to --until)',
            { exitCode: 2 },
          );
        }
        const format: ReportFormat = opts.json ? 'json' : opts.format;
        const store = await openDataStore(config);
        if (!store) {
          process.stderr.write(
            `prodmon: no data: no store at ${config.paths.db} (prodmon has not run from ${config.dataDir})\n`,
          );
          return EXIT.failed;
        }
        try {
          const groupBy = opts.groupBy
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean);
          const report = await buildReport({ store }, { since, until, now, groupBy });
          const text = renderReport(report, format, { timeZone: config.jobs.timezone });
          if (opts.output) {
            writeFileSync(opts.output, text);
            process.stderr.write(
              `report written to ${opts.output} (${Math.ceil(Buffer.byteLength(text) / 1024)} KB)\n`,
            );
          } else process.stdout.write(text);
          return EXIT.ok;
        } finally {
          await store.close();
        }
      });
    });
}
