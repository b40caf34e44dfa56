/**
 * Refused requests as security events: wrong bearer tokens on every route and failed sign-ins are
 * written to security.log (bounded) and counted by the `failed_logins` rule, which fires.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FakeClock } from '../core/clock.js';
import { DashClient } from '../dashboard/test-support/client.js';
import { ADMIN_TOKEN, type MonitorFixture, startMonitor } from '../dashboard/test-support/fixture.js';
import { SecurityLogBudget } from './auth-log.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const PUSH = 'push-token-0123456789abcdef0';

/** The security.log lines written so far, parsed. */
async function securityLines(f: MonitorFixture): Promise<Record<string, unknown>[]> {
  await f.monitor.logger.flush();
  return readFileSync(join(f.dir, 'logs', 'security.log'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('wrong bearer tokens and failed sign-ins', () => {
  let f: MonitorFixture;
  const clock = new FakeClock(T0);
  before(async () => {
    f = await startMonitor({
      clock,
      fileLogs: true,
      config: {
        auth: {
          tokens: [
            { name: 'ops-token', token: ADMIN_TOKEN, role: 'admin' },
            { name: 'pusher', token: PUSH, role: 'push' },
          ],
        },
      },
    });
  });
  after(async () => {
    await f.close();
  });

  test('200 wrong tokens over the API, pages, ingest and detailed health: 401 each, logged (bounded) and counted until failed_logins fires', async () => {
    const routes: [string, string][] = [
      ['GET', '/production/api/status'],
      ['GET', '/production/alerts/'],
      ['GET', '/production/health/detailed/'],
      ['GET', '/production/dashboard/'],
      ['POST', '/production/ingest'],
    ];
    const statuses: number[] = [];
    for (let i = 0; i < 200; i++) {
      const [method, path] = routes[i % routes.length]!;
      const res = await fetch(`${f.url}${path}`, {
        method,
        headers: { authorization: `Bearer wrong-${i}`, 'content-type': 'application/json' },
        body: method === 'POST' ? '{}' : undefined,
      });
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    assert.deepEqual(new Set(statuses), new Set([401]));

    const lines = (await securityLines(f)).filter((l) => l.kind === 'api_auth_failure');
    assert.equal(lines.length, 20, 'at most 20 lines a minute per kind and address');
    assert.deepEqual(
      new Set(lines.map((l) => (l.detail as { path: string }).path)),
      new Set(routes.map(([, p]) => p)),
    );
    assert.ok(
      lines.every((l) => !JSON.stringify(l).includes('wrong-')),
      'the token itself is never logged',
    );

    await f.monitor.alerting.evaluateNow();
    const stored = (await f.monitor.store.alerts.listOpen()).filter((a) => a.rule === 'failed_logins');
    assert.equal(stored.length, 1);
    assert.equal(stored[0]!.severity, 'critical', '200 in the window is above the critical threshold (50)');
    assert.deepEqual(stored[0]!.labels, { source: '127.0.0.1' });
    const open = f.monitor.alerting.openAlerts().find((a) => a.rule === 'failed_logins');
    assert.equal(open?.value, 200, 'every refused request counted, logged or not');

    // The next minute: a line again, telling how many were left out.
    clock.set(T0 + 60_000);
    const res = await fetch(`${f.url}/production/api/status`, { headers: { authorization: 'Bearer wrong' } });
    assert.equal(res.status, 401);
    const last = (await securityLines(f)).filter((l) => l.kind === 'api_auth_failure').at(-1)!;
    assert.equal((last.detail as { suppressed: number }).suppressed, 180);
  });

  test('failed sign-ins are failed_login events naming the user; those refused by the limit are marked', async () => {
    const c = new DashClient(f.monitor.http, '10.1.2.3');
    for (let i = 0; i < 6; i++) await c.signIn({ name: 'reader', password: 'not it' });
    const lines = (await securityLines(f)).filter((l) => l.kind === 'failed_login' && l.ip === '10.1.2.3');
    assert.deepEqual(
      lines.map((l) => [l.user, (l.detail as { limited?: boolean }).limited ?? false]),
      [...Array(5).fill(['reader', false]), ['reader', true]],
    );
  });

  test('a push token on the API is refused 403 and logged as api_forbidden (not a failed login)', async () => {
    const res = await fetch(`${f.url}/production/api/status`, {
      headers: { authorization: `Bearer ${PUSH}` },
    });
    assert.equal(res.status, 403);
    const last = (await securityLines(f)).at(-1)!;
    assert.equal(last.kind, 'api_forbidden');
  });
});

describe('SecurityLogBudget', () => {
  test('per kind and address per minute, and in all; the next line written carries the count left out', () => {
    const clock = new FakeClock(T0);
    const b = new SecurityLogBudget(clock, { perSource: 2, total: 3 });
    const take = (kind: string, ip: string) => b.take({ kind, ip });
    assert.deepEqual(take('a', '1'), { log: true, suppressed: 0 });
    assert.deepEqual(take('a', '1'), { log: true, suppressed: 0 });
    assert.deepEqual(take('a', '1'), { log: false, suppressed: 0 });
    assert.deepEqual(take('b', '1'), { log: true, suppressed: 0 }, 'another kind has its own budget');
    assert.deepEqual(take('a', '2'), { log: false, suppressed: 0 }, 'the total is spent');
    clock.set(T0 + 60_000);
    assert.deepEqual(take('a', '1'), { log: true, suppressed: 1 });
    assert.deepEqual(take('a', '2'), { log: true, suppressed: 1 });
    assert.deepEqual(take('a', '2'), { log: true, suppressed: 0 });
  });
});
