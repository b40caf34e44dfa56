/**
 * `prodmon baseline save|list|show|delete|compare`: the deployment gate. On the store of the config
 * and data directory (no server needed), or, with `--url` and `--token` (`PRODMON_URL`,
 * `PRODMON_TOKEN`), through a running prodmon's HTTP API, as pipelines do. `compare` exits 0 (no
 * regression), 1 (regression), 2 (usage, config or connection error: nothing was compared) or 3
 * (inconclusive: too little data).
 */
import { writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import type { GateResult } from '../baseline/compare.js';
import { num } from '../baseline/compare.js';
import { renderBaselineList, renderCompareText, renderJunit } from '../baseline/render.js';
import { cliLabel, parseCompareRequest, parseName, parseSaveRequest } from '../baseline/request.js';
import {
  type BaselineView,
  baselineView,
  compareBaseline,
  deleteBaseline,
  type GateDeps,
  type GateReport,
  listBaselines,
  requireBaseline,
  saveBaseline,
} from '../baseline/service.js';
import type { ResolvedConfig } from '../config/load.js';
import { scrub } from '../config/mask.js';
import { systemClock } from '../core/clock.js';
import { errorMessage, ProdmonError } from '../core/errors.js';
import type { BaselineInfo } from '../domain/baseline.js';
import type { Store } from '../store/index.js';
import { configFrom, type GlobalOptions, globalOptions, printJson } from './common.js';
import { openDataStore } from './status.js';

type Opts = GlobalOptions & Record<string, unknown>;

/** How long a remote call may take (a comparison reads up to a day of minutes). */
const REMOTE_TIMEOUT_MS = 120_000;

/** Who acts from the command line: `--by`, else `cli:<os user>`. */
function actor(o: Opts): string {
  if (typeof o.by === 'string' && o.by.trim()) return o.by.trim();
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

/** A running prodmon to call instead of the store, from `--url`/`--token` or the environment. */
interface Remote {
  url: string;
  token: string;
}

function remoteOf(o: Opts): Remote | null {
  const url = (o.url as string | undefined) ?? process.env.PRODMON_URL;
  const token = (o.token as string | undefined) ?? process.env.PRODMON_TOKEN;
  if (!url) {
    if (o.token !== undefined)
      throw new ProdmonError('PRODMON_E_CONFIG', '--token needs --url (or PRODMON_URL)', { exitCode: 2 });
    return null;
  }
  let u: URL;
  try {
    u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw new ProdmonError(
      'PRODMON_E_CONFIG',
      `--url: expected an http(s) URL of a running prodmon, got "${url}"`,
      {
        exitCode: 2,
      },
    );
  }
  if (!token)
    throw new ProdmonError('PRODMON_E_CONFIG', '--url needs a token: --token or PRODMON_TOKEN', {
      exitCode: 2,
    });
  return { url: u.href.replace(/\/+$/, ''), token };
}

/** Calls the HTTP API; an error answer becomes a ProdmonError with the server's message (exit 2). */
async function call<T>(remote: Remote, method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${remote.url}/production/api/baselines${path}`, {
      method,
      headers: {
        authorization: `Bearer ${remote.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REMOTE_TIMEOUT_MS),
    });
  } catch (err) {
    throw new ProdmonError('PRODMON_E_INTERNAL', `cannot reach ${remote.url}: ${errorMessage(err)}`, {
      exitCode: 2,
      cause: err,
    });
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    const message = (json as { error?: { message?: string } } | null)?.error?.message ?? text.slice(0, 200);
    throw new ProdmonError('PRODMON_E_BAD_REQUEST', `${remote.url} answered ${res.status}: ${message}`, {
      exitCode: 2,
    });
  }
  return json as T;
}

/** The local store; `create: false` answers null when an SQLite store does not exist yet. */
async function withStore<T>(
  config: ResolvedConfig,
  create: boolean,
  fn: (store: Store) => Promise<T>,
): Promise<T | null> {
  const store = await openDataStore(config, { create });
  if (!store) return null;
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

function gateDeps(store: Store, config: ResolvedConfig): GateDeps {
  return {
    store,
    clock: systemClock,
    deployments: store.deployments,
    settleMs: config.metrics.flush_interval,
  };
}

const noStore = (config: ResolvedConfig) =>
  new ProdmonError(
    'PRODMON_E_STORE',
    `no store at ${config.paths.db} (prodmon has not run from ${config.dataDir}; or give --url of a running prodmon)`,
    { exitCode: 2 },
  );

/** What a subcommand's body gets besides its options. */
interface Ctx {
  /** The local config (loaded once; its secrets are then scrubbed from failures). */
  config(): ResolvedConfig;
}

/**
 * Runs a subcommand: every failure ends with its message and exit 2 or more — never 1, which `compare`
 * keeps for a regression. Secrets (the config's, the token) are scrubbed from messages.
 */
async function run(
  cmd: Command,
  body: (o: Opts, remote: Remote | null, ctx: Ctx) => Promise<number | undefined>,
): Promise<void> {
  const o = globalOptions(cmd) as Opts;
  const secrets: string[] = [];
  let config: ResolvedConfig | undefined;
  const ctx: Ctx = {
    config() {
      if (!config) {
        config = configFrom(o);
        secrets.push(...config.secrets);
      }
      return config;
    },
  };
  try {
    const remote = remoteOf(o);
    if (remote) secrets.push(remote.token);
    const code = await body(o, remote, ctx);
    process.exitCode = code ?? 0;
  } catch (err) {
    const message = errorMessage(err);
    process.stderr.write(`prodmon: ${scrub(message, secrets)}\n`);
    if (o.verbose && err instanceof Error && err.stack)
      process.stderr.write(`${scrub(err.stack, secrets)}\n`);
    process.exitCode = Math.max(2, err instanceof ProdmonError ? err.exitCode : 2);
  }
}

/** `2026-03-03 08:00Z`, `2026-03-03 08:00:12Z`. */
const iso = (t: number) =>
  new Date(t)
    .toISOString()
    .replace('T', ' ')
    .replace(/(:00)?\.\d+Z$/, 'Z');
const ms = (v: number | null) => (v === null ? '-' : `${num(v)} ms`);

function savedText(b: BaselineInfo): string {
  return `saved baseline "${b.name}": ${iso(b.from)} to ${iso(b.until)} (${Math.round((b.until - b.from) / 60_000)} min, ${
    b.instance ? `instance ${b.instance}` : 'all instances'
  }, ${b.route ? `routes ${b.route}` : 'all routes'}): ${b.requests} requests, ${b.errors} failed, ${b.routes} routes\n`;
}

function showText(b: BaselineView): string {
  const lines = [
    `baseline "${b.name}": ${iso(b.from)} to ${iso(b.until)}, ${b.instance ? `instance ${b.instance}` : 'all instances'}, ${
      b.route ? `routes ${b.route}` : 'all routes'
    }; saved ${iso(b.createdAt)} by ${b.createdBy}`,
  ];
  const row = (label: string, s: BaselineView['overall']) =>
    `  ${label.padEnd(40)} ${String(s.requests).padStart(8)} req  ${
      s.errorRate === null ? '-' : `${num(s.errorRate * 100)} %`
    } failed  p50 ${ms(s.p50)}  p95 ${ms(s.p95)}  p99 ${ms(s.p99)}  ${s.minutes.length} min`;
  lines.push(row('overall', b.overall), ...b.series.map((s) => row(s.key, s)));
  return `${lines.join('\n')}\n`;
}

/** The options shared by every subcommand. */
function remoteOptions(c: Command): Command {
  return c
    .option('--url <url>', 'a running prodmon to ask instead of the local store (or PRODMON_URL)')
    .option('--token <token>', 'its API token (or PRODMON_TOKEN, which stays out of the process list)');
}

/** Registers `prodmon baseline ...`. */
export function registerBaseline(program: Command): void {
  const baseline = program
    .command('baseline')
    .description('deployment gate: save request baselines and compare the current window with one');

  remoteOptions(
    baseline
      .command('save <name>')
      .description('save the figures of a window (default the last 30m) per route under a name')
      .option('--since <duration>', 'the window: this long back from now (default 30m)')
      .option('--from <time>', 'the window: from this time (ISO date-time or a duration ago, with --to)')
      .option('--to <time>', 'the window: up to this time')
      .option('--instance <id>', 'only this instance')
      .option('--route <glob>', 'only routes matching this glob ("/api/**", "GET /api/*")')
      .option('--force', 'replace a baseline of this name')
      .option('--by <name>', 'who (default cli:<your user name>; over --url the token name)')
      .option('--json', 'print JSON'),
  ).action((name: string, _o, cmd: Command) =>
    run(cmd, async (o, remote, ctx) => {
      const input = {
        name,
        since: o.since,
        from: o.from,
        to: o.to,
        instance: o.instance,
        route: o.route,
        force: o.force === true ? true : undefined,
      };
      // Validated here in either mode, so a bad flag is named as the flag.
      const request = parseSaveRequest(strip(input), cliLabel, systemClock.now());
      let info: BaselineInfo;
      if (remote) {
        info = (await call<{ baseline: BaselineInfo }>(remote, 'POST', '', strip(input))).baseline;
      } else {
        const config = ctx.config();
        info = (await withStore(config, true, (store) =>
          saveBaseline(gateDeps(store, config), request, actor(o)),
        ))!;
      }
      if (o.json) printJson({ baseline: info });
      else process.stdout.write(savedText(info));
      return 0;
    }),
  );

  remoteOptions(
    baseline.command('list').description('saved baselines, newest first').option('--json', 'print JSON'),
  ).action((_o, cmd: Command) =>
    run(cmd, async (o, remote, ctx) => {
      const list = remote
        ? (await call<{ baselines: BaselineInfo[] }>(remote, 'GET', '')).baselines
        : ((await withStore(ctx.config(), false, (store) => listBaselines(store))) ?? []);
      if (o.json) printJson({ baselines: list });
      else process.stdout.write(renderBaselineList(list));
      return 0;
    }),
  );

  remoteOptions(
    baseline
      .command('show <name>')
      .description('one baseline: its window and figures per route')
      .option('--json', 'print JSON'),
  ).action((name: string, _o, cmd: Command) =>
    run(cmd, async (o, remote, ctx) => {
      const n = parseName(name, cliLabel);
      let view: BaselineView;
      if (remote)
        view = (await call<{ baseline: BaselineView }>(remote, 'GET', `/${encodeURIComponent(n)}`)).baseline;
      else {
        const config = ctx.config();
        const found = await withStore(config, false, async (store) =>
          baselineView(await requireBaseline(store, n)),
        );
        if (!found) throw noStore(config);
        view = found;
      }
      if (o.json) printJson({ baseline: view });
      else process.stdout.write(showText(view));
      return 0;
    }),
  );

  remoteOptions(
    baseline
      .command('delete <name>')
      .description('delete a baseline')
      .option('--by <name>', 'who (default cli:<your user name>; over --url the token name)'),
  ).action((name: string, _o, cmd: Command) =>
    run(cmd, async (o, remote, ctx) => {
      const n = parseName(name, cliLabel);
      if (remote) await call(remote, 'DELETE', `/${encodeURIComponent(n)}`);
      else {
        const config = ctx.config();
        const done = await withStore(config, false, (store) =>
          deleteBaseline({ store, clock: systemClock }, n, actor(o)).then(() => true),
        );
        if (!done) throw noStore(config);
      }
      process.stdout.write(`deleted baseline "${n}"\n`);
      return 0;
    }),
  );

  remoteOptions(
    baseline
      .command('compare [name]')
      .description(
        'compare the last --since with a baseline, or with the time before a deploy; exit 0 ok, 1 regression, 3 inconclusive',
      )
      .option(
        '--before-deploy <version>',
        'compare with as long just before the deploy marker of this version',
      )
      .option('--since <duration>', 'the current window: this long back (default 10m)')
      .option('--until <time>', 'end of the current window (default now)')
      .option('--instance <id>', "only this instance (default the baseline's)")
      .option('--route <glob>', "only routes matching this glob (default the baseline's)")
      .option('--max-p95 <increase>', 'allowed p95 increase, e.g. +10% (default), or off')
      .option('--max-p99 <increase>', 'allowed p99 increase, e.g. +20% (default off)')
      .option(
        '--max-error-rate <points>',
        'allowed error rate increase in percentage points (default +0.5pp), or off',
      )
      .option('--min-requests <n>', 'requests a route needs in each window to be judged (default 200)')
      .option('--min-delta <duration>', 'a latency increase up to this is never a regression (default 5ms)')
      .option('--alpha <p>', 'chance of a false alarm over all routes and criteria (default 0.05)')
      .option('--json', 'print JSON')
      .option('--junit <file>', 'also write JUnit XML: one testcase per route and criterion'),
  ).action((name: string | undefined, _o, cmd: Command) =>
    run(cmd, async (o, remote, ctx) => {
      const input = strip({
        baseline: name,
        before_deploy: o.beforeDeploy,
        since: o.since,
        until: o.until,
        instance: o.instance,
        route: o.route,
        max_p95: o.maxP95,
        max_p99: o.maxP99,
        max_error_rate: o.maxErrorRate,
        min_requests: o.minRequests,
        min_delta: o.minDelta,
        alpha: o.alpha,
      });
      // Validated here in either mode, so a bad flag is named as the flag.
      const request = parseCompareRequest(input, cliLabel, systemClock.now());
      let report: GateReport;
      if (remote) report = await call<GateReport>(remote, 'POST', '/compare', input);
      else {
        const config = ctx.config();
        const r = await withStore(config, false, (store) =>
          compareBaseline(gateDeps(store, config), request),
        );
        if (!r) throw noStore(config);
        report = r;
      }
      if (typeof o.junit === 'string') {
        try {
          writeFileSync(o.junit, renderJunit(report));
        } catch (err) {
          throw new ProdmonError(
            'PRODMON_E_CONFIG',
            `--junit: cannot write ${o.junit}: ${errorMessage(err)}`,
            {
              exitCode: 2,
            },
          );
        }
      }
      if (o.json) printJson(report);
      else process.stdout.write(renderCompareText(report));
      return exitOf(report);
    }),
  );
}

/** The exit code of a comparison (what the server computed, checked). */
function exitOf(r: GateResult): number {
  return r.exitCode === 0 || r.exitCode === 1 || r.exitCode === 3 ? r.exitCode : 2;
}

/** The object without its undefined values (what is sent, and what the schema sees). */
function strip<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
