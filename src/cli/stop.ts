/**
 * `prodmon stop`: stops the daemon started from the same data directory. Sends SIGTERM, waits for the
 * graceful stop and reports how it ended; a stale pid file is detected and removed; with nothing
 * running it says so and exits 1. `--force` kills a daemon that does not stop in time.
 */
import type { Command } from 'commander';
import { configDuration } from '../core/duration.js';
import { ProdmonError } from '../core/errors.js';
import { configFrom, EXIT, type GlobalOptions, globalOptions, printJson, runCommand } from './common.js';
import { daemonFiles, isAlive, probeDaemon, readDaemonState, removeDaemonFiles } from './daemon.js';

/** The config fields `stop` reads. */
const STOP_FIELDS = ['data_dir'];

interface StopOptions extends GlobalOptions {
  timeout: string;
  force?: boolean;
}

/** How a stop ended. */
export interface StopOutcome {
  result: 'stopped' | 'killed' | 'still-running' | 'not-running' | 'stale';
  pid: number | null;
  message: string;
  /** Exit code the daemon reported (null when unknown). */
  exitCode: number | null;
  elapsedMs: number;
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !isAlive(pid);
}

/** Stops the daemon of `config`'s data directory. */
export async function stopDaemon(
  config: Parameters<typeof probeDaemon>[0],
  o: { timeoutMs: number; force?: boolean },
): Promise<StopOutcome> {
  const probe = probeDaemon(config);
  const t0 = Date.now();
  if (probe.state === 'none') {
    return {
      result: 'not-running',
      pid: null,
      message: `prodmon is not running from ${config.dataDir} (no pid file at ${daemonFiles(config).pid})`,
      exitCode: null,
      elapsedMs: 0,
    };
  }
  if (probe.state === 'stale') {
    removeDaemonFiles(config);
    return {
      result: 'stale',
      pid: probe.pid,
      message: `prodmon is not running: removed a stale pid file (${probe.reason})`,
      exitCode: null,
      elapsedMs: 0,
    };
  }
  const { pid } = probe;
  process.kill(pid, 'SIGTERM');
  if (await waitGone(pid, o.timeoutMs)) {
    const elapsedMs = Date.now() - t0;
    const state = readDaemonState(config);
    const code = state?.pid === pid && state.stopped ? state.stopped.code : null;
    const cleaned = !probeDaemonFile(config);
    removeDaemonFiles(config);
    const how =
      code === null
        ? cleaned
          ? 'stopped'
          : 'exited without removing its pid file (removed now)'
        : code === 0
          ? 'stopped gracefully'
          : `stopped with exit code ${code}`;
    return {
      result: 'stopped',
      pid,
      message: `prodmon (pid ${pid}) ${how} in ${(elapsedMs / 1000).toFixed(1)} s`,
      exitCode: code,
      elapsedMs,
    };
  }
  const secs = Math.round(o.timeoutMs / 1000);
  if (!o.force) {
    return {
      result: 'still-running',
      pid,
      message: `prodmon (pid ${pid}) has not stopped after ${secs} s and is still running; use --force to kill it`,
      exitCode: null,
      elapsedMs: Date.now() - t0,
    };
  }
  process.kill(pid, 'SIGKILL');
  await waitGone(pid, 5000);
  removeDaemonFiles(config);
  return {
    result: 'killed',
    pid,
    message: `prodmon (pid ${pid}) did not stop within ${secs} s: killed (SIGKILL), pid file removed`,
    exitCode: null,
    elapsedMs: Date.now() - t0,
  };
}

function probeDaemonFile(config: Parameters<typeof probeDaemon>[0]): boolean {
  return probeDaemon(config).state !== 'none';
}

export function registerStop(program: Command): void {
  program
    .command('stop')
    .description('stop the daemon started from the same data directory, gracefully')
    .option('--timeout <duration>', 'how long to wait for a graceful stop', '30s')
    .option('--force', 'kill the daemon (SIGKILL) if it has not stopped by then')
    .option('--json', 'print the outcome as JSON')
    .action(async (_o, cmd: Command) => {
      const opts = globalOptions(cmd) as StopOptions;
      await runCommand(opts, async () => {
        // The config's rule for durations: a unit is required (`--timeout 30` is not 30 ms).
        const timeout = configDuration(opts.timeout, { min: '100ms', max: '1h' });
        if (!timeout.ok)
          throw new ProdmonError('PRODMON_E_CONFIG', `--timeout: ${timeout.problem}`, { exitCode: 2 });
        const timeoutMs = timeout.value;
        // Only the data directory is read: a `${VAR}` elsewhere (a token, a webhook URL) may be unset.
        const config = configFrom(opts, { pick: STOP_FIELDS });
        const r = await stopDaemon(config, { timeoutMs, force: opts.force });
        if (opts.json) printJson(r);
        else (r.result === 'stopped' ? process.stdout : process.stderr).write(`${r.message}\n`);
        return r.result === 'stopped' ? EXIT.ok : EXIT.failed;
      });
    });
}
