/**
 * `prodmon start --daemon`: the monitor detached in the background. The parent validates the config,
 * spawns itself with `--daemon-child`, waits until `GET /health/` answers, prints the pid and URL and
 * exits. The child owns the pid file (`config.paths.pid`) and a state file beside it (URL, start time,
 * and how it stopped), logs to the application log, and removes the pid file when it stops.
 * A foreground `prodmon start` claims the same two files, so `status` and `stop` find either.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ResolvedConfig } from '../config/load.js';
import { errorMessage, ProdmonError } from '../core/errors.js';
import { VERSION } from '../version.js';
import { dashboardUrl, EXIT, ensureDataDir, printJson } from './common.js';
import { type FirstRunSignIn, firstRunLines } from './first-run.js';

/** The marker argument of the detached process (also how `stop` recognises it in /proc). */
export const DAEMON_CHILD_FLAG = '--daemon-child';

/** How a monitor with a pid file runs: detached (`start --daemon`) or in a terminal (`start`). */
export type RunMode = 'daemon' | 'foreground';

/** What the daemon (or a foreground start) writes about itself. */
export interface DaemonState {
  pid: number;
  /** Absent in files written before foreground starts had one: a daemon. */
  mode?: RunMode;
  url: string | null;
  dashboard: string | null;
  startedAt: number;
  version: string;
  instance: string;
  /** Set when it stopped: when and with which exit code. */
  stopped?: { at: number; code: number };
}

/** Files of the daemon of a data directory. */
export function daemonFiles(config: ResolvedConfig): { pid: string; state: string; out: string } {
  const dir = dirname(config.paths.pid);
  return { pid: config.paths.pid, state: join(dir, 'prodmon.daemon.json'), out: join(dir, 'daemon.out') };
}

/** Whether a process with this pid exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether `pid` runs a prodmon daemon or `prodmon start` (false: a reused pid); null where /proc cannot
 * tell. The command line names the binary (`prodmon`, or the CLI entry `cli/run`) and `start`.
 */
export function isMonitorProcess(pid: number): boolean | null {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (args.includes(DAEMON_CHILD_FLAG)) return true;
    return args.includes('start') && args.some((a) => /prodmon|[\\/]cli[\\/]run\.[cm]?[jt]s$/.test(a));
  } catch {
    return existsSync('/proc/self') ? false : null;
  }
}

/** The state file, if readable. */
export function readDaemonState(config: ResolvedConfig): DaemonState | null {
  try {
    return JSON.parse(readFileSync(daemonFiles(config).state, 'utf8')) as DaemonState;
  } catch {
    return null;
  }
}

/** What the pid file says. */
export type DaemonProbe =
  | { state: 'none'; last: DaemonState | null }
  | { state: 'running'; pid: number; info: DaemonState | null }
  | { state: 'stale'; pid: number | null; reason: string };

/** Reads the pid file and checks the process it names. */
export function probeDaemon(config: ResolvedConfig): DaemonProbe {
  const files = daemonFiles(config);
  let text: string;
  try {
    text = readFileSync(files.pid, 'utf8');
  } catch {
    return { state: 'none', last: readDaemonState(config) };
  }
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0)
    return { state: 'stale', pid: null, reason: 'the pid file is unreadable' };
  if (!isAlive(pid)) return { state: 'stale', pid, reason: `pid ${pid} is not running` };
  if (isMonitorProcess(pid) === false)
    return { state: 'stale', pid, reason: `pid ${pid} is another program` };
  const info = readDaemonState(config);
  return { state: 'running', pid, info: info?.pid === pid ? info : null };
}

/** Removes the pid file and the state file. */
export function removeDaemonFiles(config: ResolvedConfig): void {
  const files = daemonFiles(config);
  rmSync(files.pid, { force: true });
  rmSync(files.state, { force: true });
}

function writeState(config: ResolvedConfig, state: DaemonState): void {
  const path = daemonFiles(config).state;
  writeFileSync(`${path}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}

/** Claims the pid file for this process; throws when a live daemon already has it. */
function claimPidFile(config: ResolvedConfig): void {
  const path = daemonFiles(config).pid;
  try {
    writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const probe = probeDaemon(config);
  if (probe.state === 'running' && probe.pid !== process.pid) {
    const where = probe.info?.url ? `, ${probe.info.url}` : '';
    throw new ProdmonError(
      'PRODMON_E_CONFLICT',
      `prodmon is already running from ${config.dataDir} (pid ${probe.pid}${where})`,
    );
  }
  writeFileSync(path, `${process.pid}\n`);
}

/**
 * The monitor's own process (the detached child, or a foreground `start`): claims the pid file, runs
 * the monitor, records its URL once it listens and how it ended, and removes the pid file.
 */
export async function runWithPidFile(
  config: ResolvedConfig,
  mode: RunMode,
  run: (hooks: { onListening(url: string): void }) => Promise<number>,
): Promise<number> {
  ensureDataDir(config.dataDir);
  claimPidFile(config);
  const state: DaemonState = {
    pid: process.pid,
    mode,
    url: null,
    dashboard: null,
    startedAt: Date.now(),
    version: VERSION,
    instance: config.instanceId,
  };
  writeState(config, state);
  let code: number = EXIT.failed;
  try {
    code = await run({
      onListening(url) {
        state.url = url;
        state.dashboard = dashboardUrl(config, url);
        writeState(config, state);
      },
    });
    return code;
  } finally {
    writeState(config, { ...state, stopped: { at: Date.now(), code } });
    const pidFile = daemonFiles(config).pid;
    try {
      if (Number(readFileSync(pidFile, 'utf8').trim()) === process.pid) rmSync(pidFile, { force: true });
    } catch {
      // already gone
    }
  }
}

function tail(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** `start --daemon`: spawns the detached monitor and waits until it answers; resolves with the exit code. */
export async function startDaemon(
  config: ResolvedConfig,
  o: { childArgs: string[]; json?: boolean; timeoutMs?: number; signIn?: FirstRunSignIn | null },
): Promise<number> {
  ensureDataDir(config.dataDir);
  const files = daemonFiles(config);
  const probe = probeDaemon(config);
  if (probe.state === 'running') {
    const where = probe.info?.url ? `, ${probe.info.url}` : '';
    throw new ProdmonError(
      'PRODMON_E_CONFLICT',
      `prodmon is already running from ${config.dataDir} (pid ${probe.pid}${where})`,
    );
  }
  if (probe.state === 'stale') {
    removeDaemonFiles(config);
    if (!o.json) process.stderr.write(`prodmon: removed a stale pid file (${probe.reason})\n`);
  }
  rmSync(files.state, { force: true });
  const out = openSync(files.out, 'w');
  const child = spawn(
    process.execPath,
    [...process.execArgv, process.argv[1]!, 'start', DAEMON_CHILD_FLAG, ...o.childArgs],
    {
      detached: true,
      stdio: ['ignore', out, out],
      cwd: process.cwd(),
      env: process.env,
    },
  );
  closeSync(out);
  let exited: number | null = null;
  child.on('exit', (code, signal) => {
    exited = code ?? (signal ? 128 : 1);
  });
  const deadline = Date.now() + (o.timeoutMs ?? 30_000);
  let health: { status: number; body: string } | null = null;
  let state: DaemonState | null = null;
  while (Date.now() < deadline && exited === null && !health) {
    await new Promise((r) => setTimeout(r, 100));
    state = readDaemonState(config);
    if (!state || state.pid !== child.pid || !state.url) continue;
    try {
      const res = await fetch(`${state.url}${config.server.prefix}/health/`, {
        signal: AbortSignal.timeout(2000),
      });
      health = { status: res.status, body: await res.text() };
    } catch {
      // not answering yet
    }
  }
  if (!health || !state?.url) {
    if (exited === null) child.kill('SIGTERM');
    const why = tail(files.out);
    const code: number = exited ?? EXIT.failed;
    process.stderr.write(
      exited === null
        ? `prodmon: the daemon did not answer GET /health/ within ${Math.round((o.timeoutMs ?? 30_000) / 1000)} s; stopped it\n`
        : `prodmon: the daemon exited with code ${exited} before it was ready\n`,
    );
    if (why) process.stderr.write(`${why}\n`);
    return code === EXIT.usage ? EXIT.usage : EXIT.failed;
  }
  child.unref();
  const ready: DaemonState = state!;
  let status = 'unknown';
  try {
    status = (JSON.parse(health.body) as { status?: string }).status ?? status;
  } catch (err) {
    status = `HTTP ${health.status} (${errorMessage(err)})`;
  }
  const info = {
    pid: child.pid,
    url: ready.url,
    dashboard: ready.dashboard,
    status,
    logs: config.paths.logs,
    pidFile: files.pid,
    // The first-run token is shown once, when this start made it.
    ...(o.signIn
      ? { signIn: { tokenFile: o.signIn.file, ...(o.signIn.created ? { token: o.signIn.token } : {}) } }
      : {}),
  };
  if (o.json) printJson(info);
  else {
    process.stdout.write(
      `prodmon ${VERSION} started in the background (pid ${child.pid})\n` +
        `listening on ${ready.url} (health: ${status})\n` +
        `dashboard: ${ready.dashboard}\n` +
        (o.signIn ? firstRunLines(o.signIn) : '') +
        `logs: ${config.paths.logs}\n` +
        `stop it with: prodmon stop${config.dataDir === join(process.cwd(), '.prodmon') ? '' : ` --data-dir ${config.dataDir}`}\n`,
    );
  }
  return EXIT.ok;
}
