/** One contract for every store: the same tests run against SQLite and the real PostgreSQL. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { STORE_FIXTURES } from '../../test/support/stores.js';
import { newId } from '../core/ids.js';
import type { StoredAlert } from '../domain/alert.js';
import type { HealthCheckResult } from '../domain/health.js';
import type { Store } from './index.js';

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

    test('rollups: pages give every row of a query once, in pages of at most the page size; get finds one key', async () => {
      const base = {
        labels: '{}',
        resolution: 60_000,
        count: 1,
        sum: 1,
        min: 1,
        max: 1,
        errors: 0,
        sketch: null,
      };
      const rows = [];
      for (let b = 0; b < 4; b++) {
        for (let i = 0; i < 23; i++) {
          rows.push({ ...base, metric: 'm_page', instance: `p${i}`, bucket: T0 + b * 60_000 });
          if (i < 5) rows.push({ ...base, metric: 'm_other', instance: `p${i}`, bucket: T0 + b * 60_000 });
        }
      }
      rows.push({ ...base, metric: 'm_page', instance: 'late', bucket: T0 + 9 * 60_000 });
      await store.rollups.upsert(rows);
      const read = async (q: Parameters<Store['rollups']['pages']>[0], size: number) => {
        const seen: string[] = [];
        for await (const page of store.rollups.pages(q, size)) {
          assert.ok(page.length > 0 && page.length <= size, `page of ${page.length}`);
          for (const r of page) seen.push(`${r.metric} ${r.instance} ${r.bucket - T0}`);
        }
        return seen;
      };
      const q = { metrics: ['m_page', 'm_other'], resolution: 60_000, since: T0, until: T0 + 4 * 60_000 };
      const seen = await read(q, 10);
      assert.equal(seen.length, 4 * 28);
      assert.equal(new Set(seen).size, seen.length, 'no row twice');
      const direct = await store.rollups.query(q);
      assert.deepEqual(
        [...seen].sort(),
        direct.map((r) => `${r.metric} ${r.instance} ${r.bucket - T0}`).sort(),
      );
      // A range longer than the buckets it steps through one by one is read in time order instead.
      const long = await read(
        { metrics: ['m_page'], resolution: 60_000, since: T0 - 3e9, until: T0 + 3e9 },
        7,
      );
      assert.equal(long.length, 4 * 23 + 1);
      assert.equal(new Set(long).size, long.length);
      // Bucket by bucket across empty stretches (10 hours before the rows, 5 minutes between, 10 hours
      // after): every row once, in time order.
      const around = {
        metrics: ['m_page'],
        resolution: 60_000,
        since: T0 - 600 * 60_000,
        until: T0 + 600 * 60_000,
      };
      const gappy = await read(around, 10);
      assert.equal(gappy.length, 4 * 23 + 1);
      const buckets = gappy.map((s) => Number(s.split(' ')[2]));
      assert.deepEqual(
        buckets,
        [...buckets].sort((a, b) => a - b),
      );
      assert.deepEqual(await read({ ...around, instance: 'late' }, 10), [`m_page late ${9 * 60_000}`]);
      assert.deepEqual(await read({ ...q, instance: 'p3' }, 10), [
        ...[0, 1, 2, 3].map((b) => `m_page p3 ${b * 60_000}`),
        ...[0, 1, 2, 3].map((b) => `m_other p3 ${b * 60_000}`),
      ]);
      const one = await store.rollups.get({
        metric: 'm_page',
        labels: '{}',
        instance: 'late',
        resolution: 60_000,
        bucket: T0 + 9 * 60_000,
      });
      assert.equal(one?.count, 1);
      assert.equal(await store.rollups.get({ ...one!, instance: 'nobody' }), null);
      await store.rollups.deleteBefore(60_000, T0 + 3_600_000);
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
      assert.deepEqual(
        await store.alerts.openBySeverity(),
        { critical: 1 },
        'the resolved one is not counted',
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

    test('alerts: updateOpen skips resolved alerts; newest per fingerprint; events in bulk; resolved since a time', async () => {
      const fp = 'engine_contract{route="/b"}';
      const first = alert({ id: newId(T0, 'al_'), fingerprint: fp, createdAt: T0 });
      await store.alerts.insert(first);
      assert.equal(await store.alerts.updateOpen({ ...first, value: 900, updatedAt: T0 + 1 }), true);
      assert.equal((await store.alerts.get(first.id))?.value, 900);
      const resolution = { kind: 'manual' as const, by: 'ops', at: T0 + 2000, reason: 'done' };
      const closed = {
        ...first,
        status: 'resolved' as const,
        resolvedAt: T0 + 2000,
        updatedAt: T0 + 2000,
        resolution,
      };
      assert.equal(await store.alerts.updateOpen(closed), true);
      // A second writer that still believes the alert open changes nothing.
      assert.equal(await store.alerts.updateOpen({ ...first, status: 'firing', value: 1 }), false);
      assert.deepEqual(await store.alerts.get(first.id), closed);

      assert.equal((await store.alerts.lastByFingerprint(fp))?.id, first.id);
      const second = alert({ id: newId(T0 + 60_000, 'al_'), fingerprint: fp, createdAt: T0 + 60_000 });
      await store.alerts.insert(second);
      assert.equal((await store.alerts.lastByFingerprint(fp))?.id, second.id);
      assert.equal(await store.alerts.lastByFingerprint('engine_contract{none}'), undefined);

      const ev = (i: number) => ({
        id: `ev_contract_${i}`,
        alertId: second.id,
        at: T0 + 60_000 + i,
        kind: i === 0 ? 'firing' : 'reminder',
        status: 'firing' as const,
        severity: 'medium' as const,
        value: i,
        threshold: 500,
        actor: null,
        detail: { i },
      });
      await store.alerts.addEvents([ev(0), ev(1), ev(2)]);
      await store.alerts.addEvents([]);
      assert.deepEqual(await store.alerts.events(second.id), [ev(0), ev(1), ev(2)]);

      const since = await store.alerts.listResolvedSince(T0 + 1000);
      assert.deepEqual(
        since.filter((a) => a.fingerprint === fp).map((a) => a.id),
        [first.id],
      );
      assert.deepEqual(
        (await store.alerts.listResolvedSince(T0 + 2001)).filter((a) => a.fingerprint === fp),
        [],
      );
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

    test('leases: seizing needs the current epoch and raises it; fencing checks holder, epoch and expiry', async () => {
      const a = await store.leases.acquire('seize-test', 'A', 10_000, T0);
      assert.equal(a?.epoch, 1);
      assert.equal(await store.leases.seize('seize-test', 'B', 10_000, T0 + 1000, 7), null);
      const b = await store.leases.seize('seize-test', 'B', 10_000, T0 + 1000, 1);
      assert.deepEqual([b?.holder, b?.epoch, b?.expiresAt], ['B', 2, T0 + 11_000]);
      assert.equal(await store.leases.acquire('seize-test', 'A', 10_000, T0 + 2000), null);
      const fenced = (holder: string, epoch: number, now: number) =>
        store.transaction((tx) => tx.leases.fence('seize-test', holder, epoch, now));
      assert.equal(await fenced('B', 2, T0 + 2000), true);
      assert.equal(await fenced('A', 1, T0 + 2000), false, 'the old holder is fenced off');
      assert.equal(await fenced('B', 1, T0 + 2000), false, 'an old epoch is fenced off');
      assert.equal(await fenced('B', 2, T0 + 11_001), false, 'an expired lease is fenced off');
      assert.equal((await store.leases.get('seize-test'))?.expiresAt, T0 + 11_000, 'fencing changes nothing');
    });

    test('job runs: a run keeps its start detail until finished; the newest run of each job', async () => {
      const old = await store.jobs.start('jr-contract-a', 'i1', T0 - 5000, { slot: T0 - 5000 });
      assert.deepEqual((await store.jobs.get(old))?.detail, { slot: T0 - 5000 });
      await store.jobs.finish(old, 'failed', { slot: T0 - 5000, error: 'boom' }, T0 - 4000);
      const newer = await store.jobs.start('jr-contract-a', 'i2', T0 - 1000);
      const other = await store.jobs.start('jr-contract-b', 'i1', T0 - 3000);
      const latest = (await store.jobs.latestPerJob()).filter((r) => r.job.startsWith('jr-contract-'));
      assert.deepEqual(
        latest.map((r) => [r.job, r.id, r.outcome]),
        [
          ['jr-contract-a', newer, 'running'],
          ['jr-contract-b', other, 'running'],
        ],
      );
      assert.equal(await store.jobs.get('jr_missing'), undefined);
    });

    test('archive: old records are read oldest first with their children, and only unchanged ones deleted', async () => {
      const OLD = Date.UTC(2020, 0, 1);
      const cutoff = OLD + 10_000;
      const arch = store.archive;
      await store.checks.insert([
        check('arch-a', OLD + 2),
        check('arch-a', OLD + 1, 'unhealthy'),
        check('arch-a', cutoff),
      ]);
      const resolved = alert({
        id: newId(OLD, 'al_'),
        fingerprint: 'archive-contract',
        status: 'resolved',
        createdAt: OLD,
        updatedAt: OLD + 5,
        resolvedAt: OLD + 5,
        resolution: { kind: 'auto', by: 'prodmon', at: OLD + 5, reason: 'cleared' },
      });
      await store.alerts.insert(resolved);
      await store.alerts.addEvent({
        id: newId(OLD, 'ev_'),
        alertId: resolved.id,
        at: OLD,
        kind: 'firing',
        status: 'firing',
        severity: 'medium',
        value: 1,
        threshold: 0,
        actor: null,
        detail: { x: 1 },
      });
      const sketchRow = {
        metric: 'arch_metric',
        labels: '{"route":"/a"}',
        instance: 'i1',
        resolution: 60_000,
        bucket: OLD,
        count: 3,
        sum: 6,
        min: 1,
        max: 3,
        errors: 1,
        sketch: Buffer.from([1, 2, 3]),
      };
      await store.rollups.upsert([sketchRow, { ...sketchRow, bucket: OLD + 60_000, sketch: null }]);

      assert.equal(await arch.count('check_results', cutoff), 2);
      assert.equal(await arch.count('alerts', cutoff), 1);
      assert.equal(await arch.count('rollups_minute', cutoff + 60_000), 2);
      assert.equal(await arch.count('rollups_hourly', cutoff + 60_000), 0);

      const checks = await arch.oldest('check_results', cutoff, 10);
      assert.deepEqual(
        checks.map((c) => [c.checkedAt, c.status, c.details]),
        [
          [OLD + 1, 'unhealthy', { port: 1 }],
          [OLD + 2, 'healthy', { port: 1 }],
        ],
      );
      const [a] = await arch.oldest('alerts', cutoff, 10);
      assert.equal(a?.id, resolved.id);
      assert.deepEqual(a!.labels, { route: '/a' });
      assert.deepEqual(
        (a!.events as { kind: string; detail: unknown }[]).map((e) => [e.kind, e.detail]),
        [['firing', { x: 1 }]],
      );
      const rollups = await arch.oldest('rollups_minute', cutoff + 60_000, 10);
      assert.deepEqual(
        rollups.map((r) => [r.bucket, r.sketch]),
        [
          [OLD, Buffer.from([1, 2, 3]).toString('base64')],
          [OLD + 60_000, null],
        ],
      );

      // A row that changed after it was read is not deleted.
      await store.rollups.upsert([{ ...sketchRow, count: 4 }]);
      assert.equal(await arch.remove('rollups_minute', rollups), 1);
      assert.deepEqual(
        (await arch.oldest('rollups_minute', cutoff + 60_000, 10)).map((r) => r.count),
        [4],
      );
      assert.equal(
        await arch.remove('rollups_minute', await arch.oldest('rollups_minute', cutoff + 60_000, 10)),
        1,
      );
      assert.equal(await store.transaction((tx) => tx.archive.remove('check_results', checks)), 2);
      assert.equal(await arch.remove('alerts', [a!]), 1);
      assert.deepEqual(await store.alerts.events(resolved.id), []);
      assert.equal(await arch.count('check_results', cutoff + 1), 1);
      await store.checks.deleteBefore(cutoff + 1);
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
      // Restarted under the same instance name: the row names the new process.
      await store.instances.heartbeat(
        { id: 'i1', host: 'h2', pid: 2, version: '0.1.0', startedAt: T0 + 20 },
        T0 + 20,
      );
      assert.deepEqual(
        (await store.instances.list()).map((i) => [i.host, i.pid, i.startedAt, i.lastSeenAt]),
        [['h2', 2, T0 + 20, T0 + 20]],
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
