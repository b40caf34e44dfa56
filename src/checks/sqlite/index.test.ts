import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { checkFrom } from '../../../test/support/health.js';
import { tempDir } from '../../../test/support/services.js';
import { CheckTimeoutError } from '../runner.js';

const dir = tempDir();
after(() => dir.cleanup());

/** How many of this process's file descriptors are open on `path`. */
function handlesOn(path: string): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false; // closed while listing
    }
  }).length;
}

/** Another process holding an exclusive lock on the database until `release()`. */
async function lockHolder(path: string): Promise<{ release: () => Promise<void> }> {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const code = `const D = require(${JSON.stringify(driver)}); const db = new D(process.argv[1]);
db.exec('begin exclusive'); process.stdout.write('locked\\n');
process.stdin.resume(); process.stdin.on('end', () => { db.close(); process.exit(0); });`;
  const child = spawn(process.execPath, ['-e', code, path], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  await once(child.stdout, 'data');
  return {
    async release() {
      child.stdin.end();
      await exited;
    },
  };
}

describe('sqlite check', () => {
  test('an existing database is healthy with its version, size and journal mode', async () => {
    const path = join(dir.path, 'app.db');
    const db = new BetterSqlite3(path);
    db.pragma('journal_mode = WAL');
    db.exec('create table t (x int)');
    const { check, run } = checkFrom({ name: 'local', kind: 'sqlite', path });
    try {
      const r = await run();
      assert.equal(r.status, 'healthy', r.error ?? '');
      assert.match(String(r.details.version), /^3\./);
      assert.equal(r.details.journalMode, 'wal');
      assert.ok(Number(r.details.sizeBytes) > 0);
    } finally {
      await check.close?.();
      db.close();
    }
  });

  test('a missing file is unhealthy and is not created', async () => {
    const path = join(dir.path, 'missing.db');
    const { check, run } = checkFrom({ name: 'local', kind: 'sqlite', path });
    const r = await run();
    await check.close?.();
    assert.equal(r.status, 'unhealthy');
    assert.match(r.error ?? '', /missing\.db: .*(does not exist|unable to open)/i);
    assert.equal(existsSync(path), false);
  });

  test('a file that is not a database is unhealthy', async () => {
    const path = join(dir.path, 'junk.db');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path, 'this is not sqlite '.repeat(100));
    const { check, run } = checkFrom({ name: 'local', kind: 'sqlite', path });
    const r = await run();
    await check.close?.();
    assert.equal(r.status, 'unhealthy');
    assert.match(r.error ?? '', /not a database/);
  });

  test('a database locked by another process: unhealthy once its timeout has passed, and the file is not left open', async () => {
    const path = join(dir.path, 'locked.db');
    const setup = new BetterSqlite3(path);
    setup.exec('create table t (x int)');
    setup.close();
    const holder = await lockHolder(path);
    const { check, run } = checkFrom({ name: 'local', kind: 'sqlite', path, timeout: '300ms' });
    try {
      const r = await run();
      assert.equal(r.status, 'unhealthy');
      assert.match(r.error ?? '', /locked\.db: database is locked$/);
      assert.ok(r.responseTimeMs >= 250, `waited for the lock for ${r.responseTimeMs} ms`);
      assert.equal(handlesOn(path), 0, 'the handle is closed');
    } finally {
      await check.close?.();
      await holder.release();
    }
  });

  test('a run whose timeout passed before it opened the file rejects and opens nothing', async () => {
    const path = join(dir.path, 'late.db');
    new BetterSqlite3(path).close();
    const { check } = checkFrom({ name: 'local', kind: 'sqlite', path, timeout: '300ms' });
    try {
      const ctl = new AbortController();
      ctl.abort(new CheckTimeoutError(300));
      await assert.rejects(check.run(ctl.signal), CheckTimeoutError);
      assert.equal(handlesOn(path), 0);
    } finally {
      await check.close?.();
    }
  });
});
