/**
 * prodmon's own store failing while a real monitor runs, with a real webhook receiver as its channel:
 * the store stops taking writes, its SQLite file is deleted, or random pages are written over its
 * middle; a PostgreSQL store loses its connections. Each time the `self` check must say so, the
 * `system` alert must reach the receiver without the store, exactly once, and its resolution once;
 * then the data written before the failure is still there after a restart.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { type App, createApp } from '../../src/app.js';
import { newId } from '../../src/core/ids.js';
import type { StoredAlert } from '../../src/domain/alert.js';
import type { HealthCheckResult } from '../../src/domain/health.js';
import { soleLeadership } from '../../src/jobs/index.js';
import { type HttpReceiver, type Received, startHttpReceiver } from '../support/receivers.js';
import { pgSchema, tempDir, uniqueName } from '../support/services.js';
import { corruptMiddle, seedHistory } from '../support/store-faults.js';
import { waitFor } from '../support/wait.js';

const READ = 'store-failure-read-token-0123456789';
/** A refresh every second (the shortest allowed); tests that count refreshes set `1h` and run them themselves. */
const REFRESH = '1s';
/** Bound on how long anything here may take: many refreshes, for a busy machine. */
const DEADLINE_MS = 15_000;
const MINUTE = 60_000;

type Hook = {
  type: string;
  data: {
    alert: {
      id: string;
      rule: string;
      labels: Record<string, string>;
      message: string;
      metadata: Record<string, unknown>;
    };
  };
};
const hook = (r: Received) => r.json as Hook;

function config(dataDir: string, receiver: HttpReceiver, extra: Record<string, unknown> = {}) {
  return {
    instance: 'store-watch',
    data_dir: dataDir,
    logs: { stdout: false },
    auth: { tokens: [{ name: 'ops', token: READ, role: 'read' as const }] },
    health: { refresh_interval: REFRESH },
    notifications: {
      channels: [{ name: 'hook', kind: 'webhook' as const, url: `${receiver.url}/hook` }],
      // A resolution follows its group's last message by at least the group interval (1m by default).
      grouping: { group_interval: '1s' },
    },
    ...extra,
  };
}

/** Notifications about the `self` check that reached the receiver. */
function selfNotes(receiver: HttpReceiver): Hook[] {
  return receiver.requests
    .map(hook)
    .filter((h) => h.data?.alert?.rule === 'health_check' && h.data.alert.labels.check === 'self');
}

/** Every `self` result of every run, from now on. */
function watchSelf(m: App): HealthCheckResult[] {
  const seen: HealthCheckResult[] = [];
  m.health.onResults((rs) => {
    for (const r of rs) if (r.kind === 'self') seen.push(r);
  });
  return seen;
}

function storedAlert(n: number, now: number): StoredAlert {
  return {
    id: newId(now, 'al_'),
    rule: 'api_response_time',
    fingerprint: `api_response_time{route="/r${n}"}`,
    type: 'performance',
    severity: 'high',
    status: 'resolved',
    message: `p95 of /r${n} was slow`,
    value: 900,
    threshold: 500,
    labels: { route: `/r${n}` },
    metadata: {},
    createdAt: now - 3_600_000 + n,
    updatedAt: now - 3_500_000 + n,
    firingAt: now - 3_600_000 + n,
    resolvedAt: now - 3_500_000 + n,
    resolution: { kind: 'auto', by: 'prodmon', at: now - 3_500_000 + n, reason: 'cleared' },
    state: {},
  };
}

/** 75 alerts and `rows` rollups of history, as the trial had before the fault. */
async function seed(m: App, rows: number): Promise<number> {
  const now = Date.now();
  for (let i = 0; i < 75; i++) await m.store.alerts.insert(storedAlert(i, now));
  const from = Math.floor((now - 2 * 86_400_000) / MINUTE) * MINUTE;
  await seedHistory(m.store, rows, from);
  return from;
}

/**
 * The stored alerts of the scenario: the 75 seeded and those of the `self` check. Host rules (CPU,
 * memory, event loop) may fire too on a loaded machine; they are no part of what is checked.
 */
async function scenarioAlerts(m: App): Promise<number> {
  const { items } = await m.store.alerts.list({ limit: 500 });
  return items.filter(
    (a) => a.rule === 'api_response_time' || (a.rule === 'health_check' && a.labels.check === 'self'),
  ).length;
}

async function historyRows(m: App, from: number): Promise<number> {
  return (
    await m.store.rollups.query({ resolution: MINUTE, since: from, until: Date.now(), instance: 'seed' })
  ).length;
}

async function get(m: App, path: string): Promise<{ status: number; body: unknown }> {
  const res = await m.http.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${READ}` } });
  return { status: res.statusCode, body: res.json() };
}

/** A monitor started on `dir`, with `rows` of history seeded (and 75 alerts), once `self` is healthy. */
async function started(dir: string, receiver: HttpReceiver, rows: number, refresh = REFRESH) {
  const m = createApp(config(dir, receiver, { health: { refresh_interval: refresh } }), {
    env: {},
    fileLogs: false,
  });
  await m.start();
  const seen = watchSelf(m);
  const from = rows > 0 ? await seed(m, rows) : 0;
  await waitFor(() => seen.some((r) => r.status === 'healthy'), {
    timeout: DEADLINE_MS,
    what: 'a healthy self',
  });
  return { m, seen, from };
}

/** Runs the health checks (what a refresh does) until `cond` holds. */
async function refreshUntil(m: App, cond: () => boolean, what: string): Promise<void> {
  await waitFor(
    async () => {
      if (cond()) return true;
      await m.health.run();
      return false;
    },
    { timeout: DEADLINE_MS, interval: 20, what },
  );
}

/** Runs `fn` on a monitor started again on `dir`, then stops it. */
async function restarted(dir: string, receiver: HttpReceiver, fn: (m: App) => Promise<void>): Promise<void> {
  const m = createApp(config(dir, receiver), { env: {}, fileLogs: false });
  await m.start();
  try {
    await fn(m);
  } finally {
    await m.stop();
  }
}

async function untilSelfSays(seen: HealthCheckResult[], what: RegExp): Promise<void> {
  await waitFor(() => seen.some((r) => r.status === 'unhealthy' && what.test(r.error ?? '')), {
    timeout: DEADLINE_MS,
    what: `self saying ${what}`,
  });
}

/** The firing (sent directly) and the resolution of the `self` alert, each exactly once. */
async function assertToldOnceAndResolved(receiver: HttpReceiver, reason: RegExp): Promise<void> {
  await waitFor(() => selfNotes(receiver).some((h) => h.type === 'alert.resolved'), {
    timeout: DEADLINE_MS,
    what: 'the resolution',
  });
  const notes = selfNotes(receiver);
  assert.deepEqual(
    notes.map((h) => h.type),
    ['alert.firing', 'alert.resolved'],
    `one firing (direct) and one resolution: the regular firing was not sent again; got ${JSON.stringify(notes)}`,
  );
  const [firing, resolved] = notes as [Hook, Hook];
  assert.equal(firing.data.alert.metadata.delivery, 'direct');
  assert.match(firing.data.alert.message, reason);
  assert.equal(
    resolved.data.alert.id,
    firing.data.alert.id,
    'the resolution resolves the incident that was told',
  );
}

describe('store failures while the monitor runs (SQLite)', () => {
  const receivers: HttpReceiver[] = [];
  const dirs: { cleanup: () => void }[] = [];
  after(async () => {
    for (const r of receivers) await r.close();
    for (const d of dirs) d.cleanup();
  });
  /** A data directory and a receiver of the test's own (a stopped monitor's last send may still land). */
  const fresh = async () => {
    const d = tempDir();
    dirs.push(d);
    const receiver = await startHttpReceiver();
    receivers.push(receiver);
    return { dir: d.path, receiver };
  };

  test('a store that stops taking writes (select 1 still answers): self unhealthy on every view, told once without the store', async () => {
    const { dir, receiver } = await fresh();
    const { m } = await started(dir, receiver, 0);
    try {
      // Every write of every table refused, as a full or read-only disk would; reads still work.
      const side = new BetterSqlite3(join(dir, 'prodmon.db'));
      const tables = (
        side
          .prepare(`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`)
          .all() as {
          name: string;
        }[]
      ).map((t) => t.name);
      for (const t of tables)
        for (const op of ['insert', 'update'])
          side.exec(
            `create trigger stuck_${op}_${t} before ${op} on ${t} begin select raise(abort, 'disk says no'); end`,
          );
      try {
        await waitFor(() => selfNotes(receiver).length > 0, {
          timeout: DEADLINE_MS,
          what: 'the direct alert',
        });
        const stored = side.prepare(`select count(*) as n from alerts where rule = 'health_check'`).get();
        assert.deepEqual(stored, { n: 0 }, 'the regular path could not store it');
        const detailed = (await get(m, '/production/health/detailed/')).body as {
          checks: { name: string; status: string; error: string }[];
        };
        const self = detailed.checks.find((c) => c.name === 'self')!;
        assert.equal(self.status, 'unhealthy');
        assert.match(self.error, /store: unhealthy \(write-then-read round trip failed: disk says no\)/);
        const dash = await get(m, '/production/api/checks');
        assert.equal(dash.status, 200);
        assert.match(JSON.stringify(dash.body), /round trip failed: disk says no/);
        assert.equal((await m.http.inject({ method: 'GET', url: '/health/' })).json().status, 'degraded');
      } finally {
        for (const t of tables)
          for (const op of ['insert', 'update']) side.exec(`drop trigger stuck_${op}_${t}`);
        side.close();
      }
      await assertToldOnceAndResolved(
        receiver,
        /health check self is unhealthy: store: unhealthy \(write-then-read round trip failed: disk says no\)/,
      );
      const stored = await m.store.alerts.get(selfNotes(receiver)[0]!.data.alert.id);
      assert.equal(stored?.status, 'resolved', 'the engine took the direct alert over under its id');
    } finally {
      await m.stop();
    }
  });

  test('the SQLite file deleted: self unhealthy, told once, restored; after a restart nothing is missing', async () => {
    const { dir, receiver } = await fresh();
    const path = join(dir, 'prodmon.db');
    // Refreshes are run by hand here: one after the delete must be enough.
    const { m, from } = await started(dir, receiver, 2000, '1h');
    try {
      for (const f of ['', '-wal', '-shm']) rmSync(path + f, { force: true });
      const report = await m.health.run();
      const self = report.checks.find((c) => c.name === 'self')!;
      assert.equal(self.status, 'unhealthy');
      assert.match(self.error ?? '', /prodmon\.db was deleted while prodmon had it open/);
      // Sent during that refresh: no other refresh runs until it has arrived.
      await waitFor(() => selfNotes(receiver).length > 0, { timeout: DEADLINE_MS, what: 'the direct alert' });
      await refreshUntil(
        m,
        () => selfNotes(receiver).some((h) => h.type === 'alert.resolved'),
        'the resolution',
      );
      await assertToldOnceAndResolved(receiver, /was deleted while prodmon had it open/);
      assert.ok(existsSync(path), 'the file is back');
      assert.deepEqual(
        readdirSync(dir).filter((f) => f.includes('.replaced-') || f.includes('.restoring-')),
        [],
      );
    } finally {
      await m.stop();
    }
    await restarted(dir, receiver, async (again) => {
      assert.equal(
        await scenarioAlerts(again),
        76,
        'the 75 alerts from before the delete and the one about it',
      );
      assert.equal(await historyRows(again, from), 2000);
    });
  });

  test('random pages over the middle of the file: self unhealthy, told once, salvaged and kept running', async () => {
    const { dir, receiver } = await fresh();
    const path = join(dir, 'prodmon.db');
    let kept = 0;
    // No refresh is due for an hour: the failing statement alone must bring the alert.
    const { m, seen, from } = await started(dir, receiver, 8000, '1h');
    try {
      m.metrics.record('store_test_samples', {}, 5); // in memory, flushed later
      corruptMiddle(path);
      // What the finding saw: reads of the damaged pages fail, and `self` went on saying healthy.
      await assert.rejects(historyRows(m, from), /malformed/);
      m.metrics.record('store_test_samples', {}, 7); // accepted while the store fails
      await waitFor(() => selfNotes(receiver).length > 0, { timeout: DEADLINE_MS, what: 'the direct alert' });
      await untilSelfSays(seen, /the database file is corrupt/);
      await refreshUntil(
        m,
        () => selfNotes(receiver).some((h) => h.type === 'alert.resolved'),
        'the resolution',
      );
      await assertToldOnceAndResolved(receiver, /the database file is corrupt/);
      kept = await historyRows(m, from);
      assert.ok(kept > 2000 && kept < 8000, `history outside the damage salvaged (${kept} of 8000 rows)`);
      assert.equal((await get(m, '/production/api/status')).status, 200);
      assert.equal((await get(m, '/production/api/alerts')).status, 200);
      assert.equal(
        readdirSync(dir).filter((f) => /^prodmon\.db\.corrupt-/.test(f)).length,
        1,
        'the corrupt file is kept',
      );
    } finally {
      await m.stop();
    }
    await restarted(dir, receiver, async (again) => {
      assert.equal(
        await scenarioAlerts(again),
        76,
        'the 75 alerts from before the damage and the one about it',
      );
      assert.equal(await historyRows(again, from), kept);
      // Nothing accepted around the failure was dropped: the samples, the check results saying so.
      const samples = await again.store.rollups.query({
        resolution: MINUTE,
        since: from,
        until: Date.now() + MINUTE,
        metrics: ['store_test_samples'],
      });
      assert.deepEqual(
        [samples.reduce((n, r) => n + r.count, 0), samples.reduce((n, r) => n + r.sum, 0)],
        [2, 12],
      );
      const history = await again.store.checks.history({ name: 'self', limit: 100 });
      assert.ok(
        history.some((r) => r.status === 'unhealthy' && /the database file is corrupt/.test(r.error ?? '')),
        `the unhealthy self result is stored: ${JSON.stringify(history.map((r) => [r.status, r.error]))}`,
      );
    });
  });
});

describe('store failures while the monitor runs (PostgreSQL)', () => {
  test("prodmon's connections terminated: self degraded, healthy again once the pool reconnects", async () => {
    const receiver = await startHttpReceiver();
    const dir = tempDir();
    const s = pgSchema();
    const app = uniqueName('pm_store');
    const admin = new pg.Client({ connectionString: s.url });
    await admin.connect();
    const m = createApp(
      config(dir.path, receiver, {
        store: {
          driver: 'postgres',
          url: `${s.url}?application_name=${app}`,
          schema: s.schema,
          pool_size: 4,
        },
      }),
      { env: {}, fileLogs: false, leadership: soleLeadership() },
    );
    await m.start();
    try {
      const seen = watchSelf(m);
      await waitFor(() => seen.some((r) => r.status === 'healthy'), {
        timeout: DEADLINE_MS,
        what: 'a healthy self',
      });
      await admin.query(
        'select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1',
        [app],
      );
      await waitFor(() => seen.some((r) => r.status === 'degraded'), {
        timeout: DEADLINE_MS,
        what: 'a degraded self',
      });
      const degraded = seen.find((r) => r.status === 'degraded')!;
      assert.match(
        degraded.error ?? '',
        /store: degraded \(\d+ connection\(s\) dropped .*administrator command.*the pool reconnected\)/,
      );
      const at = seen.indexOf(degraded);
      await waitFor(() => seen.slice(at).some((r) => r.status === 'healthy'), {
        timeout: DEADLINE_MS,
        what: 'healthy again',
      });
      assert.deepEqual(selfNotes(receiver), [], 'a dropped connection is not an outage: nobody is paged');
    } finally {
      await m.stop();
      await admin.end();
      await receiver.close();
      await s.drop();
      dir.cleanup();
    }
  });
});
