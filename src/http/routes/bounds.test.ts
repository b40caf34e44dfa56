/**
 * Bounds on the numbers the HTTP API takes: a silence of `999999999d` or `1e308` is refused with a 400
 * naming the field (nothing stored), times must be dates from 1970 to 9999, page sizes and ranges are
 * bounded; a silence stored before the bounds does not break the pages that show it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { storeUnboundedSilence } from '../../../test/support/alerting.js';
import { ADMIN_TOKEN, type MonitorFixture, startMonitor } from '../../dashboard/test-support/fixture.js';

let f: MonitorFixture;
before(async () => {
  f = await startMonitor();
});
after(async () => {
  await f.close();
});

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

async function call(method: 'GET' | 'POST', url: string, payload?: unknown) {
  const res = await f.monitor.http.inject({
    method,
    url,
    headers: { ...auth, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
    payload: payload === undefined ? undefined : JSON.stringify(payload),
  });
  const body = res.headers['content-type']?.toString().includes('json')
    ? (res.json() as { error?: { message: string } })
    : {};
  return { status: res.statusCode, message: body.error?.message ?? '', body: res.body };
}

describe('silence bounds over HTTP', () => {
  test('a duration without a unit or beyond 90 days, or a time no date can hold, is 400 naming the field; nothing is stored', async () => {
    const before = (await f.monitor.store.silences.list(1000)).length;
    const base = { rule: 'checkout_latency', comment: 'too long' };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ duration: '999999999d' }, /^"duration": must be a duration .* at most 90d/],
      [{ duration: 1e308 }, /^"duration": /],
      [{ duration: 3600 }, /^"duration": 3600 has no unit; write "3600ms" or "3600s"/],
      [{ duration: '91d' }, /^"duration": /],
      [{ duration: '-5m' }, /^"duration": /],
      [{ ends_at: 8.6e16 }, /^"ends_at": must be an ISO date-time or ms since the epoch \(1970 to 9999\)/],
      [{ ends_at: '9999-01-01T00:00:00Z' }, /^"ends_at" must be at most 90d after the silence starts/],
      [{ starts_at: '2999-01-01T00:00:00Z', duration: '1h' }, /^"starts_at" must be at most 90d ahead/],
      [{ starts_at: 'soon', duration: '1h' }, /^"starts_at": /],
      [{ duration: '1h', labels: { a: 1 } }, /^"labels\.a": /],
    ];
    for (const path of ['/production/alerts/silences/', '/production/api/silences']) {
      for (const [extra, message] of cases) {
        const r = await call('POST', path, { ...base, ...extra });
        assert.equal(r.status, 400, `${path} ${JSON.stringify(extra)}: ${r.body}`);
        assert.match(r.message, message, `${path} ${JSON.stringify(extra)}`);
      }
    }
    assert.equal((await f.monitor.store.silences.list(1000)).length, before);
    const ok = await call('POST', '/production/api/silences', { ...base, duration: '90d' });
    assert.equal(ok.status, 201, ok.body);
  });

  test('the dashboard form names the duration too, as the API does', async () => {
    const { DashClient } = await import('../../dashboard/test-support/client.js');
    const c = new DashClient(f.monitor.http);
    assert.equal((await c.signIn({ name: 'admin', password: 'correct horse battery' })).statusCode, 303);
    const csrf = await c.csrf();
    const r = await c.request('POST', '/production/dashboard/silences', {
      form: { _csrf: csrf, rule: 'checkout_latency', duration: '999999999d', comment: 'x' },
    });
    assert.equal(r.statusCode, 400);
    assert.match(r.body, /&quot;duration&quot;: must be a duration .* at most 90d/);
  });

  test('a silence stored before the bounds (ending in 999999999 days) does not break the pages or the API', async () => {
    const now = Date.now();
    await storeUnboundedSilence(f.monitor.store, 'si_legacy_unbounded', now);
    const page = await call('GET', '/production/dashboard/silences');
    assert.equal(page.status, 200);
    assert.match(page.body, /data-silence-id="si_legacy_unbounded".*never/s);
    for (const url of [
      '/production/api/silences',
      '/production/alerts/silences/',
      '/production/api/status',
    ]) {
      assert.equal((await call('GET', url)).status, 200, url);
    }
  });
});

describe('bounds on query numbers', () => {
  test('page sizes, offsets, times and ranges out of bounds are 400 naming the parameter', async () => {
    const cases: [string, RegExp][] = [
      ['/production/alerts/?limit=501', /"limit" must be an integer from 1 to 500/],
      ['/production/alerts/?limit=0', /"limit"/],
      ['/production/alerts/?offset=-1', /"offset"/],
      ['/production/alerts/?since=99999999999999999999', /"since" must be a time from 1970 to 9999/],
      ['/production/alerts/?since=999999999d', /"since" must be a time from 1970 to 9999/],
      ['/production/alerts/?until=275760-09-13', /"until"/],
      ['/production/api/alerts?limit=100000', /"limit"/],
      ['/production/api/alerts?since=1e308', /"since"/],
      ['/production/alerts/silences/?limit=1001', /"limit" must be an integer from 1 to 1000/],
      ['/production/api/performance?range=1y', /range must be equal to one of the allowed values/],
      ['/production/api/performance/charts?range=9999999d', /range/],
    ];
    for (const [url, message] of cases) {
      const r = await call('GET', url);
      assert.equal(r.status, 400, `${url}: ${r.body}`);
      assert.match(r.message, message, url);
    }
    assert.equal((await call('GET', '/production/api/performance?range=7d')).status, 200);
    assert.equal((await call('GET', '/production/alerts/?since=24h&limit=500')).status, 200);
  });
});
