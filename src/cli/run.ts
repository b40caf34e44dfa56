#!/usr/bin/env node
/** Entry of the `prodmon` binary: capture early signals for `start`, then load the CLI. */
import { captureEarlySignals } from './signals.js';

if (process.argv.includes('start')) captureEarlySignals();
const { main } = await import('./main.js');
await main();
