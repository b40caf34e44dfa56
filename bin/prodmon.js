#!/usr/bin/env node
// The `prodmon` command: runs the compiled CLI (built by `npm run build`, which `npm ci` runs).
import '../dist/cli/run.js';
