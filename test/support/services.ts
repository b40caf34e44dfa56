/** Test helpers for the services the machine runs: a private PostgreSQL schema per test run, temp dirs. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** The running PostgreSQL (DESIGN.md): trust auth, database `test`. */
export const PG_URL = process.env.PRODMON_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** The running MariaDB. */
export const MYSQL_URL = process.env.PRODMON_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
/** The running Redis. */
export const REDIS_URL = process.env.PRODMON_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A unique name for this test run's objects (schema, key prefix). */
export function uniqueName(prefix = 'pm_t'): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** A fresh PostgreSQL schema name; `drop()` removes it and everything in it. */
export function pgSchema(): { url: string; schema: string; drop: () => Promise<void> } {
  const schema = uniqueName();
  return {
    url: PG_URL,
    schema,
    async drop() {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try {
        await c.query(`drop schema if exists "${schema}" cascade`);
      } finally {
        await c.end();
      }
    },
  };
}

/** A temporary directory removed by `cleanup()`. */
export function tempDir(prefix = 'prodmon-test-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * A fresh PostgreSQL database, for tests that end every session of their database with
 * `pg_terminate_backend` (only a database of their own makes that safe beside other tests); `drop()`
 * removes it, ending whatever sessions are left.
 */
export async function pgDatabase(): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const name = uniqueName();
  const admin = async <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  };
  await admin((c) => c.query(`create database "${name}"`));
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    name,
    drop: () => admin((c) => c.query(`drop database if exists "${name}" with (force)`)).then(() => {}),
  };
}
