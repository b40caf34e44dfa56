/**
 * `prodmon status`: the overall status, active alerts, last health results, last job runs, the leader
 * and the instances, read from the store of the config/data dir; and which monitor runs from it: a
 * daemon or a foreground `prodmon start` (its pid file), or a live process the store's instance rows
 * name on this host (an embedded monitor). The live `/health/` answer, when there is a URL, is the
 * overall status. `--json` for scripts.
 */
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import Table from 'cli-table3';
import type { Command } from 'commander';
import type { ResolvedConfig } from '../config/load.js';
import { scrub } from '../config/mask.js';
import { JOB_NAMES } from '../config/sections/jobs.js';
import { formatDuration } from '../core/duration.js';
import { errorMessage } from '../core/errors.js';
import type { Severity } from '../domain/alert.js';
import { overallStatus } from '../domain/health.js';
import { holderInstance, LEADER_LEASE } from '../jobs/index.js';
import { compileSchedule } from '../jobs/schedule.js';
import { openStore, type Store, safeHost, storeTarget } from '../store/index.js';
import {
  EXIT,
  type GlobalOptions,
  globalOptions,
  paint,
  printJson,
  runWithConfig,
  statusColor,
} from './common.js';
import { type DaemonProbe, isAlive, probeDaemon } from './daemon.js';

/** Instances seen within this long count as alive. */
const LIVE_MS = 5 * 60_000;

/** Where the store is, for messages (no credentials). */
export function storeLocation(config: ResolvedConfig): string {
  return config.store.driver === 'sqlite'
    ? `sqlite ${config.paths.db}`
    : `postgres ${safeHost(config.store.url)} (schema ${config.store.schema})`;
}

/** Opens (and migrates) the store of the config; null when an SQLite store does not exist yet. */
export async function openDataStore(
  config: ResolvedConfig,
  o: { create?: boolean } = {},
): Promise<Store | null> {
  if (config.store.driver === 'sqlite' && !o.create && !existsSync(config.paths.db)) return null;
  const store = await openStore(storeTarget(config));
  try {
    await store.migrate(Date.now());
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

async function liveHealth(config: ResolvedConfig, probe: DaemonProbe): Promise<string | null> {
  if (probe.state !== 'running' || !probe.info?.url) return null;
  try {
    const res = await fetch(`${probe.info.url}${config.server.prefix}/health/`, {
      signal: AbortSignal.timeout(3000),
    });
    return ((await res.json()) as { status?: string }).status ?? null;
  } catch {
    return null;
  }
}

/** The config fields `status` reads: a `${VAR}` elsewhere may be unset. */
export const STATUS_FIELDS = ['data_dir', 'store', 'server.host', 'server.port', 'server.prefix', 'jobs'];

/** An instance row is live when seen lately and, on this host, its process still exists. */
function instanceAlive(i: { host: string; pid: number }): boolean {
  return i.host !== hostname() || isAlive(i.pid);
}

/** Everything `status` shows. */
export async function collectStatus(config: ResolvedConfig, store: Store | null, now = Date.now()) {
  const probe = probeDaemon(config);
  const live = await liveHealth(config, probe);
  const rows = store ? await store.instances.list(now - LIVE_MS) : [];
  // Without a pid file, a live process on this host that the store names (an embedded monitor).
  const local = rows.find((i) => i.host === hostname() && isAlive(i.pid));
  const daemon =
    probe.state === 'running'
      ? {
          running: true,
          mode: probe.info?.mode ?? 'daemon',
          pid: probe.pid,
          url: probe.info?.url ?? null,
          startedAt: probe.info?.startedAt ?? null,
          stale: null,
        }
      : local
        ? {
            running: true,
            mode: 'other' as const,
            pid: local.pid,
            url: null,
            startedAt: local.startedAt,
            stale: probe.state === 'stale' ? probe.reason : null,
          }
        : {
            running: false,
            mode: null,
            pid: null,
            url: null,
            startedAt: null,
            stale: probe.state === 'stale' ? probe.reason : null,
          };
  const base = { generatedAt: now, dataDir: config.dataDir, store: storeLocation(config), daemon };
  if (!store)
    return {
      ...base,
      status: live ?? 'unknown',
      statusFrom: live ? 'daemon' : 'none',
      leader: null,
      instances: [],
      checks: [],
      alerts: null,
      jobs: [],
    };
  const [checks, open, runs, lease] = await Promise.all([
    store.checks.latest(),
    store.alerts.listOpen(),
    store.jobs.latestPerJob(),
    store.leases.get(LEADER_LEASE),
  ]);
  const instances = rows.map((i) => ({ ...i, alive: instanceAlive(i) }));
  const bySeverity: Record<Severity, number> = { low: 0, medium: 0, high: 0, critical: 0 };
  for (const a of open) if (a.status === 'firing') bySeverity[a.severity]++;
  const liveIds = new Set(instances.filter((i) => i.alive).map((i) => i.id));
  const leaderValid = lease !== undefined && lease.expiresAt > now;
  const tz = config.jobs.timezone;
  const jobs = JOB_NAMES.map((name) => {
    const pattern = config.jobs[name];
    const last = runs.find((r) => r.job === name) ?? null;
    return {
      job: name,
      schedule: pattern,
      next: pattern === false ? null : compileSchedule(pattern, tz).next(now),
      last: last && {
        ...last,
        instanceGone: last.outcome === 'running' && !liveIds.has(last.instance),
      },
    };
  });
  const stored = checks.length > 0 ? overallStatus(checks) : null;
  return {
    ...base,
    status: live ?? stored ?? 'unknown',
    statusFrom: live ? 'daemon' : stored ? 'checks' : 'none',
    leader: lease
      ? {
          holder: lease.holder,
          instance: holderInstance(lease.holder),
          epoch: lease.epoch,
          expiresAt: lease.expiresAt,
          valid: leaderValid,
        }
      : null,
    instances: instances.map((i) => ({
      ...i,
      leader: i.alive && leaderValid && holderInstance(lease!.holder) === i.id,
    })),
    checks,
    alerts: {
      active: open.filter((a) => a.status === 'firing').length,
      pending: open.filter((a) => a.status === 'pending').length,
      bySeverity,
      items: open,
    },
    jobs,
  };
}

type Status = Awaited<ReturnType<typeof collectStatus>>;

const ago = (now: number, at: number | null | undefined) =>
  at ? `${formatDuration(Math.max(0, now - at))} ago` : '-';
const table = (head: string[]) => new Table({ head, style: { head: [], border: [] }, wordWrap: true });

/** Which monitor runs from the data directory; never "not running" beside an instance listed as live. */
function monitorLine(s: Status): string {
  const d = s.daemon;
  const up = d.startedAt ? `, up ${formatDuration(s.generatedAt - d.startedAt)}` : '';
  const stale = d.stale ? ` (stale pid file: ${d.stale}; \`prodmon stop\` removes it)` : '';
  if (d.running && d.mode === 'other')
    return `running, pid ${d.pid} on this host, without a pid file here (a monitor embedded in an app, or one started from another data directory)${up}${stale}`;
  if (d.running) {
    const how = d.mode === 'foreground' ? 'in the foreground (prodmon start)' : 'as a daemon';
    return `running ${how}, pid ${d.pid}${d.url ? `, ${d.url}` : ''}${up}`;
  }
  const elsewhere = s.instances.filter((i) => i.alive);
  if (elsewhere.length > 0)
    return `none from this data directory on this host${stale}; live elsewhere: ${elsewhere.map((i) => `${i.id} on ${i.host}`).join(', ')}`;
  return `not running${stale}`;
}

function render(s: Status): string {
  const now = s.generatedAt;
  const out: string[] = [];
  const from =
    s.statusFrom === 'daemon'
      ? `live, from the ${s.daemon.mode === 'foreground' ? 'running prodmon start' : 'daemon'}`
      : s.statusFrom === 'checks'
        ? 'from the last stored check results'
        : 'no results yet';
  out.push(`prodmon status: ${paint(statusColor(s.status), s.status.toUpperCase())} (${from})`);
  out.push(`data dir:  ${s.dataDir}`);
  out.push(`store:     ${s.store}`);
  out.push(`monitor:   ${monitorLine(s)}`);
  if (s.leader) {
    const l = s.leader;
    out.push(
      `leader:    ${l.valid ? `${l.holder} (epoch ${l.epoch}, lease valid for ${formatDuration(l.expiresAt - now)})` : `none (last: ${l.holder}, lease expired ${ago(now, l.expiresAt)})`}`,
    );
  } else out.push('leader:    none yet');
  out.push(
    `instances: ${s.instances.length === 0 ? 'none seen in the last 5 minutes' : s.instances.map((i) => `${i.id} (pid ${i.pid}${i.host === hostname() ? '' : ` on ${i.host}`}, v${i.version}, ${i.alive ? `seen ${ago(now, i.lastSeenAt)}` : `gone: pid ${i.pid} has exited, last seen ${ago(now, i.lastSeenAt)}`}${i.leader ? ', leader' : ''})`).join('; ')}`,
  );
  if (s.alerts) {
    const b = s.alerts.bySeverity;
    out.push(
      '',
      `Active alerts: ${s.alerts.active} (critical ${b.critical}, high ${b.high}, medium ${b.medium}, low ${b.low})${s.alerts.pending ? `, ${s.alerts.pending} pending` : ''}`,
    );
    if (s.alerts.items.length > 0) {
      const t = table(['id', 'severity', 'status', 'rule', 'since', 'message']);
      for (const a of s.alerts.items.slice(0, 20)) {
        t.push([
          a.id,
          paint(statusColor(a.severity), a.severity),
          paint(statusColor(a.status), a.status),
          a.rule,
          ago(now, a.firingAt ?? a.createdAt),
          a.message,
        ]);
      }
      out.push(t.toString());
    }
  }
  out.push('', 'Health checks (last results)');
  if (s.checks.length === 0)
    out.push(
      '  none stored yet (the health job stores them every 15 minutes; `prodmon health` runs them now)',
    );
  else {
    const t = table(['name', 'kind', 'status', 'time', 'checked', 'error']);
    for (const c of s.checks) {
      t.push([
        c.name,
        c.kind,
        paint(statusColor(c.status), c.status),
        formatDuration(c.responseTimeMs),
        ago(now, c.checkedAt),
        c.error ?? '',
      ]);
    }
    out.push(t.toString());
  }
  if (s.jobs.length > 0) {
    out.push('', 'Jobs');
    const t = table(['job', 'schedule', 'last run', 'outcome', 'took', 'result', 'next run']);
    for (const j of s.jobs) {
      const l = j.last;
      const counts = (l?.detail.counts ?? {}) as Record<string, number>;
      const result =
        l?.outcome === 'failed'
          ? String(l.detail.error ?? '')
          : Object.entries(counts)
              .map(([k, v]) => `${k} ${v}`)
              .join(', ');
      const outcome = l ? (l.instanceGone ? 'running (instance gone)' : l.outcome) : '-';
      t.push([
        j.job,
        j.schedule === false ? 'disabled' : j.schedule,
        l ? `${ago(now, l.startedAt)} on ${l.instance}` : 'never',
        l ? paint(statusColor(l.outcome), outcome) : '-',
        l?.endedAt ? formatDuration(l.endedAt - l.startedAt) : '-',
        result,
        j.next ? `in ${formatDuration(j.next - now)}` : '-',
      ]);
    }
    out.push(t.toString());
  }
  return `${out.join('\n')}\n`;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description(
      'overall status, active alerts, last health results and job runs, leader, instances, the running monitor',
    )
    .option('--json', 'print JSON')
    .action(async (_o, cmd: Command) => {
      const opts = globalOptions(cmd) as GlobalOptions;
      await runWithConfig(
        opts,
        async (config) => {
          let store: Store | null;
          try {
            store = await openDataStore(config);
          } catch (err) {
            throw new Error(`cannot read the store (${storeLocation(config)}): ${errorMessage(err)}`);
          }
          try {
            const s = await collectStatus(config, store);
            if (opts.json) printJson(JSON.parse(scrub(JSON.stringify(s), config.secrets)));
            else {
              if (!store)
                process.stderr.write(
                  `prodmon has not run from ${config.dataDir} yet (no store at ${config.paths.db})\n`,
                );
              process.stdout.write(scrub(render(s), config.secrets));
            }
            return s.status === 'unhealthy' || s.status === 'unknown' ? EXIT.failed : EXIT.ok;
          } finally {
            await store?.close();
          }
        },
        () => ({ pick: STATUS_FIELDS }),
      );
    });
}
