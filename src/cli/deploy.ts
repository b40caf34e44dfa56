/**
 * `prodmon deploy mark|list`: deploy markers. Like `prodmon alerts`, directly on the store of the config
 * and data directory; with `--url` (or `PRODMON_URL`) through a running prodmon's HTTP API instead,
 * authenticated by `--token` (or `PRODMON_TOKEN`): what a CI/CD pipeline on another machine runs.
 * Recording is the one deploy action either way (src/deployments/mark.ts): the same validation (its
 * messages naming the options here), audit row and security log line.
 */

import type { Command } from 'commander';
import type { ResolvedConfig } from '../config/load.js';
import { systemClock } from '../core/clock.js';
import { errorMessage, ProdmonError } from '../core/errors.js';
import { buildDeployment, CLI_FIELDS, markDeployment } from '../deployments/mark.js';
import { deploymentQuery } from '../deployments/query.js';
import type { Deployment } from '../domain/deployment.js';
import { createProductionLogger } from '../logging/index.js';
import { VERSION } from '../version.js';
import { actor, iso, table, withStore } from './alerts.js';
import { type GlobalOptions, globalOptions, printJson, runCommand, runWithConfig } from './common.js';

type Opts = GlobalOptions & Record<string, unknown>;

/** How long a request to a remote prodmon may take. */
export const REMOTE_TIMEOUT_MS = 30_000;

const usage = (message: string) => new ProdmonError('PRODMON_E_CONFIG', message, { exitCode: 2 });

/** Where a remote command goes: the base URL and the token, from the options or the environment. */
interface Remote {
  url: URL;
  token: string;
}

/** The remote of the options (`--url`, `--token`, else `PRODMON_URL`, `PRODMON_TOKEN`); null: local. */
function remoteOf(o: Opts, env: NodeJS.ProcessEnv = process.env): Remote | null {
  const raw = typeof o.url === 'string' ? o.url : env.PRODMON_URL;
  if (raw === undefined || raw === '') {
    if (typeof o.token === 'string')
      throw usage('--token needs --url (or PRODMON_URL): the prodmon to send to');
    return null;
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usage(
      `--url must be the http(s) address of a prodmon, such as https://prodmon.example; got "${raw}"`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw usage(`--url must be an http(s) address; got "${raw}"`);
  const token = typeof o.token === 'string' ? o.token : env.PRODMON_TOKEN;
  if (!token)
    throw usage('--token (or PRODMON_TOKEN) is required with --url: a token of role deploy or admin');
  return { url, token };
}

/** The API URL of the deployments under a base (which may carry `server.prefix`, such as `/ops`). */
function deploymentsUrl(base: URL, query?: Record<string, string | undefined>): URL {
  const u = new URL('production/api/deployments', base.href.endsWith('/') ? base : `${base.href}/`);
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') u.searchParams.set(k, v);
  return u;
}

/** Calls the API; an error answer ends the command with its message (400: exit 2, else 1). */
async function call(remote: Remote, url: URL, init: RequestInit = {}): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(url, {
      ...init,
      headers: {
        authorization: `Bearer ${remote.token}`,
        'user-agent': `prodmon/${VERSION}`,
        accept: 'application/json',
        ...(init.body ? { 'content-type': 'application/json' } : {}),
      },
      signal: AbortSignal.timeout(REMOTE_TIMEOUT_MS),
    });
  } catch (err) {
    // fetch says "fetch failed"; why (refused, unknown host, timed out) is its cause.
    const cause = (err as { cause?: unknown }).cause;
    const why = `${errorMessage(err)}${cause ? ` (${errorMessage(cause)})` : ''}`;
    throw new ProdmonError('PRODMON_E_INTERNAL', `cannot reach prodmon at ${url.origin}: ${why}`);
  }
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    // not JSON: the status says what happened
  }
  if (!res.ok) {
    const e = body.error as { message?: string } | undefined;
    const why = e?.message ?? (text.slice(0, 200) || res.statusText);
    throw new ProdmonError('PRODMON_E_INTERNAL', `prodmon at ${url.origin} answered ${res.status}: ${why}`, {
      exitCode: res.status === 400 ? 2 : 1,
    });
  }
  return body;
}

/**
 * The version of `deploy mark`: the program takes `--version` for itself (prodmon's version), so the
 * value reaches this command as the program's option (src/cli/main.ts).
 */
function versionOf(cmd: Command): unknown {
  const v = cmd.optsWithGlobals().version;
  if (v === true) throw usage('--version needs a value: the version deployed, e.g. --version v1.4.2');
  return v;
}

/** One marker as a line. */
function markerLine(d: Deployment): string {
  return `recorded deploy ${d.version}${d.instance ? ` on ${d.instance}` : ''} at ${iso(d.at)} by ${d.by}: ${d.id}\n`;
}

function printList(list: readonly Deployment[], json: boolean): void {
  if (json) {
    printJson({ deployments: list });
    return;
  }
  if (list.length === 0) {
    process.stdout.write('no deployments\n');
    return;
  }
  const rows = list.map((d) => [iso(d.at), d.version, d.instance ?? 'all', d.by, d.note ?? '', d.id]);
  process.stdout.write(table(['deployed', 'version', 'instance', 'by', 'note', 'id'], rows));
}

/** Registers `prodmon deploy ...`. */
export function registerDeploy(program: Command): void {
  const deploy = program
    .command('deploy')
    .description(
      'record deploy markers (charts draw them, alerts firing soon after name them) and list them',
    );

  /** Runs a body locally (config and store) or remotely (no config needed), as the options say. */
  const run = (
    cmd: Command,
    local: (o: Opts, config: ResolvedConfig) => Promise<unknown>,
    remote: (o: Opts, r: Remote) => Promise<unknown>,
  ) => {
    const o = globalOptions(cmd) as Opts;
    let r: Remote | null;
    try {
      r = remoteOf(o);
    } catch (err) {
      return runCommand(o, () => Promise.reject(err));
    }
    if (!r) return runWithConfig(o, async (config) => void (await local(o, config)));
    const to = r;
    return runCommand(
      o,
      async () => void (await remote(o, to)),
      () => [to.token],
    );
  };

  deploy
    .command('mark')
    .description('record that a version was deployed (now, or --at)')
    .option('--version <version>', `the version deployed, e.g. v1.4.2 (required)`)
    .option('--instance <name>', 'the instance deployed to (default: the whole service)')
    .option('--note <text>', 'what changed, a link to the pipeline run...')
    .option('--at <time>', 'when, if not now: an ISO date-time or ms since the epoch')
    .option('--by <name>', 'who records it (default: cli:<your user name>; over --url: the token name)')
    .option(
      '--url <url>',
      'record through the prodmon at this address (default: $PRODMON_URL; none: the local store)',
    )
    .option('--token <token>', 'its API token, role deploy or admin (default: $PRODMON_TOKEN)')
    .option('--json', 'print JSON')
    .action((_o, cmd: Command) =>
      run(
        cmd,
        async (o, config) => {
          // An empty --by is refused as such (not taken for none).
          const by = typeof o.by === 'string' ? o.by : actor(o);
          const req = { version: versionOf(cmd), instance: o.instance, note: o.note, at: o.at, by };
          // Validated before the store is opened: bad input changes nothing, not even a new data directory.
          buildDeployment(req, systemClock.now(), CLI_FIELDS);
          const d = (await withStore(config, true, async (store) => {
            const logger = createProductionLogger({
              dir: config.paths.logs,
              config: config.logs,
              clock: systemClock,
              secrets: config.secrets,
            });
            try {
              return await markDeployment({ store, clock: systemClock, logger }, req, CLI_FIELDS);
            } finally {
              await logger.close();
            }
          }))!;
          if (o.json) return printJson({ deployment: d });
          process.stdout.write(markerLine(d));
        },
        async (o, r) => {
          if (typeof o.by === 'string')
            throw usage('--by: a marker recorded over --url is recorded by the name of the token');
          // The same checks as the server's, with the option names, before anything is sent.
          const version = versionOf(cmd);
          const fields = { version, instance: o.instance, note: o.note, at: o.at };
          buildDeployment({ ...fields, by: 'remote' }, systemClock.now(), CLI_FIELDS);
          const body = await call(r, deploymentsUrl(r.url), { method: 'POST', body: JSON.stringify(fields) });
          const d = body.deployment as Deployment;
          if (o.json) return printJson({ deployment: d });
          process.stdout.write(markerLine(d));
        },
      ),
    );

  deploy
    .command('list')
    .description('deploy markers, newest first')
    .option('--since <time>', 'deployed since (ISO time, ms, or a duration back, e.g. 7d)')
    .option('--until <time>', 'deployed before (ISO time, ms, or a duration back)')
    .option('--instance <name>', 'only the markers of this instance')
    .option('--limit <n>', 'at most this many (1 to 1000)', '100')
    .option(
      '--url <url>',
      'list from the prodmon at this address (default: $PRODMON_URL; none: the local store)',
    )
    .option('--token <token>', 'its API token, role read or admin (default: $PRODMON_TOKEN)')
    .option('--json', 'print JSON')
    .action((_o, cmd: Command) =>
      run(
        cmd,
        async (o, config) => {
          const q = deploymentQuery(
            { since: o.since, until: o.until, instance: o.instance, limit: o.limit },
            systemClock.now(),
          );
          printList((await withStore(config, false, (s) => s.deployments.list(q))) ?? [], o.json === true);
        },
        async (o, r) => {
          // Checked here first: a bad value is refused naming the option, exit 2, before any request.
          const params = { since: o.since, until: o.until, instance: o.instance, limit: o.limit };
          deploymentQuery(params, systemClock.now());
          const body = await call(r, deploymentsUrl(r.url, params as Record<string, string | undefined>));
          printList((body.deployments as Deployment[]) ?? [], o.json === true);
        },
      ),
    );
}
