/**
 * Write failures that really happen in the kernel: a full tmpfs (needs mount, i.e. root), /dev/full (ENOSPC on
 * every write, any user) and a directory that cannot be created (ENOTDIR, any user).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { tempDir } from '../../test/support/services.js';
import { waitFor } from '../../test/support/wait.js';
import { FakeClock } from '../core/clock.js';
import { logsConfig, readParsed } from './fixtures/read.js';
import type { LogStatus } from './health.js';
import { createProductionLogger } from './logger.js';

const dirs: { cleanup(): void }[] = [];
after(() => {
  for (const d of dirs) d.cleanup();
});
function dir(): string {
  const d = tempDir('prodmon-logs-');
  dirs.push(d);
  return d.path;
}

/** Asserts the `i` of the lines strictly increase (none torn, repeated or reordered); returns how many. */
async function assertOrdered(d: string): Promise<number[]> {
  const is = (await readParsed(d, 'application')).map((l) => l.i as number);
  for (let k = 1; k < is.length; k++) assert.ok(is[k]! > is[k - 1]!, `line ${is[k]} after ${is[k - 1]}`);
  return is;
}

describe('write failures', () => {
  test('a full disk (tmpfs): keeps running, reports degraded, counts dropped lines, recovers when space returns', async (t) => {
    const mnt = join(dir(), 'mnt');
    mkdirSync(mnt);
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt], { encoding: 'utf8' });
    if (mount.status !== 0) {
      t.skip(`cannot mount a 256k tmpfs here (${(mount.stderr || String(mount.error)).trim()}); needs root`);
      return;
    }
    t.after(() => {
      spawnSync('umount', ['-l', mnt]);
    });
    const filler = join(mnt, 'filler');
    writeFileSync(filler, Buffer.alloc(192 * 1024)); // leaves 64 KB for the logs
    const clock = new FakeClock();
    const logs = join(mnt, 'logs');
    const logger = createProductionLogger({
      dir: logs,
      config: logsConfig({ max_size: '10MB' }),
      clock,
      maxBufferBytes: 64 * 1024,
      retryIntervalMs: 5000,
    });
    const changes: LogStatus[] = [];
    logger.onStatusChange((s) => changes.push(s));
    let i = 0;
    const log = (n: number) => {
      for (const end = i + n; i < end; i++) logger.app.info({ i, pad: 'z'.repeat(100) }, 'line');
    };

    log(200); // ~30 KB: fits
    await logger.flush();
    assert.equal(logger.status().status, 'healthy');

    log(300); // ~45 KB more: the disk fills during this write
    await logger.flush();
    const degraded = logger.status();
    assert.equal(degraded.status, 'degraded');
    assert.match(degraded.error!, /^application\.log: ENOSPC/);
    assert.equal(degraded.since, clock.now());
    assert.deepEqual(
      changes.map((s) => s.status),
      ['degraded'],
    );

    log(600); // ~90 KB while full: more than the 64 KB queue, so some are dropped
    await logger.flush();
    const dropped = logger.status().dropped;
    assert.ok(dropped > 0, 'expected dropped lines');
    await assertOrdered(logs); // what is on disk is whole lines only

    unlinkSync(filler); // space returns
    const droppedBefore = logger.status().dropped;
    log(1);
    // That line is dropped on arrival (the queue is still full): no retry before the retry interval.
    assert.equal(logger.status().dropped, droppedBefore + 1, 'the line was dropped, not retried');
    assert.equal(logger.status().status, 'degraded', 'no retry before the retry interval');
    await clock.advance(5000);
    log(1); // the next line after the interval retries (itself dropped: the queue is still full as it arrives)
    await waitFor(() => logger.status().status === 'healthy');
    log(1); // and lines are accepted again
    assert.deepEqual(
      changes.map((s) => s.status),
      ['degraded', 'healthy'],
    );
    await logger.close();
    const written = await assertOrdered(logs);
    assert.equal(
      written.length + logger.status().dropped,
      i,
      'every line is either written or counted dropped',
    );
    assert.equal(written.at(-1), i - 1);
    assert.equal(logger.status().dropped, dropped + 2);
  });

  test('ENOSPC from /dev/full: degraded with the reason, then written once the file is writable again', async () => {
    const d = dir();
    const live = join(d, 'application.log');
    symlinkSync('/dev/full', live);
    const clock = new FakeClock();
    const logger = createProductionLogger({ dir: d, config: logsConfig(), clock, retryIntervalMs: 1000 });
    for (let i = 0; i < 3; i++) logger.app.info({ i }, 'line');
    logger.security.info('unaffected');
    await logger.flush();
    const s = logger.status();
    assert.equal(s.status, 'degraded');
    assert.match(s.error!, /^application\.log: ENOSPC: no space left on device/);
    assert.equal(s.dropped, 0, 'kept in memory, not dropped');
    assert.deepEqual(
      (await readParsed(d, 'security')).map((l) => l.msg),
      ['unaffected'],
    );

    unlinkSync(live); // the full "file" goes away
    await clock.advance(1000);
    logger.app.info({ i: 3 }, 'line');
    await waitFor(() => logger.status().status === 'healthy');
    await logger.close();
    assert.ok(lstatSync(live).isFile());
    assert.deepEqual(await assertOrdered(d), [0, 1, 2, 3]);
  });

  test('a directory that cannot be created: degraded, never throws, writes once it can', async () => {
    const base = dir();
    const blocker = join(base, 'not-a-dir');
    writeFileSync(blocker, '');
    const logs = join(blocker, 'logs');
    const clock = new FakeClock();
    const logger = createProductionLogger({ dir: logs, config: logsConfig(), clock });
    logger.app.info({ i: 0 }, 'first');
    logger.error.error({ i: 0 }, 'first error');
    await logger.flush();
    const s = logger.status();
    assert.equal(s.status, 'degraded');
    assert.match(s.error!, /ENOTDIR/);
    rmSync(blocker);
    await clock.advance(1000);
    logger.app.info({ i: 1 }, 'second');
    await waitFor(() => logger.status().status === 'healthy');
    await logger.close();
    assert.ok(existsSync(join(logs, 'error.log')));
    assert.deepEqual(await assertOrdered(logs), [0, 1]);
  });
});
