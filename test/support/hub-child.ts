/**
 * A standalone prodmon in a process of its own (for test/acceptance/hub-load.test.ts and bench/hub.ts):
 * `node --import tsx test/support/hub-child.ts '<config JSON>' [--file-logs] [--v8-defaults]` (with
 * `--file-logs` its log files are written under the config's logs dir, else it logs nothing; with
 * `--v8-defaults` it keeps V8's garbage-collection heuristics as they are, where `prodmon start` tunes
 * them: src/core/gc.ts). Prints `PORT <n>` once it listens on
 * 127.0.0.1. Over IPC: `evaluate` runs one full alert evaluation and answers `{ evaluated: ms }`; every
 * evaluation of the engine's loop is reported as `{ tick: ms }` (its duration). Stops on SIGTERM.
 */
import { createApp } from '../../src/app.js';
import { tuneGcForStandalone } from '../../src/core/gc.js';

// As `prodmon start` does (src/cli/start.ts); `--v8-defaults` leaves V8's own heuristics (bench/hub.ts).
if (!process.argv.includes('--v8-defaults')) tuneGcForStandalone();

const monitor = createApp(JSON.parse(process.argv[2] ?? '{}'), {
  env: {},
  fileLogs: process.argv.includes('--file-logs'),
});
await monitor.start();
const send = (m: object) => process.send?.(m);

// The loop calls `evaluateNow()` for each tick: timed here, as the bench reports it.
const evaluate = monitor.alerting.evaluateNow.bind(monitor.alerting);
monitor.alerting.evaluateNow = async () => {
  const t0 = performance.now();
  await evaluate();
  send({ tick: performance.now() - t0 });
};

process.on('message', async (m) => {
  if (m === 'evaluate') {
    const t0 = performance.now();
    await evaluate();
    send({ evaluated: performance.now() - t0 });
  }
});

const url = await monitor.listen('127.0.0.1', 0);
process.stdout.write(`PORT ${new URL(url).port}\n`);

process.once('SIGTERM', async () => {
  await monitor.stop({ drainDelayMs: 0 });
  process.exit(0);
});
