/**
 * The garbage-collection thresholds of a standalone prodmon (src/core/gc.ts): which flags are set, and
 * that this Node's V8 knows them (an unknown flag would only print an error and change nothing). Their
 * effect on a hub is measured by bench/hub.ts (`--v8-defaults` against the default).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { STANDALONE_GC_FLAGS, tuneGcForStandalone } from './gc.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** What `tuneGcForStandalone()` sets in a fresh `node <nodeArgs>`, and what that process printed. */
function tuneInChild(nodeArgs: string[]): { set: string[]; output: string } {
  const code =
    "import { tuneGcForStandalone } from './src/core/gc.ts'; console.log(JSON.stringify(tuneGcForStandalone()));";
  const run = spawnSync(
    process.execPath,
    [...nodeArgs, '--import', 'tsx', '--input-type=module', '-e', code],
    {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '' },
    },
  );
  assert.equal(run.status, 0, run.stderr);
  return { set: JSON.parse(run.stdout) as string[], output: `${run.stdout}${run.stderr}` };
}

describe('garbage collection of a standalone prodmon', () => {
  it('sets the thresholds and the growing factor, except a flag that Node was given (either spelling)', () => {
    assert.deepEqual(tuneGcForStandalone([]), [...STANDALONE_GC_FLAGS]);
    assert.deepEqual(tuneGcForStandalone(['--max-old-space-size=512']), [...STANDALONE_GC_FLAGS]);
    assert.deepEqual(tuneGcForStandalone(['--incremental-marking-soft-trigger=50']), [
      '--incremental-marking-hard-trigger=95',
      '--heap-growing-percent=100',
    ]);
    assert.deepEqual(tuneGcForStandalone(['--incremental_marking_hard_trigger=90']), [
      '--incremental-marking-soft-trigger=80',
      '--heap-growing-percent=100',
    ]);
    assert.deepEqual(
      tuneGcForStandalone([
        '--incremental-marking-soft-trigger=0',
        '--incremental-marking-hard-trigger=0',
        '--heap_growing_percent=0',
      ]),
      [],
    );
  });

  it("this Node's V8 knows every flag and takes them at run time", () => {
    const options = execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8' });
    for (const flag of STANDALONE_GC_FLAGS) {
      const name = flag.slice(0, flag.indexOf('='));
      assert.ok(options.includes(`${name} (`), `${name} is not among node --v8-options`);
    }
    const { set, output } = tuneInChild([]);
    assert.deepEqual(set, [...STANDALONE_GC_FLAGS]);
    // V8 prints "Error: unrecognized flag ..." for a flag it does not know.
    assert.doesNotMatch(output, /unrecognized flag/);
  });

  it("a flag on node's command line is left as given", () => {
    assert.deepEqual(tuneInChild(['--incremental-marking-soft-trigger=0']).set, [
      '--incremental-marking-hard-trigger=95',
      '--heap-growing-percent=100',
    ]);
  });
});
