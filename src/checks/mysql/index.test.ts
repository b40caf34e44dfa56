import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  checkFrom,
  freePort,
  runAbortedAgainstHungServer,
  runAgainstHungServer,
} from '../../../test/support/health.js';
import { MYSQL_URL } from '../../../test/support/services.js';

describe('mysql check (MariaDB)', () => {
  test('a reachable server is healthy with its version and thread figures, and no URL', async () => {
    const { check, run } = checkFrom({
      name: 'maria',
      kind: 'mysql',
      url: MYSQL_URL,
      latency_threshold: '30s',
    });
    try {
      const r = await run();
      assert.equal(r.status, 'healthy', r.error ?? '');
      assert.match(String(r.details.version), /MariaDB|^\d+\./);
      assert.ok(Number(r.details.connections) >= 1);
      assert.ok(Number(r.details.maxConnections) > 0);
      assert.equal(r.details.target, '127.0.0.1:3306/test');
      assert.doesNotMatch(JSON.stringify(r.details), /mysql:\/\//);
      // The connection is kept: a second run works on it.
      assert.equal((await run()).status, 'healthy');
    } finally {
      await check.close?.();
    }
  });

  test('a wrong password is unhealthy, and the password never shows', async () => {
    const url = MYSQL_URL.replace('root@', 'nobody_pm:WrongPass77@');
    const { check, run } = checkFrom({ name: 'maria', kind: 'mysql', url });
    const r = await run();
    await check.close?.();
    assert.equal(r.status, 'unhealthy');
    assert.match(r.error ?? '', /^MySQL at 127\.0\.0\.1:3306\/test: Access denied/);
    assert.doesNotMatch(JSON.stringify(r), /WrongPass77/);
  });

  test('nothing listening is unhealthy with ECONNREFUSED', async () => {
    const port = await freePort();
    const { check, run } = checkFrom({
      name: 'maria',
      kind: 'mysql',
      url: `mysql://root@127.0.0.1:${port}/test`,
    });
    const r = await run();
    await check.close?.();
    assert.equal(r.status, 'unhealthy');
    assert.match(r.error ?? '', /ECONNREFUSED/);
  });

  test('a server that accepts and never answers: timed out, and the server sees the close by timeout + 100 ms', async () => {
    const r = await runAgainstHungServer((port) => ({
      name: 'm',
      kind: 'mysql',
      url: `mysql://root@127.0.0.1:${port}/x`,
    }));
    assert.equal(r.status, 'unhealthy');
    assert.match(r.error ?? '', /timed out after 300 ms|ETIMEDOUT|timeout/i);
  });

  test('a timeout that passes before the check has connected leaves no connection open', async () => {
    await runAbortedAgainstHungServer(
      (port) => ({
        name: 'm',
        kind: 'mysql',
        url: `mysql://root@127.0.0.1:${port}/x`,
      }),
      'before',
    );
  });

  test('a timeout while the TCP connection is being made destroys that socket: it does not connect later and stay open', async () => {
    await runAbortedAgainstHungServer(
      (port) => ({
        name: 'm',
        kind: 'mysql',
        url: `mysql://root@127.0.0.1:${port}/x`,
      }),
      'connecting',
    );
  });

  test('a latency above the threshold is degraded', async () => {
    const { check, run } = checkFrom({ name: 'maria', kind: 'mysql', url: MYSQL_URL, latency_threshold: 0 });
    const r = await run();
    await check.close?.();
    assert.equal(r.status, 'degraded');
  });
});
