import { type Command, Option } from 'commander';
import { App } from '../app.js';
import type { ResolvedConfig } from '../config/load.js';
import { errorMessage, ProdmonError } from '../core/errors.js';
import { tuneGcForStandalone } from '../core/gc.js';
import { VERSION } from '../version.js';
import {
  configFrom,
  dashboardUrl,
  EXIT,
  ensureDataDir,
  type GlobalOptions,
  globalOptions,
  runCommand,
} from './common.js';
import { runWithPidFile, startDaemon } from './daemon.js';
import { type FirstRunSignIn, firstRunLines, firstRunSignIn, firstRunToken } from './first-run.js';
import { takeEarlySignals } from './signals.js';

interface StartOptions extends GlobalOptions {
  host?: string;
  port?: string;
  daemon?: boolean;
  daemonChild?: boolean;
}

function parsePort(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new ProdmonError('PRODMON_E_CONFIG', `--port: expected a port number 0-65535, got "${text}"`, {
      exitCode: 2,
    });
  }
  return n;
}

/**
 * Runs the monitor until a signal; resolves with the exit code. `onListening` hears the URL once it
 * serves; `signIn` (a first-run token) is told about under the dashboard URL.
 */
export async function runForeground(
  config: ResolvedConfig,
  hooks: { onListening?(url: string): void; signIn?: FirstRunSignIn | null } = {},
): Promise<number> {
  process.stdout.write(`prodmon ${VERSION} starting (data dir ${config.dataDir})\n`);
  ensureDataDir(config.dataDir);
  tuneGcForStandalone(); // this process is prodmon alone (see src/core/gc.ts)
  const app = new App(config);
  let signals = 0;
  let stopRequested!: () => void;
  const stopping = new Promise<void>((r) => {
    stopRequested = r;
  });
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      process.stderr.write(`prodmon: second ${sig}, exiting now\n`);
      process.exit(EXIT.failed);
    }
    process.stderr.write(`prodmon: ${sig} received, stopping gracefully (send again to force)\n`);
    stopRequested();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  for (const sig of takeEarlySignals()) onSignal(sig);
  try {
    await app.start();
    if (signals === 0) {
      let url: string;
      try {
        url = await app.listen();
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const where = `${config.server.host}:${config.server.port}`;
        throw new ProdmonError(
          'PRODMON_E_LISTEN',
          code === 'EADDRINUSE'
            ? `port ${where} is already in use; choose another with --port or server.port`
            : `cannot listen on ${where}: ${errorMessage(err)}`,
          { exitCode: 2, cause: err },
        );
      }
      const store = config.store.driver === 'sqlite' ? `sqlite ${config.paths.db}` : 'postgres';
      process.stdout.write(
        `prodmon ${VERSION} listening on ${url} (store: ${store}, logs: ${config.paths.logs})\n` +
          `dashboard: ${dashboardUrl(config, url)}\n` +
          (hooks.signIn ? firstRunLines(hooks.signIn) : ''),
      );
      app.logger.app.info({ url, instance: config.instanceId, version: VERSION }, 'prodmon started');
      hooks.onListening?.(url);
      await stopping;
    }
    await app.stop();
    process.stdout.write('prodmon stopped\n');
    return EXIT.ok;
  } catch (err) {
    await app.stop().catch(() => {});
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export function registerStart(program: Command): void {
  program
    .command('start')
    .description(
      'run the monitor (HTTP server, checks, alerting, jobs) in the foreground, or detached with --daemon',
    )
    .option('--host <host>', 'address to listen on (default: server.host, 127.0.0.1)')
    .option('-p, --port <port>', 'port to listen on (default: server.port, 9464)')
    .option('--daemon', 'detach: run in the background with a pid file, return once GET /health/ answers')
    .option('--json', 'with --daemon: print the pid and URL as JSON')
    .addOption(new Option('--daemon-child', 'the detached process itself (internal)').hideHelp())
    .action(async (_o, cmd: Command) => {
      const opts = globalOptions(cmd) as StartOptions;
      let secrets: readonly string[] = [];
      await runCommand(
        opts,
        async () => {
          const port = parsePort(opts.port);
          const overrides = {
            server: { ...(opts.host ? { host: opts.host } : {}), ...(port !== undefined ? { port } : {}) },
            // The detached process logs to the application log only: it has no terminal.
            ...(opts.daemonChild ? { logs: { stdout: false } } : {}),
          };
          let config = configFrom(opts, { overrides });
          // No way to sign in configured: the first-run admin token opens the dashboard.
          ensureDataDir(config.dataDir);
          const signIn = firstRunSignIn(config);
          if (signIn)
            config = configFrom(opts, {
              overrides: { ...overrides, auth: { tokens: [firstRunToken(signIn)] } },
            });
          secrets = config.secrets;
          if (opts.daemonChild) {
            // Its output goes to daemon.out: the token itself is told by the parent, on the terminal.
            const quiet = signIn && { ...signIn, created: false };
            return runWithPidFile(config, 'daemon', (hooks) =>
              runForeground(config, { ...hooks, signIn: quiet }),
            );
          }
          if (opts.daemon) {
            const childArgs = [
              '--data-dir',
              config.dataDir,
              ...(config.source ? ['--config', config.source] : []),
            ];
            if (opts.host) childArgs.push('--host', opts.host);
            if (port !== undefined) childArgs.push('--port', String(port));
            return startDaemon(config, { childArgs, json: opts.json, signIn });
          }
          return runWithPidFile(config, 'foreground', (hooks) => runForeground(config, { ...hooks, signIn }));
        },
        () => secrets,
      );
    });
}
