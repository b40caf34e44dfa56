/**
 * `prodmon alerts`: list, show, resolve, silence, silences, expire — directly on the store of the
 * config and data directory (no server needed). Resolve, silence and expire are the alert actions
 * (src/alerting/actions.ts), as over HTTP: the same audit rows and security log lines (in the data
 * directory's logs); a resolution's notification is handed over by the running monitor's next evaluation.
 */

import { existsSync, mkdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import Table from 'cli-table3';
import type { Command } from 'commander';
import { type AlertActions, alertActions } from '../alerting/actions.js';
import { inhibitorOf } from '../alerting/inhibit.js';
import { MaintenanceCalendar } from '../alerting/maintenance.js';
import { deployText, formatValue } from '../alerting/message.js';
import { publicAlert } from '../alerting/plan.js';
import { alertQuery } from '../alerting/query.js';
import { silenceView } from '../alerting/silences.js';
import type { ResolvedConfig } from '../config/load.js';
import { systemClock } from '../core/clock.js';
import { configDuration, formatDuration } from '../core/duration.js';
import { ProdmonError } from '../core/errors.js';
import type { Alert, AlertEvent } from '../domain/alert.js';
import type { Labels } from '../domain/labels.js';
import { createProductionLogger } from '../logging/index.js';
import { openStore, type Store, storeTarget } from '../store/index.js';
import {
  EXIT,
  type GlobalOptions,
  globalOptions,
  paint,
  printJson,
  runWithConfig,
  statusColor,
} from './common.js';

type Opts = GlobalOptions & Record<string, unknown>;

/** Who acts from the command line: `--by`, else `cli:<os user>`. */
export function actor(o: Record<string, unknown>): string {
  if (typeof o.by === 'string' && o.by.trim()) return o.by.trim();
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

/** Opens (and migrates) the store; `create: false` answers null when an SQLite store does not exist yet. */
export async function withStore<T>(
  config: ResolvedConfig,
  create: boolean,
  fn: (store: Store) => Promise<T>,
): Promise<T | null> {
  if (config.store.driver === 'sqlite' && !existsSync(config.paths.db)) {
    if (!create) return null;
    mkdirSync(dirname(config.paths.db), { recursive: true });
  }
  const store = await openStore(storeTarget(config));
  try {
    await store.migrate(systemClock.now());
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** The alert actions on the store, their log lines written to the data directory's security log. */
async function withActions<T>(
  config: ResolvedConfig,
  create: boolean,
  fn: (actions: AlertActions) => Promise<T>,
): Promise<T | null> {
  return withStore(config, create, async (store) => {
    const logger = createProductionLogger({
      dir: config.paths.logs,
      config: config.logs,
      clock: systemClock,
      secrets: config.secrets,
    });
    try {
      return await fn(alertActions({ store, clock: systemClock, logger }));
    } finally {
      await logger.close();
    }
  });
}

/** A time for a table; one no date can show (a row stored before times were bounded) is `never`. */
export const iso = (t: number | null) =>
  t === null
    ? ''
    : Number.isNaN(new Date(t).getTime())
      ? 'never'
      : new Date(t)
          .toISOString()
          .replace('T', ' ')
          .replace(/\.\d+Z$/, 'Z');
const labelText = (l: Labels) =>
  Object.entries(l)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');

/** A table for the terminal. */
export function table(head: string[], rows: string[][]): string {
  const t = new Table({ head, style: { head: [], border: [] }, wordWrap: true });
  t.push(...rows);
  return `${t.toString()}\n`;
}

/** `inhibited by health_check check=database (al_…)`, or '' when nothing inhibits the alert. */
function inhibitedText(a: Alert): string {
  const by = a.status === 'resolved' ? null : inhibitorOf(a.metadata);
  return by ? `inhibited by ${by.rule} ${labelText(by.labels)} (${by.id})`.replace('  ', ' ') : '';
}

function alertRows(alerts: Alert[]): string[][] {
  return alerts.map((a) => [
    a.id,
    `${paint(statusColor(a.status), a.status)}${inhibitedText(a) ? '\ninhibited' : ''}`,
    paint(statusColor(a.severity), a.severity),
    a.rule,
    labelText(a.labels),
    `${formatValue(a.value)} / ${formatValue(a.threshold)}`,
    iso(a.firingAt ?? a.createdAt),
    a.message,
  ]);
}

function showText(a: Alert, events: AlertEvent[]): string {
  const lines = [
    `${a.id}  ${a.status} ${a.severity}  ${a.rule} ${labelText(a.labels)}`,
    `message:   ${a.message}`,
    `type:      ${a.type}`,
    `value:     ${formatValue(a.value)} (threshold ${formatValue(a.threshold)})`,
    `created:   ${iso(a.createdAt)}`,
    ...(a.firingAt ? [`firing:    ${iso(a.firingAt)}`] : []),
    ...(deployText(a) ? [`deploy:    ${deployText(a)}`] : []),
    ...(inhibitedText(a)
      ? [`inhibited: ${inhibitedText(a).slice('inhibited '.length)}: not notified while it fires`]
      : []),
    ...(a.resolution
      ? [
          `resolved:  ${iso(a.resolution.at)} by ${a.resolution.by} (${a.resolution.kind}): ${a.resolution.reason}`,
        ]
      : []),
    '',
    'history:',
  ];
  const rows = events.map((e) => [
    iso(e.at),
    e.kind,
    e.severity,
    formatValue(e.value),
    e.actor ?? '',
    e.detail.reason
      ? String(e.detail.reason)
      : e.detail.notified === false
        ? `not notified${e.detail.suppressed ? ` (${e.detail.suppressed}${suppressor(e.detail)})` : ''}`
        : '',
  ]);
  return `${lines.join('\n')}\n${table(['time', 'event', 'severity', 'value', 'by', 'detail'], rows)}`;
}

/** ` by <rule> (<id>)` for an event suppressed by inhibition. */
function suppressor(detail: Record<string, unknown>): string {
  const by = detail.inhibited_by as { id?: string; rule?: string } | undefined;
  return by?.id ? ` by ${by.rule} ${by.id}` : '';
}

/** `key=value` pairs of `--label` into labels. */
function labelPairs(pairs: string[] | undefined): Labels | undefined {
  if (!pairs?.length) return undefined;
  const out: Labels = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0)
      throw new ProdmonError('PRODMON_E_CONFIG', `--label: expected key=value, got "${p}"`, { exitCode: 2 });
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

function timeFlag(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(String(v));
  if (!Number.isFinite(t))
    throw new ProdmonError('PRODMON_E_CONFIG', `${name}: expected an ISO date-time, got "${v}"`, {
      exitCode: 2,
    });
  return t;
}

function durationFlag(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const r = configDuration(String(v));
  if (!r.ok || r.value <= 0)
    throw new ProdmonError(
      'PRODMON_E_CONFIG',
      `${name}: ${r.ok ? `expected a duration such as 30m or 2h, got "${v}"` : r.problem}`,
      { exitCode: 2 },
    );
  return r.value;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** Registers `prodmon alerts ...`. */
export function registerAlerts(program: Command): void {
  const alerts = program.command('alerts').description('list, show and resolve alerts; silence them');
  const run = (cmd: Command, body: (o: Opts, config: ResolvedConfig) => Promise<unknown>) => {
    const o = globalOptions(cmd) as Opts;
    return runWithConfig(o, async (config) => {
      const code = await body(o, config);
      return typeof code === 'number' ? code : undefined;
    });
  };

  alerts
    .command('list', { isDefault: true })
    .description('alerts, newest first (default: the active ones)')
    .option('--status <list>', 'active, pending, firing, resolved or all (comma list)', 'active')
    .option('--severity <list>', 'low, medium, high, critical (comma list)')
    .option('--type <list>', 'performance, error, system, security (comma list)')
    .option('--rule <name>', 'one rule')
    .option('--since <time>', 'created since (ISO time or a duration back, e.g. 24h)')
    .option('--limit <n>', 'at most this many', '50')
    .option('--offset <n>', 'skip this many', '0')
    .option('--json', 'print JSON')
    .action((_o, cmd: Command) =>
      run(cmd, async (o, config) => {
        const f = alertQuery(
          {
            status: o.status as string,
            severity: o.severity as string,
            type: o.type as string,
            rule: o.rule as string,
            since: o.since as string,
            limit: o.limit as string,
            offset: o.offset as string,
          },
          systemClock.now(),
        );
        const page = (await withStore(config, false, (s) => s.alerts.list(f))) ?? { items: [], total: 0 };
        const items = page.items.map(publicAlert);
        if (o.json) return printJson({ alerts: items, total: page.total, limit: f.limit, offset: f.offset });
        if (items.length === 0) {
          process.stdout.write(`no ${o.status === 'all' ? '' : `${o.status} `}alerts\n`);
          return;
        }
        process.stdout.write(
          table(
            ['id', 'status', 'severity', 'rule', 'labels', 'value / threshold', 'since', 'message'],
            alertRows(items),
          ),
        );
        if (page.total > items.length)
          process.stdout.write(`${items.length} of ${page.total} shown (--limit, --offset)\n`);
      }),
    );

  alerts
    .command('show <id>')
    .description('one alert with its history')
    .option('--json', 'print JSON')
    .action((id: string, _o, cmd: Command) =>
      run(cmd, async (o, config) => {
        const found = await withStore(config, false, async (s) => {
          const a = await s.alerts.get(id);
          return a ? { alert: publicAlert(a), events: await s.alerts.events(a.id) } : null;
        });
        if (!found) throw new ProdmonError('PRODMON_E_NOT_FOUND', `no alert with id "${id}"`);
        if (o.json) return printJson(found);
        process.stdout.write(showText(found.alert, found.events));
      }),
    );

  alerts
    .command('resolve <id>')
    .description('resolve an alert by hand (audited; the monitor notifies the resolution)')
    .requiredOption('--reason <text>', 'why (recorded in the history and the audit log)')
    .option('--by <name>', 'who (default: cli:<your user name>)')
    .option('--json', 'print JSON')
    .action((id: string, _o, cmd: Command) =>
      run(cmd, async (o, config) => {
        const by = actor(o);
        const resolved = await withActions(config, false, (actions) =>
          actions.resolve({ id, reason: String(o.reason), actor: by }),
        );
        if (!resolved) throw new ProdmonError('PRODMON_E_NOT_FOUND', `no alert with id "${id}"`);
        if (o.json) return printJson({ alert: publicAlert(resolved) });
        process.stdout.write(
          `resolved ${resolved.id} (${resolved.rule} ${labelText(resolved.labels)}) by ${by}: ${resolved.resolution?.reason}\n`,
        );
      }),
    );

  alerts
    .command('silence')
    .description('mute matching alerts for a while (they are still recorded)')
    .option('--rule <name>', 'alerts of this rule')
    .option('--label <key=value>', 'alerts with this label (repeatable)', collect)
    .option('--type <type>', 'alerts of this type')
    .option('--all', 'every alert')
    .option('--for <duration>', 'how long, e.g. 30m')
    .option('--until <time>', 'until this ISO time (instead of --for)')
    .option('--start <time>', 'from this ISO time (default now)')
    .requiredOption('--comment <text>', 'why')
    .option('--by <name>', 'who (default: cli:<your user name>)')
    .option('--json', 'print JSON')
    .action((_o, cmd: Command) =>
      run(cmd, async (o, config) => {
        const req = {
          rule: o.rule as string | undefined,
          labels: labelPairs(o.label as string[] | undefined),
          type: o.type as string | undefined,
          all: o.all === true,
          startsAt: timeFlag(o.start, '--start'),
          endsAt: timeFlag(o.until, '--until'),
          durationMs: durationFlag(o.for, '--for'),
          createdBy: actor(o),
          comment: String(o.comment),
          fields: { startsAt: '--start', endsAt: '--until', duration: '--for' },
        };
        const s = (await withActions(config, true, (actions) => actions.silence(req)))!;
        const now = s.createdAt;
        if (o.json) return printJson({ silence: silenceView(s, now) });
        process.stdout.write(
          `silenced ${JSON.stringify(s.matchers)} until ${iso(s.endsAt)} (${formatDuration(s.endsAt - Math.max(now, s.startsAt))}): ${s.id}\n`,
        );
      }),
    );

  alerts
    .command('silences')
    .description('silences in force or scheduled (--all: also ended ones), and maintenance windows')
    .option('--all', 'include ended silences')
    .option('--json', 'print JSON')
    .action((_o, cmd: Command) =>
      run(cmd, async (o, config) => {
        const now = systemClock.now();
        const list = ((await withStore(config, false, (s) => s.silences.list(200))) ?? [])
          .map((s) => silenceView(s, now))
          .filter((s) => o.all || s.state !== 'expired');
        const windows = new MaintenanceCalendar(config.alerting.maintenance).status(now);
        if (o.json) return printJson({ silences: list, maintenance: windows });
        if (list.length === 0) process.stdout.write('no silences\n');
        else {
          const rows = list.map((s) => [
            s.id,
            s.state,
            JSON.stringify(s.matchers),
            iso(s.startsAt),
            iso(s.expiredAt ?? s.endsAt),
            s.createdBy,
            s.comment,
          ]);
          process.stdout.write(table(['id', 'state', 'matches', 'starts', 'ends', 'by', 'comment'], rows));
        }
        for (const w of windows) {
          const when = w.active
            ? `open until ${iso(w.end)}`
            : w.start !== null
              ? `next ${iso(w.start)}`
              : 'over';
          process.stdout.write(`maintenance ${w.name}: ${when}${w.comment ? ` (${w.comment})` : ''}\n`);
        }
      }),
    );

  alerts
    .command('expire <silenceId>')
    .description('end a silence now')
    .option('--by <name>', 'who (default: cli:<your user name>)')
    .action((id: string, _o, cmd: Command) =>
      run(cmd, async (o, config) => {
        const s = await withActions(config, false, (actions) => actions.expireSilence(id, actor(o)));
        if (!s) throw new ProdmonError('PRODMON_E_NOT_FOUND', `no silence with id "${id}"`);
        process.stdout.write(`expired ${s.id}\n`);
        return EXIT.ok;
      }),
    );
}
