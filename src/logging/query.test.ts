import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { tempDir } from '../../test/support/services.js';
import { waitFor } from '../../test/support/wait.js';
import { FakeClock } from '../core/clock.js';
import { rotatedFileName } from './files.js';
import { logsConfig } from './fixtures/read.js';
import { formatLogLine } from './format.js';
import { createProductionLogger } from './logger.js';
import { errorLinesAround, followLogs, liveFilePosition, tailLogs } from './query.js';

const T0 = Date.UTC(2026, 10, 26, 10, 0, 0);
const dirs: { cleanup(): void }[] = [];
after(() => {
  for (const d of dirs) d.cleanup();
});
function dir(): string {
  const d = tempDir('prodmon-logs-');
  dirs.push(d);
  return d.path;
}

/** 300 application lines one second apart (i = 0..299, every 10th an error), over many rotated gz files. */
async function history(): Promise<string> {
  const d = dir();
  const clock = new FakeClock(T0);
  const logger = createProductionLogger({ dir: d, config: logsConfig({ max_size: '4KB' }), clock });
  for (let i = 0; i < 300; i++) {
    if (i % 10 === 0) logger.app.error({ i }, `failure ${i}`);
    else logger.app.info({ i }, `request ${i}`);
    clock.set(clock.now() + 1000);
    if (i % 50 === 0) await logger.flush();
  }
  await logger.close();
  return d;
}

describe('reading logs back', () => {
  test('tail: the newest lines, newest last, across the live file and rotated gzip files', async () => {
    const d = await history();
    assert.ok(readdirSync(d).filter((n) => n.startsWith('application.') && n.endsWith('.gz')).length > 5);
    const last = await tailLogs({ dir: d, lines: 5 });
    assert.deepEqual(
      last.map((l) => l.i),
      [295, 296, 297, 298, 299],
    );
    const many = await tailLogs({ dir: d, lines: 250 });
    assert.deepEqual(
      many.map((l) => l.i),
      Array.from({ length: 250 }, (_, k) => 50 + k),
    );
    assert.equal((await tailLogs({ dir: d, lines: 1000 })).length, 300);
  });

  test('tail filters: grep (case-insensitive), since/until, another stream', async () => {
    const d = await history();
    const failures = await tailLogs({ dir: d, grep: 'FAILURE', lines: 3 });
    assert.deepEqual(
      failures.map((l) => l.msg),
      ['failure 270', 'failure 280', 'failure 290'],
    );
    const window = await tailLogs({ dir: d, since: T0 + 100_000, until: T0 + 104_000 });
    assert.deepEqual(
      window.map((l) => l.i),
      [100, 101, 102, 103, 104],
    );
    const errors = await tailLogs({ dir: d, stream: 'error', lines: 2 });
    assert.deepEqual(
      errors.map((l) => l.i),
      [280, 290],
    );
    assert.deepEqual(await tailLogs({ dir: join(d, 'missing') }), []);
  });

  test('errorLinesAround: the error-log lines of an alert’s time window', async () => {
    const d = await history();
    const lines = await errorLinesAround({ dir: d, from: T0 + 95_000, to: T0 + 131_000 });
    assert.deepEqual(
      lines.map((l) => [l.i, l.level]),
      [
        [100, 50],
        [110, 50],
        [120, 50],
        [130, 50],
      ],
    );
    assert.deepEqual(
      (await errorLinesAround({ dir: d, from: T0, to: T0 + 300_000, limit: 2 })).map((l) => l.i),
      [280, 290],
    );
  });

  test('tail reads uncompressed rotated files and skips lines that are not JSON', async () => {
    const d = dir();
    writeFileSync(join(d, rotatedFileName('security', T0, 1)), '{"time":1,"level":30,"msg":"a"}\nnot json\n');
    writeFileSync(
      join(d, 'security.log'),
      '{"time":2,"level":30,"msg":"b"}\n{"time":3,"level":30,"msg":"half wr',
    );
    assert.deepEqual(
      (await tailLogs({ dir: d, stream: 'security' })).map((l) => l.msg),
      ['a', 'b'],
    );
  });

  test('follow: yields lines as they are written, across a rotation, until aborted', async () => {
    const d = dir();
    const clock = new FakeClock(T0);
    const logger = createProductionLogger({ dir: d, config: logsConfig({ max_size: '1KB' }), clock });
    logger.app.info('before following');
    await logger.flush();
    const ctl = new AbortController();
    const seen: unknown[] = [];
    const following = (async () => {
      for await (const line of followLogs({ dir: d, clock, intervalMs: 100, signal: ctl.signal }))
        seen.push(line.msg);
    })();
    // The follower does real I/O between its sleeps on the fake clock: wait until it sleeps again.
    const parked = () => waitFor(() => clock.pending > 0, { what: 'the follower to sleep on the clock' });
    await parked(); // opened at the end of the file
    for (let i = 0; i < 30; i++) {
      logger.app.info(`line ${i} ${'x'.repeat(60)}`);
      await logger.flush();
      await clock.advance(100);
      await parked();
    }
    ctl.abort();
    await following;
    await logger.close();
    assert.ok(
      readdirSync(d).filter((n) => n.startsWith('application.2026')).length >= 2,
      'rotated meanwhile',
    );
    assert.deepEqual(
      seen,
      Array.from({ length: 30 }, (_, i) => `line ${i} ${'x'.repeat(60)}`),
    );
  });

  test('tail up to a position, then follow from it: every line once', async () => {
    const d = dir();
    const clock = new FakeClock(T0);
    const logger = createProductionLogger({ dir: d, config: logsConfig(), clock });
    for (let i = 0; i < 3; i++) logger.app.info({ i }, 'before');
    await logger.flush();
    const pos = await liveFilePosition(d, 'application');
    for (let i = 3; i < 5; i++) logger.app.info({ i }, 'after');
    await logger.close();
    const tail = await tailLogs({ dir: d, liveBytes: pos.offset });
    assert.deepEqual(
      tail.map((l) => l.i),
      [0, 1, 2],
    );
    const ctl = new AbortController();
    const followed: unknown[] = [];
    for await (const line of followLogs({ dir: d, clock, from: pos, signal: ctl.signal })) {
      followed.push(line.i);
      if (followed.length === 2) ctl.abort();
    }
    assert.deepEqual(followed, [3, 4]);
  });

  test('a line printed for a terminal: time, level, message, other fields', () => {
    const line = {
      level: 50,
      time: T0,
      pid: 1,
      hostname: 'h',
      stream: 'application',
      msg: 'boom',
      reqId: 'r1',
    };
    assert.equal(formatLogLine(line), '2026-11-26T10:00:00.000Z ERROR boom {"reqId":"r1"}');
  });
});
