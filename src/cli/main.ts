/** The `prodmon` command line: one file per command, registered here. */
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { registerAlerts } from './alerts.js';
import { registerCleanup } from './cleanup.js';
import { registerConfig } from './config.js';
import { registerHealth } from './health.js';
import { registerLogs } from './logs.js';
import { registerNotify } from './notify.js';
import { registerReport } from './report.js';
import { registerStart } from './start.js';
import { registerStatus } from './status.js';
import { registerStop } from './stop.js';
import { registerVerify } from './verify.js';

/** Builds the program with every command. */
export function buildProgram(): Command {
  const program = new Command('prodmon')
    .description('Production monitoring and alerting for Node.js services')
    .version(VERSION)
    .option('-c, --config <path>', 'config file (default: ./prodmon.yaml or $PRODMON_CONFIG)')
    .option('-d, --data-dir <dir>', 'data directory (default: ./.prodmon)')
    .option('--verbose', 'show stack traces on errors')
    .showHelpAfterError()
    .exitOverride();
  for (const register of [
    registerStart,
    registerStop,
    registerStatus,
    registerHealth,
    registerCleanup,
    registerReport,
    registerAlerts,
    registerNotify,
    registerConfig,
    registerLogs,
    registerVerify,
  ]) {
    register(program);
  }
  return program;
}

/** Runs the CLI with `argv`; usage errors exit 2. */
export async function main(argv = process.argv): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') process.exitCode = 0;
      else process.exitCode = 2;
      return;
    }
    throw err;
  }
}
