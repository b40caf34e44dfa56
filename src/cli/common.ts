/** What every command shares: global options, config loading, output (table or JSON), colours, exit codes. */
import { accessSync, constants, mkdirSync } from 'node:fs';
import { styleText } from 'node:util';
import type { Command } from 'commander';
import { ConfigError, type LoadOptions, loadConfig, type ResolvedConfig } from '../config/load.js';
import { scrub } from '../config/mask.js';
import { errorMessage, ProdmonError } from '../core/errors.js';

/** Exit codes (DESIGN.md): 0 ok, 1 unhealthy/failed, 2 usage or config error. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Options every command accepts. */
export interface GlobalOptions {
  config?: string;
  dataDir?: string;
  json?: boolean;
  verbose?: boolean;
}

/** The options of `cmd` merged with the program's global ones. */
export function globalOptions(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

/** Loads the config named by the global options (exits 2 with the problems if it is bad). */
export function configFrom(opts: GlobalOptions, extra: Partial<LoadOptions> = {}): ResolvedConfig {
  return loadConfig({ configPath: opts.config, dataDir: opts.dataDir, ...extra });
}

/** Whether colours may be used on this stream (a terminal, and NO_COLOR unset). */
export function colorEnabled(stream: NodeJS.WriteStream = process.stdout): boolean {
  return Boolean(stream.isTTY) && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
}

type Style = Parameters<typeof styleText>[0];
/** `text` in a style when colours are enabled. */
export function paint(style: Style, text: string, stream: NodeJS.WriteStream = process.stdout): string {
  return colorEnabled(stream) ? styleText(style, text) : text;
}

/** Colour for a status word. */
export function statusColor(status: string): Style {
  if (status === 'healthy' || status === 'ok' || status === 'resolved' || status === 'delivered')
    return 'green';
  if (status === 'degraded' || status === 'pending' || status === 'medium' || status === 'high')
    return 'yellow';
  if (status === 'unhealthy' || status === 'critical' || status === 'firing' || status === 'failed')
    return 'red';
  return 'reset';
}

/** Prints a value as indented JSON. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Runs a command body: a ProdmonError ends with its message and exit code (2 for config errors), any
 * other error with exit 1; no stack unless `--verbose`. Secrets are scrubbed from messages.
 */
export async function runCommand(
  opts: GlobalOptions,
  body: () => Promise<number | undefined>,
  secrets: () => readonly string[] = () => [],
): Promise<void> {
  try {
    const code = await body();
    process.exitCode = typeof code === 'number' ? code : EXIT.ok;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const prefix = err instanceof ConfigError ? '' : 'prodmon: ';
    process.stderr.write(`${prefix}${scrub(message, secrets())}\n`);
    if (opts.verbose && err instanceof Error && err.stack)
      process.stderr.write(`${scrub(err.stack, secrets())}\n`);
    process.exitCode = err instanceof ProdmonError ? err.exitCode : EXIT.failed;
  }
}

/**
 * Runs a command body with the config loaded from the global options: errors end as {@link runCommand}
 * says, and every secret of that config is scrubbed from what is printed on failure.
 */
export async function runWithConfig(
  opts: GlobalOptions,
  body: (config: ResolvedConfig) => Promise<number | undefined>,
  extra: () => Partial<LoadOptions> = () => ({}),
): Promise<void> {
  let secrets: readonly string[] = [];
  await runCommand(
    opts,
    async () => {
      const config = configFrom(opts, extra());
      secrets = config.secrets;
      return body(config);
    },
    () => secrets,
  );
}

/** Creates the data directory and checks it is writable (exit 2 with a clear message if not). */
export function ensureDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw new ProdmonError(
      'PRODMON_E_DATA_DIR',
      `data directory ${dir} is not writable (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}); choose another with --data-dir`,
      { exitCode: 2, cause: err },
    );
  }
}

/** Where operators find the dashboard. */
export function dashboardUrl(config: ResolvedConfig, listening: string): string {
  return `${config.server.public_url ?? listening}${config.server.prefix}/production/dashboard/`;
}
