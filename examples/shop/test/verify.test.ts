/**
 * `prodmon verify` on the example shop, prodmon embedded in it: the real CLI against the shop's own
 * URL with a read token. The shop as it is passes a short window; the `errors` fault switched on while
 * the gate watches (every API request answered 500) fires the `error_rate` rule's critical alert
 * inside the window, and the gate fails naming it.
 *
 * The host-level thresholds and prodmon's built-in checks are off, and the database and Redis checks
 * count as slow only past 5 s (their threshold is database_query_time's warning): a loaded test
 * machine's CPU, memory or scheduling must not be what fails (or passes) the gate.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { finished, killIfRunning, runCli, spawnCli, waitForOutput } from '../../../test/support/cli.js';
import { tempDir } from '../../../test/support/services.js';
import { Faults } from '../src/faults.js';
import { prodmonTelemetry } from '../src/prodmon.js';
import { call, REDIS_URL, type Running, redisPrefix, STORES } from './support/shop.js';

const READ_TOKEN = 'shop-verify-read-token-0123456789';
/** No URL or token from the environment the tests run in. */
const CLEAN = { PRODMON_URL: '', PRODMON_TOKEN: '' };
const off = { enabled: false };

describe('prodmon verify on the example shop', () => {
  let s: Running;
  const dir = tempDir('shop-verify-');
  const faults = new Faults({ errorRatio: 1 });
  const children: ReturnType<typeof spawnCli>[] = [];
  before(async () => {
    s = await STORES[0]!.start({
      redisUrl: REDIS_URL,
      redisPrefix: redisPrefix(),
      cacheCommandTimeoutMs: 2000,
      faults,
      telemetry: prodmonTelemetry({
        dataDir: dir.path,
        fileLogs: false,
        config: {
          auth: { tokens: [{ name: 'ci', token: READ_TOKEN, role: 'read' }] },
          logs: { stdout: false },
          health: { builtin_checks: false, refresh_interval: '1s' },
          metrics: { flush_interval: '1s' },
          alerting: {
            evaluation_interval: '1s',
            thresholds: {
              api_response_time: off,
              database_query_time: { enabled: false, warning: 5000, critical: 10_000 },
              memory_usage: off,
              cpu_usage: off,
              disk_usage: off,
            },
          },
          jobs: { cleanup: false, archive: false, health: false, daily_summary: false },
        },
      }),
    });
  });
  after(async () => {
    for (const c of children) killIfRunning(c);
    await s?.cleanup();
    dir.cleanup();
  });

  test('the shop as it is passes a short window', async () => {
    for (const id of [1, 2, 3]) assert.equal((await call(s.url, 'GET', `/api/products/${id}`)).status, 200);
    const r = await runCli(
      ['verify', '--url', s.url, '--token', READ_TOKEN, '--for', '2s', '--interval', '200ms'],
      { env: CLEAN, timeoutMs: 90_000 },
    );
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /^PASSED/);
  });

  test('the errors fault switched on inside the window fails it, naming the error_rate alert', async () => {
    const child = spawnCli(
      ['verify', '--url', s.url, '--token', READ_TOKEN, '--for', '2m', '--interval', '200ms'],
      { env: CLEAN },
    );
    children.push(child);
    const result = finished(child);
    await waitForOutput(child, /watching the health and critical alerts for/, 60_000);
    faults.set('errors', true);
    try {
      // 40 failed requests in error_rate's 5 minute window: 8 a minute, critical from 5 (the defaults).
      for (let i = 0; i < 40; i++) assert.equal((await call(s.url, 'GET', '/api/products/1')).status, 500);
    } finally {
      faults.set('errors', false);
    }
    const r = await result;
    assert.equal(r.code, 1, r.stderr + r.stdout);
    assert.match(
      r.stdout,
      /^FAILED: critical alert "error_rate" \(al_\w+\) fired at .*failed requests per minute/,
    );
  });
});
