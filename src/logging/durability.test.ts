import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { bundled } from '../../test/support/build.js';
import { finished } from '../../test/support/cli.js';
import { tempDir } from '../../test/support/services.js';
import { readParsed } from './fixtures/read.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url));
const dirs: { cleanup(): void }[] = [];
after(() => {
  for (const d of dirs) d.cleanup();
});

async function crash(how: 'throw' | 'exit', lines: number) {
  const d = tempDir('prodmon-logs-');
  dirs.push(d);
  const child = spawn(process.execPath, [bundled(FIXTURE), d.path, String(lines), how], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { dir: d.path, result: await finished(child) };
}

describe('durability at exit', () => {
  for (const how of ['throw', 'exit'] as const) {
    test(`lines still queued when the process ends (${how === 'throw' ? 'uncaught exception' : 'process.exit'}) are written`, async () => {
      const { dir, result } = await crash(how, 5000);
      assert.equal(result.code, how === 'throw' ? 1 : 3, result.stderr);
      const app = await readParsed(dir, 'application');
      assert.deepEqual(
        app.map((l) => l.i),
        Array.from({ length: 5000 }, (_, i) => i),
      );
      assert.deepEqual(
        (await readParsed(dir, 'security')).map((l) => l.msg),
        ['security line'],
      );
      assert.deepEqual(
        (await readParsed(dir, 'error')).map((l) => l.msg),
        ['slow and failing'],
      );
    });
  }

  test('with stdout on, application and error lines are also printed (as JSON), others are not', async () => {
    const { result } = await crash('exit', 2);
    const printed = result.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string; stream: string });
    // Order is not asserted: at exit, pino's async stdout destination writes its buffer synchronously while
    // its first write may still be in flight (stdout is a convenience copy; the files are the record).
    assert.deepEqual(printed.map((l) => [l.stream, l.msg]).sort(), [
      ['application', 'before the crash'],
      ['application', 'before the crash'],
      ['performance', 'slow and failing'],
    ]);
  });
});
