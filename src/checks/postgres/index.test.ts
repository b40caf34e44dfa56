import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pg from 'pg';
import {
  checkFrom,
  freePort,
  runAbortedAgainstHungServer,
  runAgainstHungServer,
} from '../../../test/support/health.js';
import { PG_URL } from '../../../test/support/services.js';
import { waitFor } from '../../../test/support/wait.js';

describe('postgres check', () => {
  test('a reachable server is healthy with its version, connection figures and latency, and no URL', async () => {
    const url = PG_URL.replace('postgres://postgres@', 'postgres://postgres:Hunter2Secret@');
    const { check, run } = checkFrom({ name: 'db', kind: 'postgres', url });
    try {
      const r = await run();
      // Healthy unless this run was slower than the default threshold (a loaded machine): then degraded.
      assert.equal(r.status, Number(r.details.latencyMs) >= 100 ? 'degraded' : 'healthy', r.error ?? '');
      assert.match(String(r.details.version), /^\d+/);
      assert.ok(Number(r.details.connections) >= 1);
      assert.ok(Number(r.details.maxConnections) > 0);
      assert.equal(typeof r.details.latencyMs, 'number');
      assert.equal(r.details.latencyThresholdMs, 100, 'default: the database_query_time warning');
      assert.equal(r.details.target, '127.0.0.1:5432/test');
      assert.doesNotMatch(JSON.stringify(r), /Hunter2Secret|postgres:\/\//);
    } finally {
      await check.close?.();
    }
  });

  test('the connection is kept between runs, and a killed connection is replaced on the next run', async () => {
    const appName = `pm_check_${process.pid}`;
    const { check, run } = checkFrom({
      name: 'db',
      kind: 'postgres',
      url: `${PG_URL}?application_name=${appName}`,
      latency_threshold: '30s',
    });
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    const count = async () =>
      Number(
        (
          await admin.query('select count(*) as n from pg_stat_activity where application_name = $1', [
            appName,
          ])
        ).rows[0].n,
      );
    try {
      assert.equal((await run()).status, 'healthy');
      assert.equal((await run()).status, 'healthy');
      assert.equal(await count(), 1, 'one kept connection');
      await admin.query(
        'select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1',
        [appName],
      );
      await waitFor(async () => (await count()) === 0, {
        what: 'the ended session to leave pg_stat_activity',
      });
      // The run that finds the connection dead may fail; the next one reconnects.
      const a = await run();
      const b = a.status === 'healthy' ? a : await run();
      assert.equal(b.status, 'healthy', b.error ?? '');
      assert.equal(await count(), 1);
      await check.close?.();
      // The server sees the close a moment later.
      await waitFor(async () => (await count()) === 0, {
        what: 'the connection closed on stop to leave the server',
      });
    } finally {
      await admin.end();
      await check.close?.();
    }
  });

  test('nothing listening is unhealthy with a clear error naming the target', async () => {
    const port = await freePort();
    const { check, run } = checkFrom({
      name: 'db',
      kind: 'postgres',
      url: `postgres://u:pw12345@127.0.0.1:${port}/x`,
    });
    const r = await run();
    await check.close?.();
    assert.equal(r.status, 'unhealthy');
    assert.match(r.error ?? '', new RegExp(`PostgreSQL at 127\\.0\\.0\\.1:${port}/x: .*ECONNREFUSED`));
    assert.doesNotMatch(r.error ?? '', /pw12345/);
  });

  test('a latency above the threshold is degraded', async () => {
    const { check, run } = checkFrom({ name: 'db', kind: 'postgres', url: PG_URL, latency_threshold: 0 });
    const r = await run();
    await check.close?.();
    assert.equal(r.status, 'degraded');
    assert.match(r.error ?? '', /^slow: [\d.]+ ms \(threshold 0 ms\)$/);
  });

  test('a server that accepts and never answers: timed out, and the server sees the close by timeout + 100 ms', async () => {
    const r = await runAgainstHungServer((port) => ({
      name: 'db',
      kind: 'postgres',
      url: `postgres://u@127.0.0.1:${port}/x`,
    }));
    assert.equal(r.status, 'unhealthy');
    assert.match(r.error ?? '', /timed out after 300 ms|timeout/i);
  });

  test('a timeout that passes before the check has connected leaves no connection open', async () => {
    await runAbortedAgainstHungServer(
      (port) => ({
        name: 'db',
        kind: 'postgres',
        url: `postgres://u@127.0.0.1:${port}/x`,
      }),
      'before',
    );
  });
});
