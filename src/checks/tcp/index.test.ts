import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, test } from 'node:test';
import {
  checkFrom,
  freePort,
  runAbortedAgainstHungServer,
  runAgainstHungServer,
} from '../../../test/support/health.js';

describe('tcp check', () => {
  test('a listening port is healthy with the connect latency', async () => {
    const server = createServer((s) => s.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const r = await checkFrom({ name: 'smtp', kind: 'tcp', host: '127.0.0.1', port }).run();
      assert.equal(r.status, 'healthy', r.error ?? '');
      assert.equal(r.details.target, `127.0.0.1:${port}`);
      assert.equal(typeof r.details.latencyMs, 'number');
      const slow = await checkFrom({
        name: 'smtp',
        kind: 'tcp',
        host: '127.0.0.1',
        port,
        latency_threshold: 0,
      }).run();
      assert.equal(slow.status, 'degraded');
    } finally {
      server.close();
    }
  });

  test('a closed port is unhealthy: connection refused', async () => {
    const port = await freePort();
    const r = await checkFrom({ name: 'smtp', kind: 'tcp', host: '127.0.0.1', port }).run();
    assert.equal(r.status, 'unhealthy');
    assert.equal(r.error, `TCP 127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`);
  });

  test('a server that accepts and never answers: healthy, and the server sees the close at once', async () => {
    const r = await runAgainstHungServer((port) => ({ name: 'smtp', kind: 'tcp', host: '127.0.0.1', port }));
    assert.equal(r.status, 'healthy', r.error ?? '');
  });

  test('a timeout that passes before the check has connected leaves no connection open', async () => {
    await runAbortedAgainstHungServer(
      (port) => ({ name: 'smtp', kind: 'tcp', host: '127.0.0.1', port }),
      'before',
    );
  });

  test('a timeout while the TCP connection is being made destroys that socket: it does not connect later and stay open', async () => {
    await runAbortedAgainstHungServer(
      (port) => ({ name: 'smtp', kind: 'tcp', host: '127.0.0.1', port }),
      'connecting',
    );
  });

  test('an invalid port is a config error', () => {
    assert.throws(
      () => checkFrom({ name: 'x', kind: 'tcp', host: 'h', port: 70000 }),
      /health\.checks\[0\]\.port/,
    );
  });
});
