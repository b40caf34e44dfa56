/** The embedded form: prodmon's routes mounted into a user's Express or plain node:http app. */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import express from 'express';
import { tempDir } from '../test/support/services.js';
import { createMonitor } from './index.js';

const dirs: { cleanup: () => void }[] = [];
after(() => {
  for (const d of dirs) d.cleanup();
});

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function monitor() {
  const d = tempDir();
  dirs.push(d);
  return createMonitor({ data_dir: d.path, logs: { stdout: false } }, { env: {}, fileLogs: false });
}

describe('embedded monitor', () => {
  test('mounted in Express, GET /health/ answers and the app keeps its own routes', async () => {
    const m = monitor();
    await m.start();
    const app = express();
    app.use(express.json());
    app.use(m.handler);
    app.get('/products/:id', (req, res) => {
      res.json({ id: req.params.id });
    });
    app.post('/orders', (req, res) => {
      res.status(201).json(req.body);
    });
    const server = createServer(app);
    const url = await listen(server);
    try {
      const health = await fetch(`${url}/health/`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: 'healthy' });
      assert.equal((await fetch(`${url}/health/live`)).status, 200);
      assert.deepEqual(await (await fetch(`${url}/products/7`)).json(), { id: '7' });
      const order = await fetch(`${url}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sku: 'A1' }),
      });
      assert.equal(order.status, 201);
      assert.deepEqual(await order.json(), { sku: 'A1' });
      // A path under prodmon's namespace that does not exist is prodmon's 404, not the app's.
      const missing = await fetch(`${url}/production/nothing-here`);
      assert.equal(missing.status, 404);
      assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'PRODMON_E_NOT_FOUND');
      const head = await fetch(`${url}/health/`, { method: 'HEAD' });
      assert.equal(head.status, 200);
    } finally {
      server.close();
      await m.stop();
    }
  });

  test('as a plain node:http handler, and readiness fails while draining', async () => {
    const m = monitor();
    await m.start();
    const server = createServer((req, res) =>
      m.handler(req, res, () => {
        res.end('app');
      }),
    );
    const url = await listen(server);
    try {
      assert.equal((await fetch(`${url}/health/ready`)).status, 200);
      assert.equal(await (await fetch(`${url}/shop`)).text(), 'app');
      m.lifecycle.draining = true;
      const ready = await fetch(`${url}/health/ready`);
      assert.equal(ready.status, 503);
      assert.deepEqual(await ready.json(), { status: 'draining' });
      assert.equal((await fetch(`${url}/health/live`)).status, 200);
    } finally {
      server.close();
      await m.stop();
    }
  });

  test('a bad embedded config throws a ConfigError naming the field', () => {
    assert.throws(
      () => createMonitor({ server: { port: 'x' } } as never, { env: {} }),
      /createMonitor config: server\.port: expected a number, got "x"/,
    );
  });
});
