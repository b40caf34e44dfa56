/**
 * `prodmon health`: build the checks from the config, run them all once now (no server needed), close
 * them, and print a table (or `--json`). Exit 0 when healthy, 1 when degraded or unhealthy
 * (`--fail-on unhealthy` tolerates degraded), 2 for a bad config.
 */
import { existsSync } from 'node:fs';
import Table from 'cli-table3';
import { type Command, Option } from 'commander';
import { probeResult } from '../checks/self/store.js';
import { HealthService } from '../checks/service.js';
import type { ResolvedConfig } from '../config/load.js';
import { scrub } from '../config/mask.js';
import { systemClock } from '../core/clock.js';
import { formatDuration } from '../core/duration.js';
import { errorMessage } from '../core/errors.js';
import type { HealthCheckResult, HealthStatus } from '../domain/health.js';
import { openStore, storeTarget } from '../store/index.js';
import {
  EXIT,
  type GlobalOptions,
  globalOptions,
  paint,
  printJson,
  runWithConfig,
  statusColor,
} from './common.js';

interface HealthOptions extends GlobalOptions {
  failOn: 'degraded' | 'unhealthy';
}

/** A short line of the most telling facts of a result (its error when it has one). */
export function summarize(r: HealthCheckResult): string {
  if (r.error) return r.error;
  const d = r.details as Record<string, unknown>;
  const parts: string[] = [];
  if (typeof d.version === 'string') parts.push(`v${d.version.split(/[\s-]/)[0]}`);
  if (typeof d.usedPercent === 'number') parts.push(`${d.usedPercent}% used`);
  if (typeof d.latencyMs === 'number') parts.push(`${d.latencyMs} ms`);
  if (typeof d.statusCode === 'number') parts.push(`HTTP ${d.statusCode}`);
  const cert = d.certificate as { daysLeft?: number } | undefined;
  if (typeof cert?.daysLeft === 'number') parts.push(`cert ${cert.daysLeft} days left`);
  if (typeof d.aboveForMs === 'number' && typeof d.forMs === 'number') {
    parts.push(`above warning for ${formatDuration(d.aboveForMs)} of ${formatDuration(d.forMs)}`);
  }
  if (typeof d.p99Ms === 'number') parts.push(`p99 ${d.p99Ms} ms`);
  else if (d.samples === 0) parts.push('no samples in the window');
  if (Array.isArray(d.paths)) {
    for (const p of d.paths as { path: string; usedPercent?: number }[]) {
      if (p.usedPercent !== undefined) parts.push(`${p.path} ${p.usedPercent}% used`);
    }
  }
  if (d.probes && typeof d.probes === 'object') {
    parts.push(
      Object.entries(d.probes as Record<string, { status: string }>)
        .map(([k, v]) => `${k} ${v.status}`)
        .join(', '),
    );
  }
  return parts.join(', ');
}

/**
 * The store probe of the one-shot run: the store's watch (a write-then-read round trip; this process
 * only reports, it never repairs); an SQLite file not yet created is fine.
 */
function storeProbe(config: ResolvedConfig) {
  return async () => {
    if (config.store.driver === 'sqlite' && !existsSync(config.paths.db)) {
      return {
        status: 'healthy' as const,
        detail: 'no SQLite store yet (prodmon has not run from this data directory)',
      };
    }
    const store = await openStore(storeTarget(config));
    try {
      return probeResult(await store.watch.probe());
    } finally {
      await store.close();
    }
  };
}

/** Runs every check of `config` once; the report, with each check closed afterwards. */
export async function runHealthOnce(config: ResolvedConfig) {
  const service = new HealthService({
    config,
    clock: systemClock,
    log: {
      warn: () => {},
      error: (o) => process.stderr.write(`prodmon: ${scrub(JSON.stringify(o), config.secrets)}\n`),
    },
  });
  service.addSelfProbe('store', storeProbe(config));
  try {
    return await service.run();
  } finally {
    await service.stop();
  }
}

function printTable(results: HealthCheckResult[], status: HealthStatus): void {
  const table = new Table({
    head: ['name', 'kind', 'status', 'time', 'detail'],
    style: { head: [], border: [] },
    colWidths: [null, null, null, null, Math.max(30, Math.min(80, (process.stdout.columns ?? 120) - 60))],
    wordWrap: true,
  });
  for (const r of results) {
    table.push([
      r.name + (r.critical ? '' : ' (non-critical)'),
      r.kind,
      paint(statusColor(r.status), r.status),
      formatDuration(r.responseTimeMs),
      summarize(r),
    ]);
  }
  process.stdout.write(`${table.toString()}\n${paint(statusColor(status), `overall: ${status}`)}\n`);
}

export function registerHealth(program: Command): void {
  program
    .command('health')
    .description('run every health check now and print the results (exit 1 when not healthy)')
    .option('--json', 'print JSON')
    .addOption(
      new Option('--fail-on <level>', 'exit 1 from this status on')
        .choices(['degraded', 'unhealthy'])
        .default('degraded'),
    )
    .action(async (_o, cmd: Command) => {
      const opts = globalOptions(cmd) as HealthOptions;
      await runWithConfig(opts, async (config) => {
        let report: Awaited<ReturnType<typeof runHealthOnce>>;
        try {
          report = await runHealthOnce(config);
        } catch (err) {
          throw new Error(`running the health checks failed: ${errorMessage(err)}`);
        }
        const results = report.checks;
        if (opts.json) {
          printJson(
            JSON.parse(scrub(JSON.stringify({ status: report.status, checks: results }), config.secrets)),
          );
        } else {
          printTable(
            results.map((r) => ({ ...r, error: r.error && scrub(r.error, config.secrets) })),
            report.status,
          );
        }
        const failing =
          opts.failOn === 'unhealthy' ? report.status === 'unhealthy' : report.status !== 'healthy';
        return failing ? EXIT.failed : EXIT.ok;
      });
    });
}
