/** `prodmon config check`: validate a config file and print the effective config, secrets masked. */
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { maskConfig } from '../config/mask.js';
import { configFrom, globalOptions, printJson, runCommand } from './common.js';

export function registerConfig(program: Command): void {
  const config = program.command('config').description('inspect the configuration');
  config
    .command('check')
    .description('validate the config and print the effective config with secrets masked')
    .option('--json', 'print JSON')
    .action(async (_o, cmd: Command) => {
      const opts = globalOptions(cmd);
      await runCommand(opts, async () => {
        const resolved = configFrom(opts);
        const masked = maskConfig(resolved);
        if (opts.json) printJson(masked);
        else {
          process.stderr.write(`${resolved.source ?? '(no config file: defaults)'}: ok\n`);
          process.stdout.write(stringify(masked));
        }
      });
    });
}
