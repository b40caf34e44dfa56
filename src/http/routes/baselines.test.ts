/** The deployment gate's HTTP API on a real monitor: roles, validation naming the field, save, show, compare, delete. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type FakeRequest,
  flushTo,
  logNormal,
  memoryRecorder,
  recordMinutes,
  seeded,
} from '../../../test/support/gate-windows.js';
import { tempDir } from '../../../test/support/services.js';
import { type App, createApp } from '../../app.js';
import { FakeClock } from '../../core/clock.js';

const ADMIN = 'admin-token-0123456789abcdef';
const READ = 'read-token-0123456789abcdef';
const PUSH = 'push-token-0123456789abcdef';
const MIN = 60_000;
const T0 = Date.UTC(2026, 2, 2, 10, 0, 0);
const A = '/production/api/baselines';

function traffic(seed: number, slow = 1) {
  const random = seeded(seed);
  return (): FakeRequest[] =>
    Array.from({ length: 50 }, () => ({
      method: 'GET',
      route: '/api/items',
      ms: logNormal(random, 30, 0.3) * slow,
    }));
}

describe('baseline routes', () => {
  const dir = tempDir();
  // 11:00:30: the 30 minutes before are steady, 10:00-10:20 slow.
  const clock = new FakeClock(T0 + 60 * MIN + 30_000);
  let m: App;

  const req = (method: 'GET' | 'POST' | 'DELETE', url: string, token: string | null, payload?: unknown) =>
    m.http.inject({
      method,
      url,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      ...(payload === undefined
        ? {}
        : typeof payload === 'string'
          ? { payload }
          : { payload: payload as object }),
    });

  before(async () => {
    m = createApp(
      {
        data_dir: dir.path,
        logs: { stdout: false },
        health: { builtin_checks: false },
        alerting: {
          thresholds: {
            cpu_usage: { enabled: false },
            memory_usage: { enabled: false },
            disk_usage: { enabled: false },
          },
        },
        auth: {
          tokens: [
            { name: 'ops', token: ADMIN, role: 'admin' },
            { name: 'viewer', token: READ, role: 'read' },
            { name: 'agent', token: PUSH, role: 'push' },
          ],
        },
      },
      { env: {}, fileLogs: false, clock },
    );
    await m.start();
    const { recorder } = memoryRecorder('web-1');
    recordMinutes(recorder, T0, 20, traffic(1, 1.6));
    recordMinutes(recorder, T0 + 20 * MIN, 40, traffic(2));
    await flushTo(recorder, m.store);
    recorder.close();
  });
  after(async () => {
    await m.stop({ drainDelayMs: 0 });
    dir.cleanup();
  });

  test('reading needs role read, saving and deleting role admin', async () => {
    assert.equal((await req('GET', A, null)).statusCode, 401);
    assert.equal((await req('GET', A, PUSH)).statusCode, 403);
    assert.equal((await req('POST', `${A}/compare`, PUSH, { baseline: 'x' })).statusCode, 403);
    const denied = await req('POST', A, READ, { name: 'x' });
    assert.equal(denied.statusCode, 403);
    assert.match(denied.json().error.message, /token "viewer" has role "read"; this needs "admin"/);
    assert.equal((await req('DELETE', `${A}/x`, READ)).statusCode, 403);
    assert.deepEqual((await req('GET', A, READ)).json(), { baselines: [] });
  });

  test('save: 201 with the window; a second time 409 naming "force"; bad fields are 400 naming them', async () => {
    const ok = await req('POST', A, ADMIN, { name: 'steady', since: '30m' });
    assert.equal(ok.statusCode, 201, ok.body);
    const b = ok.json().baseline;
    // The last settled minute ends at 11:00 (10 s of flush delay): 10:30-11:00.
    assert.deepEqual(
      [b.name, b.from, b.until, b.requests, b.routes, b.createdBy],
      ['steady', T0 + 30 * MIN, T0 + 60 * MIN, 1500, 1, 'ops'],
    );
    const again = await req('POST', A, ADMIN, { name: 'steady' });
    assert.equal(again.statusCode, 409);
    assert.match(again.json().error.message, /replace it with "force"/);
    for (const [body, message] of [
      [{ name: 'bad name!' }, /"name" must be 1 to 64 characters of letters, digits/],
      [{}, /"name" is required/],
      [{ name: 'x', since: '30' }, /"since" 30 has no unit/],
      [{ name: 'x', since: '2m' }, /"since" must be at least 3m/],
      [{ name: 'x', since: '90s' }, /"since" must be at least 3m/],
      [{ name: 'x', since: '25h' }, /"since" must be at most 1d/],
      [{ name: 'x', since: '30m', from: '1h' }, /"since" or "from"\/"to", not both/],
      [{ name: 'x', from: 'yesterday', to: '1h' }, /"from": expected an ISO date-time/],
      [{ name: 'x', route: '' }, /"route" must not be empty/],
      [
        { name: 'x', route: '/a/'.repeat(100) },
        /"route": expected a route glob such as "\/api\/\*" or "GET \/api\/\*\*" of 1 to 200 characters/,
      ],
      [{ name: 'x', colour: 'red' }, /unknown field "colour"/],
      ['not json', /malformed JSON body/],
    ] as const) {
      const r =
        typeof body === 'string'
          ? await m.http.inject({
              method: 'POST',
              url: A,
              headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
              payload: body,
            })
          : await req('POST', A, ADMIN, body);
      assert.equal(r.statusCode, 400, `${JSON.stringify(body)}: ${r.body}`);
      assert.match(r.json().error.message, message);
    }
  });

  test('show: the figures per route with quantiles and minutes; list has it; unknown is 404', async () => {
    const r = await req('GET', `${A}/steady`, READ);
    assert.equal(r.statusCode, 200);
    const b = r.json().baseline;
    assert.equal(b.series.length, 1);
    const s = b.series[0];
    assert.deepEqual([s.key, s.requests, s.errors, s.minutes.length], ['GET /api/items', 1500, 0, 30]);
    assert.ok(s.p50 > 25 && s.p50 < 35 && s.p95 > s.p50 && s.p99 >= s.p95, JSON.stringify(s));
    assert.deepEqual(
      (await req('GET', A, READ)).json().baselines.map((x: { name: string }) => x.name),
      ['steady'],
    );
    assert.equal((await req('GET', `${A}/nope`, READ)).statusCode, 404);
    assert.equal((await req('GET', `${A}/no%20pe`, READ)).statusCode, 400);
  });

  test('compare: the report with the exit code the CLI uses; the slow window is a regression; bad options are 400', async () => {
    const same = await req('POST', `${A}/compare`, READ, {
      baseline: 'steady',
      until: new Date(T0 + 30 * MIN).toISOString(),
    });
    assert.equal(same.statusCode, 200, same.body);
    const s = same.json();
    assert.deepEqual(
      [s.verdict, s.exitCode, s.current.from, s.current.until],
      ['pass', 0, T0 + 20 * MIN, T0 + 30 * MIN],
    );
    const slow = (
      await req('POST', `${A}/compare`, READ, {
        baseline: 'steady',
        until: new Date(T0 + 20 * MIN).toISOString(),
        max_p99: '+20%',
      })
    ).json();
    assert.deepEqual([slow.verdict, slow.exitCode], ['regression', 1]);
    assert.deepEqual(
      slow.units
        .find((u: { key: string }) => u.key === 'GET /api/items')
        .checks.map((c: { criterion: string; verdict: string }) => [c.criterion, c.verdict]),
      [
        ['p95', 'regression'],
        ['p99', 'regression'],
        ['error_rate', 'pass'],
      ],
    );
    for (const [body, message] of [
      [{}, /give a baseline name \("baseline"\) or "before_deploy" <version>, one of them/],
      [{ baseline: 'steady', before_deploy: 'v1' }, /not both/],
      [{ baseline: 'steady', max_p95: '10' }, /"max_p95" must be an increase from "\+0.1%" to "\+1000%"/],
      [{ baseline: 'steady', max_error_rate: '+0.5%' }, /"max_error_rate" must be percentage points/],
      [{ baseline: 'steady', min_requests: 5 }, /"min_requests" must be an integer from 10 to 10000000/],
      [{ baseline: 'steady', min_delta: '5' }, /"min_delta" 5 has no unit/],
      [{ baseline: 'steady', alpha: 0.9 }, /"alpha" must be a number from 0.000001 to 0.5/],
      [{ baseline: 'steady', max_p95: 'off', max_error_rate: 'off' }, /nothing to check/],
    ] as const) {
      const r = await req('POST', `${A}/compare`, READ, body);
      assert.equal(r.statusCode, 400, `${JSON.stringify(body)}: ${r.body}`);
      assert.match(r.json().error.message, message);
    }
    assert.equal((await req('POST', `${A}/compare`, READ, { baseline: 'nope' })).statusCode, 404);
    const noMarker = await req('POST', `${A}/compare`, READ, { before_deploy: 'v1' });
    assert.equal(noMarker.statusCode, 404, noMarker.body);
    assert.match(noMarker.json().error.message, /"before_deploy": no deploy marker of version "v1"/);
  });

  test('delete: admin removes it; then 404', async () => {
    const r = await req('DELETE', `${A}/steady`, ADMIN);
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json(), { deleted: 'steady' });
    assert.equal((await req('DELETE', `${A}/steady`, ADMIN)).statusCode, 404);
    const audit = await m.store.audit.list({ target: 'steady' });
    assert.deepEqual(audit.map((e) => [e.action, e.actor]).sort(), [
      ['baseline.delete', 'ops'],
      ['baseline.save', 'ops'],
    ]);
  });
});
