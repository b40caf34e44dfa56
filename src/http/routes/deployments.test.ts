/**
 * The deployment routes on a real monitor: which token may record and read markers (401, 403, 201),
 * validation answered 400 naming the field, the body limit, the audit row and the security log line.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '../../../test/support/services.js';
import { waitFor } from '../../../test/support/wait.js';
import { type App, createApp } from '../../app.js';
import { FakeClock } from '../../core/clock.js';
import { DashClient } from '../../dashboard/test-support/client.js';
import type { Deployment } from '../../domain/deployment.js';
import { JSON_BODY_LIMIT } from '../limits.js';

const ADMIN = 'admin-token-0123456789abcdef';
const READ = 'read-token-0123456789abcdef';
const DEPLOY = 'deploy-token-0123456789abcdef';
const PUSH = 'push-token-0123456789abcdef';
const T0 = Date.UTC(2026, 2, 2, 10, 0, 0);
const PATH = '/production/api/deployments';

describe('deployment routes', () => {
  const dir = tempDir();
  const clock = new FakeClock(T0);
  let m: App;

  const req = (method: 'GET' | 'POST', url: string, token: string | null, payload?: unknown) =>
    m.http.inject({
      method,
      url,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(payload === undefined
        ? {}
        : { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
    });

  before(async () => {
    m = createApp(
      {
        data_dir: dir.path,
        logs: { stdout: false },
        health: { builtin_checks: false },
        auth: {
          tokens: [
            { name: 'ops', token: ADMIN, role: 'admin' },
            { name: 'viewer', token: READ, role: 'read' },
            { name: 'pipeline', token: DEPLOY, role: 'deploy' },
            { name: 'agent', token: PUSH, role: 'push' },
          ],
        },
      },
      { env: {}, fileLogs: true, clock },
    );
    await m.start();
  });
  after(async () => {
    await m.stop({ drainDelayMs: 0 });
    dir.cleanup();
  });

  test('recording needs a deploy or admin token: 401 without one, 403 for read and push', async () => {
    const body = { version: 'v1.0.0' };
    const none = await req('POST', PATH, null, body);
    assert.equal(none.statusCode, 401);
    assert.equal(none.json().error.code, 'PRODMON_E_UNAUTHORIZED');
    assert.equal((await req('POST', PATH, 'not-a-configured-token-at-all', body)).statusCode, 401);
    for (const token of [READ, PUSH]) {
      const r = await req('POST', PATH, token, body);
      assert.equal(r.statusCode, 403, token);
      assert.match(r.json().error.message, /this needs "deploy"/);
    }
    assert.deepEqual(await m.store.deployments.list({ limit: 10 }), [], 'nothing refused was stored');

    const byPipeline = await req('POST', PATH, DEPLOY, { version: 'v1.0.0', note: 'build 41' });
    assert.equal(byPipeline.statusCode, 201);
    const d = byPipeline.json().deployment as Deployment;
    assert.deepEqual(
      { ...d, id: '' },
      { id: '', version: 'v1.0.0', instance: null, note: 'build 41', at: T0, by: 'pipeline' },
    );
    assert.equal(byPipeline.headers['cache-control'], 'no-store');
    const byAdmin = await req('POST', PATH, ADMIN, { version: 'v1.0.1', instance: 'web-1', at: T0 - 60_000 });
    assert.equal(byAdmin.statusCode, 201);
    assert.equal(byAdmin.json().deployment.by, 'ops');
    assert.deepEqual(
      (await m.store.deployments.list({ limit: 10 })).map((x) => [x.version, x.by]),
      [
        ['v1.0.0', 'pipeline'],
        ['v1.0.1', 'ops'],
      ],
    );
  });

  test('each marker leaves an audit row and a security log line naming who recorded it', async () => {
    const r = await req('POST', PATH, DEPLOY, { version: 'v-audited', instance: 'web-2' });
    assert.equal(r.statusCode, 201);
    const d = r.json().deployment as Deployment;
    const [row] = await m.store.audit.list({ target: d.id });
    assert.deepEqual(
      { ...row, id: '' },
      {
        id: '',
        at: T0,
        actor: 'pipeline',
        action: 'deploy.mark',
        target: d.id,
        detail: { version: 'v-audited', instance: 'web-2', note: null, at: T0 },
      },
    );
    const log = join(dir.path, 'logs', 'security.log');
    const line = await waitFor(
      async () => {
        await m.logger.flush();
        if (!existsSync(log)) return null;
        return (
          readFileSync(log, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as Record<string, unknown>)
            .find((l) => l.event === 'deploy.mark' && l.deployment === d.id) ?? null
        );
      },
      { timeout: 10_000, what: 'the deploy.mark line in security.log' },
    );
    assert.deepEqual(
      [line.version, line.instance, line.actor, line.at, line.msg],
      ['v-audited', 'web-2', 'pipeline', new Date(T0).toISOString(), 'deploy marker recorded'],
    );
  });

  test('bad bodies are 400s naming the field; nothing is stored', async () => {
    const before = (await m.store.deployments.list({ limit: 1000 })).length;
    const cases: [unknown, RegExp][] = [
      [{}, /^"version" is required/],
      [{ version: '' }, /^"version" must not be empty/],
      [{ version: 'v'.repeat(129) }, /^"version" is longer than 128 characters$/],
      [{ version: 1.2 }, /^"version" must be a string$/],
      [{ version: 'v1', instance: 'web 1' }, /^"instance" must be 1-200 characters/],
      [{ version: 'v1', note: 'n'.repeat(1001) }, /^"note" is longer than 1000 characters$/],
      [{ version: 'v1', at: 'soon' }, /^"at" must be an ISO date-time or ms/],
      [{ version: 'v1', at: T0 + 5 * 60_000 + 1 }, /^"at" is more than 5m in the future$/],
      [{ version: 'v1', versoin: 'v2' }, /unknown key "versoin" \(did you mean "version"\?\)/],
      [{ version: 'v1', by: 'mallory' }, /unknown key "by"/],
      [['v1'], /^expected a JSON object/],
      ['{"version": "v1"', /^malformed JSON body; expected \{"version"/],
    ];
    for (const [body, message] of cases) {
      const r = await req('POST', PATH, DEPLOY, body);
      assert.equal(r.statusCode, 400, JSON.stringify(body));
      assert.equal(r.json().error.code, 'PRODMON_E_BAD_REQUEST');
      assert.match(r.json().error.message, message, JSON.stringify(body));
    }
    const form = await m.http.inject({
      method: 'POST',
      url: PATH,
      headers: { authorization: `Bearer ${DEPLOY}`, 'content-type': 'text/plain' },
      payload: 'version=v1',
    });
    assert.equal(form.statusCode, 400, 'text is no JSON object');
    assert.match(form.json().error.message, /^expected a JSON object/);
    const big = await req('POST', PATH, DEPLOY, { version: 'v1', note: 'x'.repeat(JSON_BODY_LIMIT) });
    assert.equal(big.statusCode, 413, 'the body limit of the JSON API (64 KiB)');
    assert.equal((await m.store.deployments.list({ limit: 1000 })).length, before);
  });

  test('listing needs read access (a deploy token records, it does not read); filters as documented', async () => {
    assert.equal((await req('GET', PATH, null)).statusCode, 401);
    assert.equal((await req('GET', PATH, DEPLOY)).statusCode, 403);
    assert.equal((await req('GET', PATH, PUSH)).statusCode, 403);
    for (const [version, instance, at] of [
      ['v-list-1', null, T0 - 3 * 86_400_000],
      ['v-list-2', 'web-9', T0 - 2 * 3_600_000],
    ] as const) {
      const r = await req('POST', PATH, ADMIN, { version, instance, at });
      assert.equal(r.statusCode, 201);
    }
    const all = await req('GET', PATH, READ);
    assert.equal(all.statusCode, 200);
    const list = all.json().deployments as Deployment[];
    assert.ok(list.length >= 5);
    assert.deepEqual(
      list.map((d) => d.at),
      [...list.map((d) => d.at)].sort((a, b) => b - a),
      'newest first',
    );
    const recent = (await req('GET', `${PATH}?since=1d`, READ)).json().deployments as Deployment[];
    assert.ok(!recent.some((d) => d.version === 'v-list-1'), 'since: a duration back from now');
    assert.ok(recent.some((d) => d.version === 'v-list-2'));
    const web9 = (await req('GET', `${PATH}?instance=web-9`, ADMIN)).json().deployments as Deployment[];
    assert.deepEqual(
      web9.map((d) => d.version),
      ['v-list-2'],
    );
    const until = (await req('GET', `${PATH}?until=${T0 - 86_400_000}&limit=1`, READ)).json();
    assert.deepEqual([until.limit, until.deployments.map((d: Deployment) => d.version)], [1, ['v-list-1']]);
    for (const [q, message] of [
      ['limit=0', /^"limit" must be an integer from 1 to 1000$/],
      ['limit=1001', /^"limit" must be an integer from 1 to 1000$/],
      ['since=whenever', /^"since" must be a time/],
      ['instance=a%20b', /^"instance" must be 1-200/],
    ] as const) {
      const r = await req('GET', `${PATH}?${q}`, READ);
      assert.equal(r.statusCode, 400, q);
      assert.match(r.json().error.message, message);
    }
  });

  test('a deploy token opens no dashboard: not a bearer for pages, not a way to sign in', async () => {
    const page = await m.http.inject({
      method: 'GET',
      url: '/production/dashboard/',
      headers: { authorization: `Bearer ${DEPLOY}` },
    });
    assert.notEqual(page.statusCode, 200);
    const fragments = await m.http.inject({
      method: 'GET',
      url: '/production/dashboard/fragments?sections=deployments',
      headers: { authorization: `Bearer ${DEPLOY}` },
    });
    assert.equal(fragments.statusCode, 401);
    const c = new DashClient(m.http, '127.0.0.9');
    const signIn = await c.signIn({ token: DEPLOY });
    assert.equal(signIn.statusCode, 401, 'the sign-in form refuses a deploy token');
    assert.equal(c.cookies.has('prodmon_session'), false);
    assert.equal((await new DashClient(m.http, '127.0.0.8').signIn({ token: READ })).statusCode, 303);
    const asReader = await m.http.inject({
      method: 'GET',
      url: '/production/dashboard/fragments?sections=deployments',
      headers: { authorization: `Bearer ${READ}` },
    });
    assert.equal(asReader.statusCode, 200);
    assert.match(asReader.json().sections.deployments.html, /data-version="v-audited"/);
  });
});
