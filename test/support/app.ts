/** An App for route tests: a fresh data directory, no log files, removed when the test file ends. */
import { after } from 'node:test';
import { App } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import type { ConfigInput } from '../../src/config/schema.js';
import type { Clock } from '../../src/core/clock.js';
import { tempDir } from './services.js';

const appDirs: { cleanup: () => void }[] = [];
// Registered when a test file imports this module, so it runs once that file's tests are done.
after(() => {
  for (const d of appDirs.splice(0)) d.cleanup();
});

/**
 * An App (not started) over a fresh data directory, without log files or stdout, on `clock` when given;
 * the directories are removed when the test file ends.
 */
export function testApp(doc: ConfigInput, clock?: Clock): App {
  const d = tempDir();
  appDirs.push(d);
  const config = parseConfig({ logs: { stdout: false }, ...doc }, { env: {}, dataDir: d.path });
  return new App(config, { fileLogs: false, ...(clock ? { clock } : {}) });
}
