import assert from 'node:assert/strict';
import { get, type IncomingMessage } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '../../../test/support/wait.js';
import { DashClient } from '../../dashboard/test-support/client.js';
import {
  ADMIN_TOKEN,
  insertAlert,
  type MonitorFixture,
  PASSWORD,
  READ_TOKEN,
  startMonitor,
  withoutEvaluation,
} from '../../dashboard/test-support/fixture.js';
import { METRIC } from '../../metrics/names.js';

let f: MonitorFixture;
const A = '/production/api';
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

before(async () => {
  f = await startMonitor({ backfillMinutes: 30 });
});
after(async () => {
  await f.close();
});

const inject = (method: 'GET' | 'POST', url: string, headers: Record<string, string> = {}, json?: unknown) =>
  f.monitor.http.inject({
    method,
    url,
    headers: json === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    payload: json === undefined ? undefined : JSON.stringify(json),
  });

describe('dashboard JSON API', () => {
  test('every read needs a token or a session', async () => {
    for (const path of [
      'status',
      'checks',
      'performance',
      'alerts',
      'alerts/active',
      'silences',
      'session',
      'events',
    ]) {
      const r = await inject('GET', `${A}/${path}`);
      assert.equal(r.statusCode, 401, path);
      assert.equal(r.json().error.code, 'PRODMON_E_UNAUTHORIZED');
    }
    assert.equal((await inject('GET', `${A}/status`, bearer('not-a-valid-token-at-all'))).statusCode, 401);
  });

  test('status, checks and performance answer the data the page shows', async () => {
    const status = (await inject('GET', `${A}/status`, bearer(READ_TOKEN))).json();
    assert.ok(['healthy', 'degraded', 'unhealthy', 'no-data'].includes(status.status), status.status);
    assert.ok(['healthy', 'degraded', 'unhealthy', 'no-data'].includes(status.health), status.health);
    assert.deepEqual(Object.keys(status.alerts.bySeverity), ['low', 'medium', 'high', 'critical']);
    const checks = (await inject('GET', `${A}/checks`, bearer(READ_TOKEN))).json().checks;
    assert.ok(checks.length > 0, 'the built-in checks ran');
    assert.ok(checks.every((c: { recent: unknown[] }) => Array.isArray(c.recent)));
    const perf = await inject('GET', `${A}/performance?range=1h`, bearer(READ_TOKEN));
    assert.equal(perf.statusCode, 200);
    const p = perf.json();
    assert.equal(p.range, '1h');
    assert.ok(p.summary.overall.count > 1000, `backfilled requests: ${p.summary.overall.count}`);
    assert.equal(p.summary.slowest[0].labels.route, '/checkout');
    assert.deepEqual(
      p.charts.charts.map((c: { id: string }) => c.id),
      ['throughput', 'errors', 'latency', 'db', 'cpu', 'memory', 'process-memory', 'disk', 'eventloop'],
    );
    assert.ok(
      p.charts.times.length >= 60 && p.charts.times.length <= 61,
      'one point a minute, the current one included',
    );
    const charts = (await inject('GET', `${A}/performance/charts?range=7d`, bearer(READ_TOKEN))).json();
    assert.equal(charts.range, '7d');
    assert.ok(charts.times.length >= 168 && charts.times.length <= 169, 'one point an hour');
  });

  test('alerts list with filters, detail with timeline and notifications; bad filters are 400', async () => {
    const now = Date.now();
    const a = await insertAlert(f.monitor.store, now, {
      rule: 'api_rule',
      message: 'api alert',
      severity: 'critical',
      type: 'error',
    });
    await f.monitor.store.outbox.enqueue({
      key: `${a.id}:ops`,
      alertId: a.id,
      transition: 'firing',
      channel: 'ops-mail',
      payload: {},
      now,
    });
    const [item] = await f.monitor.store.outbox.forAlert(a.id);
    await f.monitor.store.outbox.recordDelivery({
      outboxId: item!.id,
      at: now,
      ok: false,
      statusCode: 503,
      error: 'smtp down',
      durationMs: 12,
    });
    const list = (
      await inject('GET', `${A}/alerts?severity=critical&type=error&status=firing`, bearer(READ_TOKEN))
    ).json();
    assert.ok(list.items.some((x: { id: string }) => x.id === a.id));
    assert.ok(list.items.every((x: { severity: string }) => x.severity === 'critical'));
    assert.equal('state' in list.items[0], false, "the engine's bookkeeping is not exposed");
    const detail = (await inject('GET', `${A}/alerts/${a.id}`, bearer(READ_TOKEN))).json();
    assert.equal(detail.alert.id, a.id);
    assert.deepEqual(
      detail.events.map((e: { kind: string }) => e.kind),
      ['firing'],
    );
    assert.equal(detail.notifications[0].channel, 'ops-mail');
    assert.equal(detail.notifications[0].deliveries[0].error, 'smtp down');
    assert.equal(detail.logs.available, true);
    assert.equal((await inject('GET', `${A}/alerts/al_nope`, bearer(READ_TOKEN))).statusCode, 404);
    const bad = await inject('GET', `${A}/alerts?severity=urgent`, bearer(READ_TOKEN));
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().error.message, /severity/);
    assert.equal((await inject('GET', `${A}/alerts?limit=100000`, bearer(READ_TOKEN))).statusCode, 400);
  });

  test('resolving needs the admin role and a reason; a second resolve conflicts', () =>
    withoutEvaluation(f, async () => {
      const a = await insertAlert(f.monitor.store, Date.now(), {
        rule: 'api_resolve',
        message: 'resolve me',
      });
      const url = `${A}/alerts/${a.id}/resolve`;
      assert.equal((await inject('POST', url, bearer(READ_TOKEN), { reason: 'x' })).statusCode, 403);
      assert.equal((await inject('POST', url, bearer(ADMIN_TOKEN), { reason: '' })).statusCode, 400);
      const ok = await inject('POST', url, bearer(ADMIN_TOKEN), { reason: 'fixed by hand' });
      assert.equal(ok.statusCode, 200);
      assert.equal(ok.json().alert.resolution.reason, 'fixed by hand');
      assert.equal(ok.json().alert.resolution.by, 'ops-token');
      assert.equal((await inject('POST', url, bearer(ADMIN_TOKEN), { reason: 'again' })).statusCode, 409);
    }));

  test('with a session, a state change needs the CSRF header and this origin', () =>
    withoutEvaluation(f, async () => {
      const a = await insertAlert(f.monitor.store, Date.now(), {
        rule: 'api_session',
        message: 'session resolve',
      });
      const c = new DashClient(f.monitor.http);
      await c.signIn({ name: 'admin', password: PASSWORD });
      const session = (await c.request('GET', `${A}/session`)).json();
      assert.deepEqual([session.name, session.role, session.via], ['admin', 'admin', 'session:user']);
      const url = `${A}/alerts/${a.id}/resolve`;
      assert.equal((await c.request('POST', url, { json: { reason: 'x' } })).statusCode, 403);
      const foreign = await c.request('POST', url, {
        json: { reason: 'x' },
        headers: { 'x-csrf-token': session.csrf, origin: 'http://evil.example' },
      });
      assert.equal(foreign.statusCode, 403);
      assert.equal((await f.monitor.store.alerts.get(a.id))?.status, 'firing');
      const ok = await c.request('POST', url, {
        json: { reason: 'from the page' },
        headers: { 'x-csrf-token': session.csrf, 'sec-fetch-site': 'same-origin' },
      });
      assert.equal(ok.statusCode, 200);
    }));

  test('silences are created and ended through the API (admin), audited', async () => {
    const r = await inject('POST', `${A}/silences`, bearer(ADMIN_TOKEN), {
      rule: 'disk_usage',
      duration: '2h',
      comment: 'resizing',
    });
    assert.equal(r.statusCode, 201);
    const s = r.json().silence;
    assert.equal(s.endsAt - s.startsAt, 7_200_000);
    assert.equal(
      (await inject('POST', `${A}/silences`, bearer(ADMIN_TOKEN), { duration: '2h', comment: 'everything?' }))
        .statusCode,
      400,
    );
    assert.equal(
      (await inject('POST', `${A}/silences`, bearer(READ_TOKEN), { rule: 'x', duration: '1h', comment: 'c' }))
        .statusCode,
      403,
    );
    const list = (await inject('GET', `${A}/silences`, bearer(READ_TOKEN))).json().silences;
    assert.equal(list[0].id, s.id);
    assert.equal((await inject('POST', `${A}/silences/${s.id}/expire`, bearer(ADMIN_TOKEN))).statusCode, 200);
    assert.equal((await inject('POST', `${A}/silences/${s.id}/expire`, bearer(ADMIN_TOKEN))).statusCode, 409);
    const audit = await f.monitor.store.audit.list({ target: s.id });
    assert.deepEqual(audit.map((e) => e.action).sort(), ['silence.create', 'silence.expire']);
  });

  test('the event stream sends the digest, then the sections a new alert changes', async () => {
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      get(`${f.url}${A}/events`, { headers: bearer(READ_TOKEN) }, resolve).on('error', reject);
    });
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => {
      text += c;
    });
    try {
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['content-type'], 'text/event-stream; charset=utf-8');
      assert.match(String(res.headers['content-security-policy']), /frame-ancestors 'none'/);
      await waitFor(() => text.includes('event: state'), {
        what: () => `the state event; got ${JSON.stringify(text)}`,
      });
      assert.match(
        text,
        /event: state\ndata: \{"digest":\{"banner":"[\w-]+","checks":"[\w-]+","alerts":"[\w-]+","history":"[\w-]+","deployments":"[\w-]+"\}/,
      );
      await insertAlert(f.monitor.store, Date.now(), {
        rule: 'sse_rule',
        message: 'live one',
        severity: 'critical',
      });
      f.monitor.metrics.record(METRIC.httpRequest, { route: '/x', method: 'GET', status_class: '2xx' }, 1);
      const alertsChanged = /event: change\ndata: \{"sections":\[[^\]]*"alerts"/;
      await waitFor(() => alertsChanged.test(text), {
        what: () => `a change of the alerts; got ${JSON.stringify(text)}`,
      });
      assert.match(text, alertsChanged);
    } finally {
      res.destroy();
    }
  });
});
