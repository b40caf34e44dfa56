import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { tempDir } from '../../test/support/services.js';
import { parseConfig } from '../config/load.js';
import { FakeClock, flushAsync } from '../core/clock.js';
import { ProdmonError } from '../core/errors.js';
import type { HealthCheckResult, HealthStatus } from '../domain/health.js';
import { openStore, type Store } from '../store/index.js';
import { HealthService } from './service.js';
import type { CheckOutcome, HealthCheck } from './types.js';

const dirs: { cleanup: () => void }[] = [];
after(() => {
  for (const d of dirs) d.cleanup();
});

/** A check whose next outcome the test sets; counts runs and closes. */
class Scripted implements HealthCheck {
  readonly kind = 'scripted';
  runs = 0;
  closed = 0;
  outcome: CheckOutcome = { status: 'healthy' };
  hang = false;
  lastSignal: AbortSignal | null = null;
  constructor(
    readonly name: string,
    readonly critical = true,
    readonly timeout = 1000,
  ) {}
  async run(signal: AbortSignal): Promise<CheckOutcome> {
    this.runs++;
    this.lastSignal = signal;
    if (this.hang) return new Promise(() => {});
    return this.outcome;
  }
  async close() {
    this.closed++;
  }
}

function service(checks: HealthCheck[], opts: { health?: Record<string, unknown>; secret?: string } = {}) {
  const clock = new FakeClock();
  const config = parseConfig(
    {
      health: { refresh_interval: '10s', persist_interval: '15m', ...opts.health },
      ...(opts.secret ? { auth: { tokens: [{ name: 'ops', token: opts.secret }] } } : {}),
    },
    { env: {}, dataDir: '/tmp/prodmon-svc-test' },
  );
  const logs: { level: string; msg?: string; obj: object }[] = [];
  const sink: HealthCheckResult[] = [];
  const svc = new HealthService({
    config,
    clock,
    checks,
    log: {
      info: (obj, msg) => logs.push({ level: 'info', obj, msg }),
      warn: (obj, msg) => logs.push({ level: 'warn', obj, msg }),
      error: (obj, msg) => logs.push({ level: 'error', obj, msg }),
    },
    onResult: (r) => sink.push(r),
  });
  return { svc, clock, logs, sink };
}

async function sqliteStore(): Promise<Store> {
  const d = tempDir();
  dirs.push(d);
  const store = await openStore({ driver: 'sqlite', path: join(d.path, 'p.db') });
  await store.migrate(0);
  return store;
}

describe('HealthService', () => {
  test('the background refresh runs every refresh_interval; a thousand status reads cost no run', async () => {
    const a = new Scripted('a');
    const { svc, clock } = service([a]);
    svc.start();
    await svc.idle();
    assert.equal(a.runs, 1, 'first run at start');
    for (let i = 0; i < 1000; i++) assert.equal(await svc.waitStatus(), 'healthy');
    assert.equal(a.runs, 1);
    a.outcome = { status: 'unhealthy', error: 'down' };
    await clock.advance(9_999);
    assert.equal(svc.cachedStatus(), 'healthy');
    await clock.advance(1);
    await svc.idle();
    assert.equal(a.runs, 2);
    assert.equal(svc.cachedStatus(), 'unhealthy');
    await svc.stop();
  });

  test('a failing non-critical check degrades the overall status; a failing critical one makes it unhealthy', async () => {
    const crit = new Scripted('db', true);
    const extra = new Scripted('search', false);
    const { svc } = service([crit, extra]);
    extra.outcome = { status: 'unhealthy', error: 'search is down' };
    assert.equal((await svc.run()).status, 'degraded');
    crit.outcome = { status: 'unhealthy', error: 'db is down' };
    const report = await svc.run();
    assert.equal(report.status, 'unhealthy');
    assert.deepEqual(
      report.checks.map((c) => [c.name, c.status, c.error]),
      [
        ['db', 'unhealthy', 'db is down'],
        ['search', 'unhealthy', 'search is down'],
      ],
    );
    await svc.stop();
  });

  test('before a critical check has answered, /health/ waits at most the budget, then says unhealthy', async () => {
    const slow = new Scripted('db', true, 5000);
    const fast = new Scripted('cpu', false);
    slow.hang = true;
    const { svc, clock } = service([slow, fast], { health: { budget: '100ms' } });
    svc.start();
    await flushAsync();
    assert.equal(svc.cachedStatus(), null, 'a critical check is pending');
    let answer: HealthStatus | undefined;
    void svc.waitStatus().then((s) => {
      answer = s;
    });
    await clock.advance(99);
    assert.equal(answer, undefined);
    await clock.advance(1);
    await flushAsync();
    assert.equal(answer, 'unhealthy');
    assert.deepEqual(svc.report().pending, ['db']);
    await clock.advance(4900); // the hung check times out
    await svc.idle();
    assert.equal(svc.report().checks.find((c) => c.name === 'db')?.error, 'timed out after 5000 ms');
    assert.equal(slow.lastSignal?.aborted, true);
    await svc.stop();
  });

  test('a pending non-critical check does not hold the answer', async () => {
    const slow = new Scripted('cpu', false);
    slow.hang = true;
    const { svc } = service([slow, new Scripted('db')]);
    svc.start();
    await flushAsync();
    assert.equal(svc.cachedStatus(), 'healthy');
    await svc.stop();
  });

  test('results are stored on the first run, on every status change, and otherwise every persist_interval', async () => {
    const store = await sqliteStore();
    const a = new Scripted('a');
    const { svc, clock } = service([a]);
    svc.attachStore(store);
    svc.start();
    await svc.idle();
    for (let i = 0; i < 5; i++) {
      await clock.advance(10_000);
      await svc.idle();
    }
    assert.equal((await store.checks.history({ name: 'a' })).length, 1, 'first result only');
    a.outcome = { status: 'degraded', error: 'slow' };
    await clock.advance(10_000);
    await svc.idle();
    a.outcome = { status: 'healthy' };
    await clock.advance(10_000);
    await svc.idle();
    let rows = await store.checks.history({ name: 'a' });
    assert.deepEqual(
      rows.map((r) => r.status),
      ['healthy', 'degraded', 'healthy'],
    );
    // Unchanged for 15 minutes: one more row.
    for (let i = 0; i < 90; i++) await clock.advance(10_000);
    await svc.idle();
    rows = await store.checks.history({ name: 'a' });
    assert.equal(rows.length, 4);
    assert.equal(rows[0]!.checkedAt - rows[1]!.checkedAt, 15 * 60_000);
    await svc.stop();
    await store.close();
  });

  test("a store that fails is logged once as prodmon's own failure; results stay cached", async () => {
    const a = new Scripted('a');
    const { svc, logs } = service([a]);
    let calls = 0;
    svc.attachStore({
      checks: {
        insert: async () => {
          calls++;
          throw new Error('SQLITE_READONLY: attempt to write a readonly database');
        },
      },
    });
    await svc.run();
    a.outcome = { status: 'degraded' };
    await svc.run();
    assert.equal(calls, 2);
    assert.equal(svc.cachedStatus(), 'degraded');
    const errors = logs.filter((l) => l.level === 'error');
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.msg ?? '', /cannot store health check results \(prodmon store failure\)/);
    await svc.stop();
  });

  test('results the store could not take are stored with the next ones once it works again', async () => {
    const store = await sqliteStore();
    const a = new Scripted('a');
    const { svc, clock, logs } = service([a]);
    let failing = true;
    svc.attachStore({
      checks: {
        insert: async (rows) => {
          if (failing) throw new Error('SQLITE_CORRUPT: database disk image is malformed');
          await store.checks.insert(rows);
        },
      },
    });
    // A second between runs, so the stored history has one order (results of one millisecond tie).
    await svc.run(); // healthy: the first result
    await clock.advance(1000);
    a.outcome = { status: 'unhealthy', error: 'down' };
    await svc.run(); // a change of status
    await clock.advance(1000);
    await svc.run(); // the same status: not due again
    await clock.advance(1000);
    failing = false;
    a.outcome = { status: 'healthy' };
    await svc.run();
    const rows = await store.checks.history({ name: 'a' });
    assert.deepEqual(
      rows.map((r) => r.status).reverse(),
      ['healthy', 'unhealthy', 'healthy'],
      'nothing lost, nothing twice',
    );
    assert.ok(logs.some((l) => l.level === 'info' && /stored again/.test(l.msg ?? '')));
    await svc.stop();
    await store.close();
  });

  test('custom checks: registered by name, run at once when started, removable; a duplicate name is refused', async () => {
    const { svc } = service([new Scripted('db')]);
    svc.start();
    await svc.idle();
    let calls = 0;
    const remove = svc.register(
      'payments',
      async () => {
        calls++;
        return { status: 'degraded', details: { provider: 'acme' }, error: 'slow provider' };
      },
      { critical: false },
    );
    await flushAsync(5);
    assert.equal(calls, 1, 'ran at once');
    assert.deepEqual(
      svc.report().checks.map((c) => [c.name, c.kind, c.status]),
      [
        ['db', 'scripted', 'healthy'],
        ['payments', 'custom', 'degraded'],
      ],
    );
    assert.equal(svc.cachedStatus(), 'degraded');
    assert.throws(
      () => svc.register('db', () => true),
      (e: unknown) => e instanceof ProdmonError && e.code === 'PRODMON_E_CONFLICT',
    );
    remove();
    assert.deepEqual(
      svc.report().checks.map((c) => c.name),
      ['db'],
    );
    assert.equal(svc.cachedStatus(), 'healthy');
    await svc.stop();
  });

  test('status changes are logged, every result reaches the sink and the listeners', async () => {
    const a = new Scripted('a');
    const { svc, logs, sink } = service([a]);
    const batches: number[] = [];
    const off = svc.onResults((rs) => batches.push(rs.length));
    await svc.run();
    a.outcome = { status: 'unhealthy', error: 'gone' };
    await svc.run();
    off();
    await svc.run();
    assert.equal(sink.length, 3);
    assert.deepEqual(batches, [1, 1]);
    const warn = logs.find((l) => l.level === 'warn');
    assert.equal(warn?.msg, 'health check a is unhealthy');
    assert.deepEqual(warn?.obj, {
      check: 'a',
      kind: 'scripted',
      from: 'healthy',
      to: 'unhealthy',
      error: 'gone',
    });
    await svc.stop();
  });

  test('secrets of the config are scrubbed from errors and details', async () => {
    const secret = 'tok_0123456789abcdefXYZ';
    const a = new Scripted('a');
    a.outcome = {
      status: 'unhealthy',
      error: `login failed for ${secret}`,
      details: { nested: [{ s: `x${secret}y` }] },
    };
    const { svc } = service([a], { secret });
    const r = await svc.run();
    assert.doesNotMatch(JSON.stringify(r), new RegExp(secret));
    assert.equal(r.checks[0]!.error, 'login failed for ********');
    await svc.stop();
  });

  test('stop cancels checks in progress and closes every check', async () => {
    const a = new Scripted('a');
    const b = new Scripted('b');
    b.hang = true;
    const { svc } = service([a, b]);
    svc.start();
    await flushAsync();
    await svc.stop();
    assert.equal(b.lastSignal?.aborted, true);
    assert.deepEqual([a.closed, b.closed], [1, 1]);
  });
});
