#!/usr/bin/env node
/** Entry of the `prodmon` binary. */
import { main } from './main.js';

await main();
