/** The storage contract, run against SQLite and PostgreSQL: transactions are atomic and isolated. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pgSchema, tempDir } from '../../../test/support/services.js';
import { openPostgres } from '../src/db/postgres.js';
import { openSqlite } from '../src/db/sqlite.js';
import type { ShopDb } from '../src/db/types.js';

const KINDS: { name: string; open(): Promise<{ db: ShopDb; drop(): Promise<void> | void }> }[] = [
  {
    name: 'sqlite',
    async open() {
      const dir = tempDir('shop-db-');
      return { db: openSqlite({ path: join(dir.path, 'x.db') }), drop: dir.cleanup };
    },
  },
  {
    name: 'postgres',
    async open() {
      const s = pgSchema();
      return { db: await openPostgres({ url: s.url, schema: s.schema, max: 4 }), drop: s.drop };
    },
  },
];

for (const kind of KINDS) {
  describe(`shop storage (${kind.name})`, () => {
    let db: ShopDb;
    let drop: () => Promise<void> | void;
    before(async () => {
      ({ db, drop } = await kind.open());
      await db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)');
    });
    after(async () => {
      await db.close();
      await drop();
    });

    test('a transaction that throws leaves nothing behind', async () => {
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.run('INSERT INTO t (k, v) VALUES (?, ?)', ['a', 1]);
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal(await db.get('SELECT v FROM t WHERE k = ?', ['a']), undefined);
    });

    test('a write made outside a transaction while it runs survives its rollback', async () => {
      const tx = db.transaction(async (t) => {
        await t.run('INSERT INTO t (k, v) VALUES (?, ?)', ['in', 1]);
        await sleep(50);
        throw new Error('rolled back');
      });
      await sleep(5);
      const outside = db.run('INSERT INTO t (k, v) VALUES (?, ?)', ['out', 2]);
      await assert.rejects(tx, /rolled back/);
      await outside;
      const rows = await db.all<{ k: string }>('SELECT k FROM t ORDER BY k');
      assert.deepEqual(
        rows.map((r) => r.k),
        ['out'],
      );
    });

    test('concurrent transactions each see their own reads and commit in full', async () => {
      await db.run('INSERT INTO t (k, v) VALUES (?, ?)', ['n', 0]);
      await Promise.all(
        Array.from({ length: 10 }, () =>
          db.transaction(async (t) => {
            await t.run('UPDATE t SET v = v + 1 WHERE k = ?', ['n']);
            await sleep(2);
            await t.run('UPDATE t SET v = v + 1 WHERE k = ?', ['n']);
          }),
        ),
      );
      assert.equal(Number((await db.get<{ v: number }>('SELECT v FROM t WHERE k = ?', ['n']))!.v), 20);
    });

    test('placeholders bind values, never text into SQL', async () => {
      const evil = "x'); DROP TABLE t; --";
      await db.run('INSERT INTO t (k, v) VALUES (?, ?)', [evil, 3]);
      assert.equal(Number((await db.get<{ v: number }>('SELECT v FROM t WHERE k = ?', [evil]))!.v), 3);
    });
  });
}
