/** The alert and silence routes on a real monitor: tokens and roles, filters, manual resolution, silences. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '../../../test/support/services.js';
import { type App, createApp } from '../../app.js';
import { FakeClock } from '../../core/clock.js';
import type { Alert } from '../../domain/alert.js';
import { METRIC } from '../../metrics/names.js';

const ADMIN = 'admin-token-0123456789abcdef';
const READ = 'read-token-0123456789abcdef';
const T0 = Date.UTC(2026, 2, 2, 10, 0, 0);

describe('alert routes', () => {
  const dir = tempDir();
  const clock = new FakeClock(T0);
  let m: App;
  let firing: Alert;

  const req = (
    method: 'GET' | 'POST' | 'DELETE',
    url: string,
    token: string | null,
    payload?: unknown,
    headers: Record<string, string> = {},
  ) =>
    m.http.inject({
      method,
      url,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
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
        // The host's own figures (sampled for real) must not add alerts to these assertions.
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
          ],
        },
      },
      { env: {}, fileLogs: false, clock },
    );
    await m.start();
    // advance (not set): the leader lease renews on this clock, and only the leader evaluates.
    await clock.advance(10_000);
    for (let i = 0; i < 20; i++)
      m.metrics.record(METRIC.httpRequest, { route: '/slow', method: 'GET', status_class: '2xx' }, 2600);
    await m.alerting.evaluateNow();
    const open = m.alerting.openAlerts();
    assert.equal(
      open.length,
      1,
      `the slow route fired: ${JSON.stringify(open.map((a) => [a.rule, a.labels, a.message]))}`,
    );
    firing = open[0]!;
  });
  after(async () => {
    await m.stop({ drainDelayMs: 0 });
    dir.cleanup();
  });

  test('GET /production/alerts/ needs a token; lists the firing alert with its value and threshold', async () => {
    assert.equal((await req('GET', '/production/alerts/', null)).statusCode, 401);
    const res = await req('GET', '/production/alerts/', READ);
    assert.equal(res.statusCode, 200);
    const body = res.json() as {
      active: (Alert & { mutedBy: string[] })[];
      alerts: Alert[];
      total: number;
      next_offset: number | null;
    };
    assert.equal(body.active.length, 1);
    const a = body.active[0]!;
    assert.deepEqual(
      [a.rule, a.status, a.severity, a.threshold, a.labels.route],
      ['api_response_time', 'firing', 'critical', 2000, '/slow'],
    );
    assert.ok(Math.abs(a.value! - 2600) < 60, `value ${a.value}`);
    assert.deepEqual(a.mutedBy, []);
    assert.equal(body.total, 1);
    assert.equal(body.next_offset, null);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal('state' in a, false, 'the engine bookkeeping stays private');
  });

  test('filters by status, severity, type and time; a bad filter is a 400 naming it', async () => {
    const get = async (q: string) =>
      (await req('GET', `/production/alerts/?${q}`, READ)).json() as { total: number; active: unknown[] };
    assert.equal((await get('status=resolved')).total, 0);
    assert.equal((await get('status=active')).total, 1);
    assert.equal((await get('severity=critical&type=performance')).total, 1);
    assert.equal((await get('severity=low')).active.length, 0);
    assert.equal((await get('since=2026-03-02T10:01:00Z')).total, 0);
    assert.equal((await get('since=1h')).total, 1);
    const badRes = await req('GET', '/production/alerts/?status=open', READ);
    assert.equal(badRes.statusCode, 400);
    assert.match(
      (badRes.json() as { error: { message: string } }).error.message,
      /"status" must be among active, pending, firing, resolved, all; got "open"/,
    );
    assert.equal((await req('GET', '/production/alerts/?limit=0', READ)).statusCode, 400);
  });

  test('GET /production/alerts/:id shows the alert with its history; 404 for an unknown id', async () => {
    const res = await req('GET', `/production/alerts/${firing.id}`, READ);
    const body = res.json() as { alert: Alert; events: { kind: string }[] };
    assert.deepEqual(
      body.events.map((e) => e.kind),
      ['firing'],
    );
    assert.equal((await req('GET', '/production/alerts/al_unknown', READ)).statusCode, 404);
  });

  test('POST /production/alerts/resolve/: 403 for read, 400 for bad bodies, 404, then 200 audited, then 409', async () => {
    const url = '/production/alerts/resolve/';
    const json = { 'content-type': 'application/json' };
    assert.equal((await req('POST', url, READ, { id: firing.id, reason: 'x' })).statusCode, 403);
    const malformed = await req('POST', url, ADMIN, '{"id": ', json);
    assert.equal(malformed.statusCode, 400);
    assert.equal(
      (malformed.json() as { error: { message: string } }).error.message,
      'malformed JSON body; expected {"id": "<alert id>", "reason": "<why>"}',
    );
    const empty = await req('POST', url, ADMIN, '', json);
    assert.equal(empty.statusCode, 400);
    const noId = await req('POST', url, ADMIN, { reason: 'fixed' });
    assert.equal(noId.statusCode, 400);
    assert.match((noId.json() as { error: { message: string } }).error.message, /^"id" is required/);
    const noReason = await req('POST', url, ADMIN, { id: firing.id });
    assert.equal(noReason.statusCode, 400);
    assert.match((noReason.json() as { error: { message: string } }).error.message, /^"reason" is required/);
    assert.equal((await req('POST', url, ADMIN, [1, 2])).statusCode, 400);
    const unknown = await req('POST', url, ADMIN, { id: 'al_nope', reason: 'x' });
    assert.equal(unknown.statusCode, 404);

    await clock.advance(T0 + 60_000 - clock.now());
    const ok = await req('POST', url, ADMIN, { id: firing.id, reason: 'restarted the pool' });
    assert.equal(ok.statusCode, 200, ok.body);
    const resolved = (ok.json() as { alert: Alert }).alert;
    assert.deepEqual(resolved.resolution, {
      kind: 'manual',
      by: 'ops',
      at: T0 + 60_000,
      reason: 'restarted the pool',
    });
    const again = await req('POST', url, ADMIN, { id: firing.id, reason: 'again' });
    assert.equal(again.statusCode, 409);
    assert.match(again.body, /already resolved .* by ops/);
    const audit = await m.store.audit.list({ target: firing.id });
    assert.deepEqual(
      audit.map((e) => [e.action, e.actor, e.detail.reason]),
      [['alert.resolve', 'ops', 'restarted the pool']],
    );
    const events = (await req('GET', `/production/alerts/${firing.id}`, READ)).json() as {
      events: { kind: string; actor: string | null }[];
    };
    assert.deepEqual(
      events.events.map((e) => [e.kind, e.actor]),
      [
        ['firing', null],
        ['resolved', 'ops'],
      ],
    );
  });

  test('silences: created by an admin (201), listed, expired by DELETE; bad requests are 400s', async () => {
    const url = '/production/alerts/silences/';
    assert.equal(
      (await req('POST', url, READ, { rule: 'cpu_usage', duration: '30m', comment: 'x' })).statusCode,
      403,
    );
    const noMatcher = await req('POST', url, ADMIN, { duration: '30m', comment: 'deploy' });
    assert.equal(noMatcher.statusCode, 400);
    assert.match(noMatcher.body, /needs a matcher/);
    assert.equal(
      (await req('POST', url, ADMIN, { rule: 'x', duration: 'soon', comment: 'x' })).statusCode,
      400,
    );
    const created = await req('POST', url, ADMIN, {
      rule: 'api_response_time',
      labels: { route: '/slow' },
      duration: '30m',
      comment: 'deploy',
    });
    assert.equal(created.statusCode, 201, created.body);
    const s = (
      created.json() as { silence: { id: string; state: string; endsAt: number; createdBy: string } }
    ).silence;
    assert.deepEqual([s.state, s.endsAt - clock.now(), s.createdBy], ['active', 30 * 60_000, 'ops']);
    const listed = (await req('GET', url, READ)).json() as {
      silences: { id: string }[];
      maintenance: unknown[];
    };
    assert.deepEqual(
      listed.silences.map((x) => x.id),
      [s.id],
    );
    assert.deepEqual(listed.maintenance, []);
    const expired = await req('DELETE', `${url}${s.id}`, ADMIN);
    assert.equal(expired.statusCode, 200);
    assert.equal((expired.json() as { silence: { state: string } }).silence.state, 'expired');
    assert.equal((await req('DELETE', `${url}${s.id}`, ADMIN)).statusCode, 409);
    assert.equal((await req('POST', `${url}si_nope/expire`, ADMIN)).statusCode, 404);
    assert.deepEqual(((await req('GET', url, READ)).json() as { silences: unknown[] }).silences, []);
    assert.equal(
      ((await req('GET', `${url}?state=all`, READ)).json() as { silences: unknown[] }).silences.length,
      1,
    );
  });

  test('repeated invalid tokens raise a security alert for the source', async () => {
    for (let i = 0; i < 11; i++) await req('GET', '/production/alerts/', 'not-a-valid-token-at-all');
    await m.alerting.idle();
    const sec = m.alerting.openAlerts().filter((a) => a.type === 'security');
    assert.equal(sec.length, 1);
    assert.deepEqual(
      [sec[0]!.rule, sec[0]!.status, sec[0]!.severity, sec[0]!.value],
      ['failed_logins', 'firing', 'high', 11],
    );
  });
});
