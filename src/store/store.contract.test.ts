/** One contract for every store: the same tests run against SQLite and the real PostgreSQL. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { STORE_FIXTURES } from '../../test/support/stores.js';
import { newId } from '../core/ids.js';
import type { HealthCheckResult } from '../core/types.js';
import type { Store } from './index.js';
import type { StoredAlert } from './repos/alerts.js';

const T0 = Date.UTC(2026, 10, 1, 12, 0, 0);

function alert(over: Partial<StoredAlert> = {}): StoredAlert {
  return {
    id: newId(T0, 'al_'),
    rule: 'api_response_time',
    fingerprint: 'api_response_time|route="/a"',
    type: 'performance',
    severity: 'medium',
    status: 'firing',
    message: 'p95 latency 812 ms > 500 ms',
    value: 812,
    threshold: 500,
    labels: { route: '/a' },
    metadata: { window: '5m' },
    createdAt: T0,
    updatedAt: T0,
    firingAt: T0,
    resolvedAt: null,
    resolution: null,
    state: { notified: 1 },
    ...over,
  };
}

function check(name: string, at: number, status: HealthCheckResult['status'] = 'healthy'): HealthCheckResult {
  return {
    name,
    kind: 'tcp',
    status,
    responseTimeMs: 1.5,
    details: { port: 1 },
    error: status === 'healthy' ? null : 'refused',
    critical: true,
    checkedAt: at,
  };
}

for (const fixture of STORE_FIXTURES) {
  describe(`store contract: ${fixture.name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ store, cleanup } = await fixture.open());
    });
    after(async () => cleanup());

    test('migrating again applies nothing', async () => {
      assert.deepEqual(await store.migrate(T0), []);
    });

    test('rollups: a repeated flush of a bucket replaces it, reads filter by metric and time', async () => {
      const row = {
        metric: 'http_request_duration_ms',
        labels: '{"route":"/a"}',
        instance: 'i1',
        resolution: 60_000,
        bucket: T0,
        count: 3,
        sum: 30,
        min: 5,
        max: 15,
        errors: 1,
        sketch: Buffer.from([1, 2, 3]),
      };
      await store.rollups.upsert([row, { ...row, bucket: T0 + 60_000 }, { ...row, metric: 'other' }]);
      await store.rollups.upsert([{ ...row, count: 7, sum: 70, max: 20 }]);
      const rows = await store.rollups.query({
        metrics: ['http_request_duration_ms'],
        resolution: 60_000,
        since: T0,
        until: T0 + 60_000,
      });
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.count, 7);
      assert.equal(rows[0]!.max, 20);
      assert.deepEqual([...rows[0]!.sketch!], [1, 2, 3]);
      assert.equal(typeof rows[0]!.bucket, 'number');
      assert.equal(await store.rollups.deleteBefore(60_000, T0 + 60_000), 2);
      const left = await store.rollups.query({ resolution: 60_000, since: 0, until: T0 + 3_600_000 });
      assert.deepEqual(
        left.map((r) => r.bucket),
        [T0 + 60_000],
      );
    });

    test('rollups: counting and finding the oldest bucket per resolution', async () => {
      const base = {
        metric: 'm_count',
        labels: '{}',
        instance: 'i2',
        count: 1,
        sum: 1,
        min: 1,
        max: 1,
        errors: 0,
        sketch: null,
      };
      const hour = 3_600_000;
      await store.rollups.upsert([
        { ...base, resolution: hour, bucket: T0 - 2 * hour },
        { ...base, resolution: hour, bucket: T0 - hour },
        { ...base, resolution: hour, bucket: T0 },
      ]);
      assert.equal(await store.rollups.oldestBucket(hour), T0 - 2 * hour);
      assert.equal(await store.rollups.oldestBucket(1234), null);
      assert.equal(await store.rollups.countBefore(hour, T0), 2);
      assert.equal(await store.rollups.countBefore(hour, T0 - 2 * hour), 0);
      assert.equal(await store.rollups.deleteBefore(hour, T0 + hour), 3);
    });

    test('check results: latest per check, history newest first, deletion by age', async () => {
      await store.checks.insert([check('db', T0), check('cache', T0)]);
      await store.checks.insert([check('db', T0 + 1000, 'unhealthy')]);
      const latest = await store.checks.latest();
      assert.deepEqual(
        latest.map((r) => [r.name, r.status]),
        [
          ['cache', 'healthy'],
          ['db', 'unhealthy'],
        ],
      );
      assert.equal(latest[1]!.error, 'refused');
      assert.deepEqual(latest[1]!.details, { port: 1 });
      const hist = await store.checks.history({ name: 'db' });
      assert.deepEqual(
        hist.map((h) => h.checkedAt),
        [T0 + 1000, T0],
      );
      assert.equal(await store.checks.deleteBefore(T0 + 1), 2);
    });

    test('alerts: one open alert per fingerprint, update, filters and pagination', async () => {
      const a = alert();
      await store.alerts.insert(a);
      await assert.rejects(store.alerts.insert(alert({ id: newId(T0 + 1, 'al_') })));
      assert.deepEqual(await store.alerts.get(a.id), a);
      assert.equal((await store.alerts.findOpen(a.fingerprint))?.id, a.id);

      const resolved = {
        ...a,
        status: 'resolved' as const,
        resolvedAt: T0 + 5000,
        updatedAt: T0 + 5000,
        resolution: { kind: 'manual' as const, by: 'ops', at: T0 + 5000, reason: 'fixed the index' },
      };
      await store.alerts.update(resolved);
      assert.deepEqual(await store.alerts.get(a.id), resolved);
      assert.equal(await store.alerts.findOpen(a.fingerprint), undefined);
      // Once resolved, the same fingerprint may open again.
      const b = alert({ id: newId(T0 + 10_000, 'al_'), createdAt: T0 + 10_000, severity: 'critical' });
      await store.alerts.insert(b);
      assert.deepEqual(
        (await store.alerts.listOpen()).map((x) => x.id),
        [b.id],
      );
      const page = await store.alerts.list({ limit: 1 });
      assert.equal(page.total, 2);
      assert.deepEqual(
        page.items.map((x) => x.id),
        [b.id],
      );
      const page2 = await store.alerts.list({ limit: 1, offset: 1 });
      assert.deepEqual(
        page2.items.map((x) => x.id),
        [a.id],
      );
      assert.equal((await store.alerts.list({ severity: ['critical'] })).total, 1);
      assert.equal((await store.alerts.list({ status: ['resolved'] })).items[0]?.id, a.id);

      await store.alerts.addEvent({
        id: newId(T0, 'ev_'),
        alertId: a.id,
        at: T0,
        kind: 'firing',
        status: 'firing',
        severity: 'medium',
        value: 812,
        threshold: 500,
        actor: null,
        detail: { x: 1 },
      });
      const events = await store.alerts.events(a.id);
      assert.equal(events.length, 1);
      assert.deepEqual(events[0]!.detail, { x: 1 });
      assert.equal(await store.alerts.deleteResolvedBefore(T0 + 6000), 1);
      assert.deepEqual(await store.alerts.events(a.id), []);
    });

    test('outbox: a key is enqueued once; due items; delivery state and log', async () => {
      const item = {
        key: 'al_1:firing:hook',
        alertId: 'al_1',
        transition: 'firing',
        channel: 'hook',
        payload: { a: 1 },
        now: T0,
      };
      assert.equal(await store.outbox.enqueue(item), true);
      assert.equal(await store.outbox.enqueue({ ...item, payload: { a: 2 } }), false);
      assert.equal(await store.outbox.backlog(), 1);
      const [due] = await store.outbox.due(T0);
      assert.deepEqual(due?.payload, { a: 1 });
      await store.outbox.recordDelivery({
        outboxId: due!.id,
        at: T0,
        ok: false,
        statusCode: 500,
        error: 'boom',
        durationMs: 3,
      });
      await store.outbox.setState(due!.id, {
        status: 'pending',
        attempts: 1,
        nextAttemptAt: T0 + 1000,
        lastError: 'boom',
        now: T0,
      });
      assert.deepEqual(await store.outbox.due(T0 + 999), []);
      await store.outbox.setState(due!.id, {
        status: 'delivered',
        attempts: 2,
        nextAttemptAt: T0 + 1000,
        lastError: null,
        now: T0 + 1000,
      });
      assert.equal(await store.outbox.backlog(), 0);
      assert.equal((await store.outbox.get(due!.id))?.deliveredAt, T0 + 1000);
      const log = await store.outbox.deliveries(due!.id);
      assert.deepEqual(
        log.map((d) => [d.ok, d.statusCode, d.error]),
        [[false, 500, 'boom']],
      );
      assert.equal(await store.outbox.deleteFinishedBefore(T0 + 2000), 1);
    });

    test('outbox: pending lists every waiting item oldest first; counts; only failed or dead items re-queue', async () => {
      const base = { transition: 'firing', payload: {}, alertId: 'al_p' };
      await store.outbox.enqueue({ ...base, key: 'p:2', channel: 'b', now: T0 + 20 });
      await store.outbox.enqueue({ ...base, key: 'p:1', channel: 'a', now: T0 + 10 });
      await store.outbox.enqueue({ ...base, key: 'p:3', channel: 'a', now: T0 + 30 });
      const all = await store.outbox.pending();
      assert.deepEqual(
        all.map((i) => i.key),
        ['p:1', 'p:2', 'p:3'],
      );
      const [first, second, third] = all;
      await store.outbox.setState(first!.id, {
        status: 'dead',
        attempts: 7,
        nextAttemptAt: T0 + 10,
        lastError: 'gone',
        now: T0 + 40,
      });
      await store.outbox.setState(second!.id, {
        status: 'delivered',
        attempts: 1,
        nextAttemptAt: T0 + 20,
        lastError: null,
        now: T0 + 40,
      });
      assert.deepEqual(
        (await store.outbox.pending()).map((i) => i.key),
        ['p:3'],
      );
      const counts = await store.outbox.counts();
      assert.equal(counts.dead, 1);
      assert.equal(counts.delivered, 1);
      assert.ok(counts.pending >= 1);
      assert.equal(await store.outbox.requeue(second!.id, T0 + 50), false, 'delivered is not re-queued');
      assert.equal(await store.outbox.requeue(third!.id, T0 + 50), false, 'pending is not re-queued');
      assert.equal(await store.outbox.requeue(first!.id, T0 + 50), true);
      const back = await store.outbox.get(first!.id);
      assert.deepEqual(
        [back?.status, back?.attempts, back?.nextAttemptAt, back?.createdAt, back?.lastError],
        ['pending', 0, T0 + 50, T0 + 50, null],
      );
    });

    test('leases: one holder at a time, renewal keeps the epoch, takeover after expiry raises it', async () => {
      const a = await store.leases.acquire('leader', 'A', 10_000, T0);
      assert.equal(a?.epoch, 1);
      assert.equal(await store.leases.acquire('leader', 'B', 10_000, T0 + 1000), null);
      assert.equal((await store.leases.acquire('leader', 'A', 10_000, T0 + 5000))?.epoch, 1);
      assert.equal(await store.leases.holds('leader', 'A', 1, T0 + 5000), true);
      const b = await store.leases.acquire('leader', 'B', 10_000, T0 + 15_001);
      assert.equal(b?.epoch, 2);
      assert.equal(await store.leases.holds('leader', 'A', 1, T0 + 15_001), false);
      await store.leases.release('leader', 'B');
      assert.equal((await store.leases.acquire('leader', 'A', 10_000, T0 + 16_000))?.epoch, 3);
    });

    test('state, job runs, instances and silences round-trip', async () => {
      await store.state.set('k', { a: [1, 2] }, T0);
      await store.state.set('k', { a: [3] }, T0 + 1);
      assert.deepEqual(await store.state.get('k'), { a: [3] });
      assert.equal(await store.state.get('missing'), undefined);

      const run = await store.jobs.start('cleanup', 'i1', T0);
      await store.jobs.finish(run, 'ok', { deleted: 4 }, T0 + 50);
      const [last] = await store.jobs.recent({ job: 'cleanup' });
      assert.deepEqual([last?.outcome, last?.endedAt, last?.detail], ['ok', T0 + 50, { deleted: 4 }]);

      await store.instances.heartbeat({ id: 'i1', host: 'h', pid: 1, version: '0.1.0', startedAt: T0 }, T0);
      await store.instances.heartbeat(
        { id: 'i1', host: 'h', pid: 1, version: '0.1.0', startedAt: T0 },
        T0 + 10,
      );
      assert.deepEqual(
        (await store.instances.list()).map((i) => [i.id, i.lastSeenAt]),
        [['i1', T0 + 10]],
      );

      const s = {
        id: 'si_1',
        matchers: { rule: 'cpu_usage' },
        startsAt: T0,
        endsAt: T0 + 60_000,
        createdBy: 'ops',
        comment: 'deploy',
        createdAt: T0,
        expiredAt: null,
      };
      await store.silences.create(s);
      assert.deepEqual(await store.silences.active(T0 + 1), [s]);
      assert.deepEqual(await store.silences.active(T0 + 60_000), []);
      assert.equal(await store.silences.expire('si_1', T0 + 2), true);
      assert.deepEqual(await store.silences.active(T0 + 3), []);
    });

    test('a transaction that throws leaves nothing behind', async () => {
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.audit.append({ at: T0, actor: 'ops', action: 'x', target: 't-rollback', detail: {} });
          throw new Error('abort');
        }),
        /abort/,
      );
      assert.deepEqual(await store.audit.list({ target: 't-rollback' }), []);
      await store.transaction(async (tx) => {
        await tx.audit.append({
          at: T0,
          actor: 'ops',
          action: 'x',
          target: 't-commit',
          detail: { why: 'y' },
        });
      });
      assert.equal((await store.audit.list({ target: 't-commit' }))[0]?.detail.why, 'y');
    });
  });
}
