import assert from 'node:assert/strict';
import { existsSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { tempDir } from '../../test/support/services.js';
import { FakeClock } from '../core/clock.js';
import { rotatedFileName } from './files.js';
import { logsConfig } from './fixtures/read.js';
import { createProductionLogger } from './logger.js';
import { applyLogRetention } from './retention.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 26, 10, 0, 0);
const dirs: { cleanup(): void }[] = [];
after(() => {
  for (const d of dirs) d.cleanup();
});
function dir(): string {
  const d = tempDir('prodmon-logs-');
  dirs.push(d);
  return d.path;
}

/** A rotated gzip file named for `ageDays` before NOW (its mtime says so too). */
function rotated(
  d: string,
  stream: 'application' | 'error' | 'performance' | 'security',
  ageDays: number,
): string {
  const at = NOW - ageDays * DAY;
  const name = `${rotatedFileName(stream, at, 1)}.gz`;
  writeFileSync(join(d, name), gzipSync(`{"level":30,"time":${at},"msg":"old"}\n`));
  utimesSync(join(d, name), new Date(at), new Date(at));
  return name;
}

/** A file whose mtime is `ageDays` before NOW. */
function aged(d: string, name: string, ageDays: number, text = 'x\n'): string {
  writeFileSync(join(d, name), text);
  const t = new Date(NOW - ageDays * DAY);
  utimesSync(join(d, name), t, t);
  return name;
}

/** Files left by an earlier run: old and recent rotated files, other names, unrelated and live files. */
function earlierRun(d: string) {
  return {
    old: [
      rotated(d, 'application', 40),
      rotated(d, 'error', 31),
      rotated(d, 'security', 365),
      aged(d, 'performance.log.3.gz', 45), // named by logrotate: aged by mtime
    ],
    kept: [
      rotated(d, 'application', 29),
      rotated(d, 'performance', 1),
      aged(d, 'application.log', 90, '{"level":30,"time":1,"msg":"live"}\n'), // a live file is never deleted
      aged(d, 'notes.txt', 400), // not a log file
      // A compression interrupted by a crash: not retention's business (removed when a logger starts).
      aged(d, `${rotatedFileName('application', NOW - 400 * DAY, 1)}.gz.tmp`, 400),
    ],
  };
}

describe('log retention', () => {
  test('deletes rotated files older than the limit and keeps the rest; a dry run deletes nothing', async () => {
    const d = dir();
    const { old, kept } = earlierRun(d);
    const dry = await applyLogRetention({ dir: d, retentionMs: 30 * DAY, now: NOW, dryRun: true });
    assert.deepEqual(dry.deleted.map((p) => p.slice(d.length + 1)).sort(), [...old].sort());
    assert.equal(readdirSync(d).length, old.length + kept.length, 'a dry run deletes nothing');

    const res = await applyLogRetention({ dir: d, retentionMs: 30 * DAY, now: NOW });
    assert.deepEqual(res.deleted.map((p) => p.slice(d.length + 1)).sort(), [...old].sort());
    assert.deepEqual(res.failed, []);
    assert.deepEqual(readdirSync(d).sort(), [...kept].sort());
    // Only rotated files are reported as kept: the live file and others are not retention's business.
    assert.deepEqual(res.kept.map((p) => p.slice(d.length + 1)).sort(), [kept[0], kept[1]].sort());
  });

  test('a missing directory is no error; a retention of 0 keeps everything', async () => {
    assert.deepEqual(await applyLogRetention({ dir: join(dir(), 'nope'), retentionMs: DAY, now: NOW }), {
      deleted: [],
      kept: [],
      failed: [],
    });
    const d = dir();
    rotated(d, 'application', 400);
    assert.equal((await applyLogRetention({ dir: d, retentionMs: 0, now: NOW })).deleted.length, 0);
  });

  test('a new logger applies retention to files left by an earlier run (across a restart)', async () => {
    const d = dir();
    const { old, kept } = earlierRun(d);
    const logger = createProductionLogger({ dir: d, config: logsConfig(), clock: new FakeClock(NOW) });
    await logger.close();
    for (const name of old) assert.equal(existsSync(join(d, name)), false, `${name} should be deleted`);
    // The stale temporary file of an interrupted compression is removed at start, the rest kept.
    const left = readdirSync(d).sort();
    assert.deepEqual(left, kept.filter((n) => !n.endsWith('.tmp')).sort());
  });

  test('retention also runs after each rotation, with the clock’s time', async () => {
    const d = dir();
    const clock = new FakeClock(NOW);
    const young = rotated(d, 'error', 29); // kept at start: 29 days old
    const logger = createProductionLogger({
      dir: d,
      config: logsConfig({ max_size: '1KB', retention: '30d' }),
      clock,
    });
    await logger.flush();
    clock.set(NOW + 2 * DAY); // now 31 days old
    for (let i = 0; i < 40; i++) logger.app.info({ i }, 'enough to rotate the application log');
    await logger.close();
    assert.equal(existsSync(join(d, young)), false, 'deleted after the rotation');
    assert.ok(readdirSync(d).some((n) => n.startsWith('application.') && n.endsWith('.log.gz')));
  });

  test('an uncompressed rotated file left by a crash is compressed at start; a half-written .gz.tmp removed', async () => {
    const d = dir();
    const name = rotatedFileName('application', NOW - DAY, 1);
    writeFileSync(join(d, name), '{"level":30,"time":1,"msg":"left"}\n');
    writeFileSync(join(d, `${name}.gz.tmp`), 'partial');
    const done = rotatedFileName('security', NOW - DAY, 1);
    writeFileSync(join(d, done), 'x\n');
    writeFileSync(join(d, `${done}.gz`), gzipSync('x\n')); // crash between rename and unlink
    const logger = createProductionLogger({ dir: d, config: logsConfig(), clock: new FakeClock(NOW) });
    await logger.close();
    assert.deepEqual(readdirSync(d).sort(), [`${name}.gz`, `${done}.gz`].sort());
  });
});
