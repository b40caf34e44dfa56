/** The `prodmon` command line: one file per command, registered here. */
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { registerAlerts } from './alerts.js';
import { registerBaseline } from './baseline.js';
import { registerCleanup } from './cleanup.js';
import { registerConfig } from './config.js';
import { registerDeploy } from './deploy.js';
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
    // `--version` is also the version deployed (`prodmon deploy mark --version v1.4.2`): the program
    // reads it wherever it is given, so with a value it is left for that command; alone it prints ours.
    .option('-V, --version [deployed]', 'output the version number')
    .option('-c, --config <path>', 'config file (default: ./prodmon.yaml or $PRODMON_CONFIG)')
    .option('-d, --data-dir <dir>', 'data directory (default: ./.prodmon)')
    .option('--verbose', 'show stack traces on errors')
    .showHelpAfterError()
    .exitOverride();
  program.on('option:version', (value: unknown) => {
    if (typeof value === 'string') return;
    // `prodmon deploy mark --version` without a value (an empty unquoted $VERSION): an error there, not our version.
    // (`rawArgs`: what parse() was given, set before any option is read; commander leaves it out of its types.)
    if ((program as unknown as { rawArgs: string[] }).rawArgs.includes('deploy')) return;
    process.stdout.write(`${VERSION}\n`);
    throw new CommanderError(0, 'commander.version', VERSION);
  });
  for (const register of [
    registerStart,
    registerStop,
    registerStatus,
    registerHealth,
    registerCleanup,
    registerReport,
    registerAlerts,
    registerDeploy,
    registerBaseline,
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
