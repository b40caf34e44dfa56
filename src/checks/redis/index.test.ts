import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createClient } from 'redis';
import {
  checkFrom,
  freePort,
  runAbortedAgainstHungServer,
  runAgainstHungServer,
  startRedis,
} from '../../../test/support/health.js';
import { REDIS_URL, uniqueName } from '../../../test/support/services.js';
import { parseInfo } from './index.js';

describe('redis check', () => {
  test('the read/write test passes on a live server, with version, memory and clients, and leaves no key', async () => {
    const prefix = `${uniqueName('pm_hc')}:`;
    const { check, run } = checkFrom({
      name: 'cache',
      kind: 'redis',
      url: REDIS_URL,
      key_prefix: prefix,
      latency_threshold: '30s',
    });
    const probe = createClient({ url: REDIS_URL });
    probe.on('error', () => {});
    await probe.connect();
    try {
      const r = await run();
      assert.equal(r.status, 'healthy', r.error ?? '');
      assert.equal(r.details.readWrite, 'ok');
      assert.match(String(r.details.version), /^\d+\.\d+/);
      const mem = r.details.memory as { usedBytes: number; peakBytes: number };
      assert.ok(mem.usedBytes > 0 && mem.peakBytes > 0);
      assert.ok(Number(r.details.connectedClients) >= 1);
      assert.deepEqual(await probe.keys(`${prefix}*`), [], 'the probe key is deleted');
    } finally {
      await probe.close();
      await check.close?.();
    }
  });

  test('a server that goes away is unhealthy with a clear error; back, the check is healthy again', async () => {
    const port = await freePort();
    let server = await startRedis(port);
    const { check, run } = checkFrom({
      name: 'cache',
      kind: 'redis',
      url: `redis://127.0.0.1:${port}`,
      timeout: '1s',
      latency_threshold: '30s',
    });
    try {
      assert.equal((await run()).status, 'healthy');
      await server.stop();
      const down = await run();
      assert.equal(down.status, 'unhealthy');
      assert.match(
        down.error ?? '',
        new RegExp(`^Redis at 127\\.0\\.0\\.1:${port}: .*(ECONNREFUSED|closed|Socket)`, 'i'),
      );
      const stillDown = await run();
      assert.match(stillDown.error ?? '', /ECONNREFUSED/);
      server = await startRedis(port);
      const back = await run();
      assert.equal(back.status, 'healthy', back.error ?? '');
    } finally {
      await check.close?.();
      await server.stop();
    }
  });

  test('a server that accepts and never answers: timed out, and the server sees the close by timeout + 100 ms', async () => {
    const r = await runAgainstHungServer((port) => ({
      name: 'c',
      kind: 'redis',
      url: `redis://127.0.0.1:${port}`,
    }));
    assert.equal(r.status, 'unhealthy');
    assert.equal(r.error, 'timed out after 300 ms');
  });

  test('a timeout that passes before the check has connected leaves no connection open', async () => {
    await runAbortedAgainstHungServer(
      (port) => ({
        name: 'c',
        kind: 'redis',
        url: `redis://127.0.0.1:${port}`,
      }),
      'before',
    );
  });

  test('a timeout while the TCP connection is being made destroys that socket: it does not connect later and stay open', async () => {
    await runAbortedAgainstHungServer(
      (port) => ({
        name: 'c',
        kind: 'redis',
        url: `redis://127.0.0.1:${port}`,
      }),
      'connecting',
    );
  });

  test('INFO replies parse into fields', () => {
    assert.deepEqual(parseInfo('# Memory\r\nused_memory:1024\r\nused_memory_human:1.00K\r\n\r\n'), {
      used_memory: '1024',
      used_memory_human: '1.00K',
    });
  });
});
