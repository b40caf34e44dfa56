/** `Accept: application/health+json` on the health routes, through a real App listening on loopback. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { testApp as makeApp } from '../../test/support/app.js';
import { freePort } from '../../test/support/health.js';
import { PG_URL } from '../../test/support/services.js';
import { FakeClock } from '../core/clock.js';
import type { HealthJsonBody } from './health-json.js';

const TOKEN = 'read-token-0123456789abcdef';
const HJ = 'application/health+json';

async function get(url: string, accept?: string, token?: string) {
  const headers: Record<string, string> = {};
  if (accept !== undefined) headers.accept = accept;
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url, { headers });
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    vary: res.headers.get('vary'),
    text: await res.text(),
  };
}

describe('health in application/health+json', () => {
  test('/health/ answers status only, pass/warn/fail, when asked; JSON otherwise', async () => {
    const down = await freePort();
    const app = makeApp({
      health: {
        builtin_checks: false,
        checks: [{ name: 'partner', kind: 'http', url: `http://127.0.0.1:${down}/`, critical: false }],
      },
    });
    await app.start();
    try {
      await app.health.run();
      const base = await app.listen('127.0.0.1', 0);
      const hj = await get(`${base}/health/`, HJ);
      assert.equal(hj.status, 200);
      assert.equal(hj.type, 'application/health+json; charset=utf-8');
      assert.equal(hj.text, '{"status":"warn"}', 'degraded is warn, and nothing but the status');
      assert.match(hj.vary ?? '', /accept/i);
      for (const accept of [
        `application/json;q=0.5, ${HJ}`,
        `${HJ}, application/json`,
        `text/html, ${HJ};q=0.9, */*;q=0.1`,
      ]) {
        const r = await get(`${base}/health`, accept);
        assert.equal(r.text, '{"status":"warn"}', accept);
        assert.equal(r.type, 'application/health+json; charset=utf-8', accept);
      }
      for (const accept of [
        undefined,
        '*/*',
        'application/json',
        `${HJ};q=0`,
        `${HJ};q=0.5, application/json`,
      ]) {
        const r = await get(`${base}/health/`, accept);
        assert.equal(r.text, '{"status":"degraded"}', String(accept));
        assert.equal(r.type, 'application/json; charset=utf-8', String(accept));
      }

      app.health.register('queue', async () => ({ status: 'unhealthy', detail: 'stuck' }));
      await app.health.run();
      const fail = await get(`${base}/health/`, HJ);
      assert.deepEqual([fail.status, fail.text], [503, '{"status":"fail"}']);
    } finally {
      await app.stop();
    }
  });

  test('the detailed view: checks keyed component:measurement with type, value, unit, status, time, output', async () => {
    const down = await freePort();
    const app = makeApp({
      auth: { tokens: [{ name: 'viewer', token: TOKEN, role: 'read' }] },
      health: {
        checks: [
          { name: 'db', kind: 'postgres', url: PG_URL, latency_threshold: '2s' },
          {
            name: 'partner',
            kind: 'http',
            url: `http://127.0.0.1:${down}/status?api_key=QueryKeySecret7`,
            critical: false,
          },
        ],
      },
    });
    await app.start();
    try {
      await app.health.run();
      const base = await app.listen('127.0.0.1', 0);
      assert.equal(
        (await get(`${base}/production/health/detailed/`, HJ)).status,
        401,
        'a token is still needed',
      );
      const r = await get(`${base}/production/health/detailed/`, HJ, TOKEN);
      assert.equal(r.status, 200);
      assert.equal(r.type, 'application/health+json; charset=utf-8');
      assert.ok(!r.text.includes('QueryKeySecret7'), 'secrets are scrubbed');
      const body = JSON.parse(r.text) as HealthJsonBody;
      assert.equal(body.status, 'warn');
      assert.equal(body.serviceId, app.config.instanceId);
      assert.match(body.releaseId ?? '', /^\d+\.\d+\.\d+/);
      const checks = body.checks!;
      for (const key of [
        'db:responseTime',
        'partner:responseTime',
        'cpu:responseTime',
        'cpu:utilization',
        'memory:utilization',
        'disk:utilization',
        'event_loop:delay',
        'self:responseTime',
      ])
        assert.ok(checks[key], `${key} in ${Object.keys(checks).join(', ')}`);
      for (const [key, entries] of Object.entries(checks)) {
        assert.ok(entries.length >= 1, key);
        for (const e of entries) {
          assert.ok(['pass', 'warn', 'fail'].includes(e.status), key);
          assert.ok(['datastore', 'system', 'component'].includes(e.componentType), key);
          assert.ok(e.observedValue === null || typeof e.observedValue === 'number', key);
          assert.ok(['ms', '%'].includes(e.observedUnit), key);
          assert.match(e.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, key);
          if (e.status === 'pass') assert.equal(e.output, undefined, `${key}: no output on pass`);
        }
      }
      const [db] = checks['db:responseTime']!;
      assert.deepEqual([db!.componentType, db!.observedUnit, db!.status], ['datastore', 'ms', 'pass']);
      assert.equal(typeof db!.observedValue, 'number');
      const [partner] = checks['partner:responseTime']!;
      assert.deepEqual([partner!.componentType, partner!.status], ['component', 'fail']);
      assert.match(partner!.output ?? '', /127\.0\.0\.1/);
      const [cpu] = checks['cpu:utilization']!;
      assert.deepEqual([cpu!.componentType, cpu!.observedUnit], ['system', '%']);
      assert.ok(checks['disk:utilization']!.every((e) => typeof e.componentId === 'string'));

      const json = await get(`${base}/production/health/detailed/`, undefined, TOKEN);
      assert.equal(json.type, 'application/json; charset=utf-8');
      assert.equal((JSON.parse(json.text) as { status: string }).status, 'degraded', 'JSON unless asked');
    } finally {
      await app.stop();
    }
  });

  test('while draining, /health/ answers 503 draining (JSON) or fail with output draining', async () => {
    const clock = new FakeClock();
    const app = makeApp(
      {
        auth: { tokens: [{ name: 'viewer', token: TOKEN, role: 'read' }] },
        health: { drain_delay: '5s', builtin_checks: false },
      },
      clock,
    );
    await app.start();
    await app.health.idle();
    const base = await app.listen('127.0.0.1', 0);
    assert.equal((await get(`${base}/health/`, HJ)).text, '{"status":"pass"}');
    const stopping = app.stop();
    try {
      await clock.advance(1000);
      assert.equal(app.lifecycle.draining, true);
      const json = await get(`${base}/health/`);
      assert.deepEqual([json.status, json.text], [503, '{"status":"draining"}']);
      const hj = await get(`${base}/health/`, HJ);
      assert.deepEqual([hj.status, hj.type], [503, 'application/health+json; charset=utf-8']);
      assert.deepEqual(JSON.parse(hj.text), { status: 'fail', output: 'draining' });
      const detailed = JSON.parse((await get(`${base}/production/health/detailed/`, HJ, TOKEN)).text);
      assert.deepEqual([detailed.status, detailed.output], ['fail', 'draining']);
    } finally {
      await clock.advance(5000);
      await stopping;
    }
  });
});
