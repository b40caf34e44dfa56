/** The health endpoints through a real App: cached answers, hung and dying dependencies, draining, secrets. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { testApp as makeApp } from '../../../test/support/app.js';
import { freePort, hungServer, startRedis } from '../../../test/support/health.js';
import { MYSQL_URL, PG_URL, REDIS_URL } from '../../../test/support/services.js';
import { waitFor } from '../../../test/support/wait.js';
import { FakeClock } from '../../core/clock.js';

const READ_TOKEN = 'read-token-0123456789abcdef';
const ADMIN_TOKEN = 'admin-token-0123456789abcdef';

describe('health endpoints', () => {
  test('a critical redis that dies turns GET /health/ 503 within one refresh, and back to 200 when it returns', async () => {
    const port = await freePort();
    let redis = await startRedis(port);
    const clock = new FakeClock();
    const app = makeApp(
      {
        health: {
          refresh_interval: '10s',
          builtin_checks: false,
          checks: [
            // Generous latency thresholds: this test is about up and down, on a machine that may be busy.
            {
              name: 'cache',
              kind: 'redis',
              url: `redis://127.0.0.1:${port}`,
              timeout: '2s',
              critical: true,
              latency_threshold: '2s',
            },
            { name: 'db', kind: 'postgres', url: PG_URL, latency_threshold: '2s' },
            { name: 'maria', kind: 'mysql', url: MYSQL_URL, latency_threshold: '2s' },
          ],
        },
      },
      clock,
    );
    const refresh = async () => {
      const before = app.health.report().lastRunAt;
      await clock.advance(10_000);
      await waitFor(() => app.health.report().lastRunAt !== before, { timeout: 10_000, what: 'a refresh' });
    };
    try {
      await app.start();
      await waitFor(() => app.health.report().lastRunAt !== null, { timeout: 10_000, what: 'the first run' });
      let res = await app.http.inject({ method: 'GET', url: '/health/' });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), { status: 'healthy' });

      await redis.stop();
      res = await app.http.inject({ method: 'GET', url: '/health/' });
      assert.equal(res.statusCode, 200, 'the cached answer until the next refresh');
      await refresh();
      res = await app.http.inject({ method: 'GET', url: '/health/' });
      assert.equal(res.statusCode, 503);
      assert.deepEqual(res.json(), { status: 'unhealthy' });
      const cache = app.health.report().checks.find((c) => c.name === 'cache')!;
      assert.equal(cache.status, 'unhealthy');
      assert.match(cache.error ?? '', new RegExp(`^Redis at 127\\.0\\.0\\.1:${port}: `));
      assert.equal((await app.http.inject({ method: 'GET', url: '/health/ready' })).statusCode, 503);
      assert.equal(
        (await app.http.inject({ method: 'GET', url: '/health/live' })).statusCode,
        200,
        'liveness ignores dependencies',
      );

      redis = await startRedis(port);
      await refresh();
      res = await app.http.inject({ method: 'GET', url: '/health/' });
      assert.equal(res.statusCode, 200, JSON.stringify(app.health.report().checks.map((c) => c.error)));
      assert.deepEqual(res.json(), { status: 'healthy' });
      // History: first results, the failure and the recovery are stored.
      const history = await app.store.checks.history({ name: 'cache' });
      assert.deepEqual(
        history.map((h) => h.status),
        ['healthy', 'unhealthy', 'healthy'],
      );
    } finally {
      await app.stop();
      await redis.stop();
    }
  });

  test('a hung dependency times out at its timeout while GET /health/ keeps answering from what is known', async () => {
    const hung = await hungServer();
    const app = makeApp({
      health: {
        refresh_interval: '1s',
        budget: '50ms',
        builtin_checks: false,
        checks: [
          { name: 'payments', kind: 'http', url: `http://127.0.0.1:${hung.port}/health`, timeout: '3s' },
        ],
      },
    });
    await app.start();
    const url = await app.listen('127.0.0.1', 0);
    // Each answer notes whether the check's run was still hanging when it arrived: an answer that came
    // while the run hung did not wait for it (what is asserted, rather than a latency a busy machine
    // can stretch).
    const answer = async () => {
      const res = await fetch(`${url}/health/`);
      const body = await res.text();
      return { status: res.status, body, runs: hung.accepted(), hanging: hung.open() > 0 };
    };
    try {
      await answer(); // warm the client's connection pool
      await waitFor(() => hung.open() > 0, { what: 'the first run to connect to the hung server' });
      for (let i = 0; i < 5; i++) {
        const a = await answer();
        assert.equal(app.health.report().checks.length, 0, `answer ${i} came after the first run ended`);
        assert.ok(a.hanging, `answer ${i} came while the first run hung`);
      }
      await waitFor(() => app.health.report().checks.length === 1, {
        timeout: 5 * 3000,
        what: 'the timeout',
      });
      const r = app.health.report().checks[0]!;
      assert.equal(r.error, 'timed out after 3000 ms');
      assert.ok(r.responseTimeMs >= 2990 && r.responseTimeMs < 5 * 3000, String(r.responseTimeMs));
      // Further runs hang again: /health/ answers the last result meanwhile.
      const firstRun = hung.accepted();
      const later: Awaited<ReturnType<typeof answer>>[] = [];
      await waitFor(
        async () => {
          later.push(await answer());
          return later.filter((l) => l.runs > firstRun && l.hanging).length >= 5;
        },
        {
          timeout: 20_000,
          interval: 25,
          what: () => `5 answers while a later run hangs; got ${JSON.stringify(later.slice(-10))}`,
        },
      );
      assert.ok(
        later.every((l) => l.status === 503 && l.body === '{"status":"unhealthy"}'),
        JSON.stringify(later.filter((l) => l.status !== 503 || l.body !== '{"status":"unhealthy"}')),
      );
    } finally {
      await app.stop();
      await hung.close();
    }
  });

  test('readiness fails while draining: /health/ready and /health/ answer 503 during drain_delay, /health/live 200', async () => {
    const clock = new FakeClock();
    const app = makeApp({ health: { drain_delay: '5s', builtin_checks: false } }, clock);
    await app.start();
    await app.health.idle();
    assert.equal((await app.http.inject({ method: 'GET', url: '/health/ready' })).statusCode, 200);
    let stopped = false;
    const stopping = app.stop().then(() => {
      stopped = true;
    });
    await clock.advance(1000);
    const ready = await app.http.inject({ method: 'GET', url: '/health/ready' });
    assert.equal(ready.statusCode, 503);
    assert.deepEqual(ready.json(), { status: 'draining' });
    const health = await app.http.inject({ method: 'GET', url: '/health/' });
    assert.equal(health.statusCode, 503);
    assert.equal((await app.http.inject({ method: 'GET', url: '/health/live' })).statusCode, 200);
    assert.equal(stopped, false, 'still draining');
    await clock.advance(4000);
    await stopping;
    assert.equal(stopped, true);
  });

  test('?refresh=true runs the checks before the detailed view answers; another value is a 400 naming it', async () => {
    const app = makeApp(
      {
        auth: { tokens: [{ name: 'viewer', token: READ_TOKEN, role: 'read' }] },
        health: { builtin_checks: false },
      },
      new FakeClock(), // no background refresh: every run counted is one a request asked for
    );
    await app.start();
    try {
      let runs = 0;
      app.health.register('counted', async () => {
        runs++;
        return { status: 'healthy', details: { runs } };
      });
      await app.health.idle();
      const get = (query: string) =>
        app.http.inject({
          method: 'GET',
          url: `/production/health/detailed/${query}`,
          headers: { authorization: `Bearer ${READ_TOKEN}` },
        });
      const runsAfter = async (query: string) => {
        const before = runs;
        const res = await get(query);
        assert.equal(res.statusCode, 200, `${query}: ${res.body}`);
        const counted = (res.json() as { checks: { name: string; details: { runs: number } }[] }).checks.find(
          (c) => c.name === 'counted',
        );
        assert.equal(counted?.details.runs, runs, `${query}: the body shows the last run`);
        return runs - before;
      };
      for (const q of ['?refresh=true', '?refresh=1']) assert.equal(await runsAfter(q), 1, q);
      for (const q of ['', '?refresh=false', '?refresh=0']) assert.equal(await runsAfter(q), 0, q);
      const before = runs;
      for (const [q, problem] of [
        ['?refresh=yes', /"refresh" must be true or false \(or 1, 0\); got "yes"/],
        ['?refresh=', /"refresh" must be true or false/],
        ['?refresh=true&refresh=true', /"refresh" must be given once/],
      ] as const) {
        const res = await get(q);
        assert.equal(res.statusCode, 400, q);
        const body = res.json() as { error: { code: string; message: string } };
        assert.equal(body.error.code, 'PRODMON_E_BAD_REQUEST', q);
        assert.match(body.error.message, problem, q);
      }
      assert.equal(runs, before, 'a bad refresh runs nothing');
    } finally {
      await app.stop();
    }
  });

  test('the detailed view needs a token; no response of any health route contains a secret', async () => {
    const pgUrl = PG_URL.replace('postgres://postgres@', 'postgres://postgres:PgPassw0rdSecret@');
    const redisUrl = REDIS_URL.replace('redis://', 'redis://:RedisPassSecret9@');
    const app = makeApp({
      auth: {
        tokens: [
          { name: 'viewer', token: READ_TOKEN, role: 'read' },
          { name: 'ops', token: ADMIN_TOKEN, role: 'admin' },
        ],
      },
      health: {
        checks: [
          { name: 'db', kind: 'postgres', url: pgUrl, latency_threshold: '2s' },
          { name: 'cache', kind: 'redis', url: redisUrl, critical: false },
          {
            name: 'partner',
            kind: 'http',
            url: 'http://127.0.0.1:1/status?api_key=QueryKeySecret7',
            headers: { authorization: 'Bearer HeaderTokenSecret5' },
            critical: false,
          },
        ],
      },
    });
    await app.start();
    try {
      app.health.register('queue', async () => ({ status: 'healthy', details: { depth: 3 } }));
      await app.health.run();
      const secrets = [
        ...app.config.secrets,
        'PgPassw0rdSecret',
        'RedisPassSecret9',
        'QueryKeySecret7',
        'HeaderTokenSecret5',
      ];
      assert.ok(app.config.secrets.length >= 4, 'the config knows its secrets');
      const bodies: string[] = [];
      const get = async (url: string, token?: string, method: 'GET' | 'HEAD' = 'GET') => {
        const res = await app.http.inject({
          method,
          url,
          headers: token ? { authorization: `Bearer ${token}` } : {},
        });
        bodies.push(res.body, JSON.stringify(res.headers));
        return res;
      };

      const none = await get('/production/health/detailed/');
      assert.equal(none.statusCode, 401);
      assert.equal(none.headers['www-authenticate'], 'Bearer realm="prodmon"');
      assert.equal((await get('/production/health/detailed/', 'not-a-valid-token-at-all')).statusCode, 401);
      const detailed = await get('/production/health/detailed/', READ_TOKEN);
      assert.equal(detailed.statusCode, 200);
      assert.equal(detailed.headers['cache-control'], 'no-store');
      const body = detailed.json() as {
        status: string;
        checks: {
          name: string;
          kind: string;
          status: string;
          responseTimeMs: number;
          lastChecked: string;
          error: string | null;
          details: Record<string, unknown>;
        }[];
      };
      assert.equal(body.status, 'degraded', 'a non-critical failure (the partner) only degrades');
      const byName = Object.fromEntries(body.checks.map((c) => [c.name, c]));
      assert.deepEqual(Object.keys(byName).sort(), [
        'cache',
        'cpu',
        'db',
        'disk',
        'event_loop',
        'memory',
        'partner',
        'queue',
        'self',
      ]);
      assert.equal(byName.db!.status, 'healthy');
      assert.equal(byName.db!.details.target, '127.0.0.1:5432/test');
      assert.ok(
        byName.cache,
        'a redis whose default user has no password accepts any: the URL still holds a secret',
      );
      assert.equal(byName.partner!.status, 'unhealthy');
      assert.deepEqual(byName.queue!.details, { depth: 3 });
      assert.match(byName.db!.lastChecked, /^\d{4}-\d\d-\d\dT/);
      assert.equal(typeof byName.db!.responseTimeMs, 'number');
      const probes = byName.self!.details.probes as Record<string, { status: string }>;
      assert.ok(probes.logger && probes.store, `probes: ${Object.keys(probes).join(', ')}`); // other parts add theirs
      assert.equal(probes.store!.status, 'healthy');
      assert.equal((await get('/production/health/detailed/?refresh=true', ADMIN_TOKEN)).statusCode, 200);

      const pub = await get('/health/');
      assert.equal(pub.statusCode, 200);
      assert.deepEqual(pub.json(), { status: 'degraded' }, 'no details, versions or errors');
      assert.equal(pub.headers['cache-control'], 'no-store');
      const head = await get('/health/', undefined, 'HEAD');
      assert.equal(head.statusCode, 200);
      assert.equal(head.body, '');
      await get('/health/live');
      await get('/health/ready');
      await get('/health');

      for (const text of bodies) {
        for (const s of secrets)
          assert.ok(!text.includes(s), `a response contains the secret ${s.slice(0, 3)}...`);
      }
      assert.ok(
        bodies.some((b) => b.includes('"checks"')),
        'the search covered the detailed body',
      );
    } finally {
      await app.stop();
    }
  });
});
