/**
 * `npm run demo`: the example shop with prodmon embedded, traffic, a webhook receiver and fault
 * switches. `npm run demo -- --help` for the options.
 */
import { parseDemoArgs, USAGE } from './src/demo/args.js';
import { runDemo } from './src/demo/run.js';

let args: ReturnType<typeof parseDemoArgs>;
try {
  args = parseDemoArgs(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`);
  process.exit(2);
}
if (args.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const ctl = new AbortController();
let interrupts = 0;
const onSignal = () => {
  interrupts++;
  if (interrupts > 1) {
    process.stderr.write('stopping now\n');
    process.exit(130);
  }
  process.stdout.write('\nstopping (Ctrl-C again to force)\n');
  ctl.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

try {
  await runDemo(args, {
    out: (line) => process.stdout.write(`${line}\n`),
    signal: ctl.signal,
    keys: process.stdin.isTTY ? process.stdin : undefined,
  });
  process.exit(0);
} catch (err) {
  process.stderr.write(`demo failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
}
