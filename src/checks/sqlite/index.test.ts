import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { checkFrom } from '../../../test/support/health.js';
import { tempDir } from '../../../test/support/services.js';

const dir = tempDir();
after(() => dir.cleanup());

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
});
