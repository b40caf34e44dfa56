/**
 * Several instances on the real PostgreSQL (own schema). Three processes compete for leadership exactly
 * as the monitor does (test/support/leader-child.ts: lease + advisory lock, the scheduler with a job
 * every second, a writer attempting a fenced write every 100 ms whether or not it believes it leads):
 * one leader; kill -9 of the leader -> a new one within 15 s; the leader frozen with SIGSTOP until
 * another took over, then resumed -> it steps down and writes nothing; its database session killed with
 * pg_terminate_backend -> same; every fenced write belongs to the epoch's one holder; each job slot ran
 * once across the instances.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, afterEach, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { holderInstance, leaderSessionName } from '../../src/jobs/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { bundled } from '../support/build.js';
import { type HttpReceiver, startHttpReceiver } from '../support/receivers.js';
import { pgSchema, tempDir } from '../support/services.js';
import { waitFor } from '../support/wait.js';

const CHILD = fileURLToPath(new URL('../support/leader-child.ts', import.meta.url));
const SHOP = fileURLToPath(new URL('../support/shop-instance.ts', import.meta.url));

interface Instance {
  id: string;
  child: ChildProcess;
  holder: string;
  events: { event: string; epoch?: number | null; t: number; [k: string]: unknown }[];
  exited: Promise<void>;
}

const schema = pgSchema();
let store: Store;
let admin: pg.Client;
const instances: Instance[] = [];

async function spawnInstance(
  id: string,
  script = CHILD,
  extra: string[] = [],
  ready = 'start',
): Promise<Instance> {
  const child = spawn(process.execPath, [bundled(script), schema.url, schema.schema, id, ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const inst: Instance = {
    id,
    child,
    holder: '',
    events: [],
    exited: new Promise((r) => child.on('exit', () => r())),
  };
  let buf = '';
  child.stdout!.on('data', (d) => {
    buf += d;
    let i = buf.indexOf('\n');
    while (i >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      i = buf.indexOf('\n');
      try {
        const e = JSON.parse(line);
        if (e.event === ready) inst.holder = e.holder ?? id;
        inst.events.push(e);
      } catch {
        inst.events.push({ event: 'raw', line, t: Date.now() });
      }
    }
  });
  child.stderr!.on('data', (d) => inst.events.push({ event: 'stderr', text: String(d), t: Date.now() }));
  instances.push(inst);
  // Bounded wide: a child that compiles its TypeScript (tsx) and opens its store starts slowly on a
  // loaded machine.
  await waitFor(
    () => {
      if (inst.holder === '' && (child.exitCode !== null || child.signalCode !== null))
        throw new Error(`${id} exited before it started:\n${tails([inst])}`);
      return inst.holder !== '';
    },
    { timeout: 60_000, what: () => `${id} to start:\n${tails([inst])}` },
  );
  return inst;
}

const lease = () => store.leases.get('leader');
/** Bound on a takeover from a frozen leader: 5x the 10 s lease it must wait out. */
const STOP_TAKEOVER_MS = 50_000;

/**
 * Waits until `holder` has renewed the lease `times` more times at one epoch: it led all along (a
 * takeover in between would show another holder or a new epoch, and fails at once). The renewals are
 * what proves the time passed, not a sleep.
 */
async function renewedBy(holder: string, times: number, what: string): Promise<void> {
  const l0 = await lease();
  assert.equal(l0?.holder, holder, `${what}: the lease at the start`);
  const renewals = new Set<number>();
  await waitFor(
    async () => {
      const l = await lease();
      assert.deepEqual([l?.holder, l?.epoch], [holder, l0!.epoch], `${what}: the lease changed hands`);
      if (l!.expiresAt > l0!.expiresAt) renewals.add(l!.expiresAt);
      return renewals.size >= times;
    },
    {
      timeout: 60_000,
      interval: 100,
      what: () => `${what}: ${times} renewals of the lease (${renewals.size} seen)`,
    },
  );
}
/** Each instance's last events, one line per instance (for failure messages). */
const tails = (list: Instance[]) =>
  list
    .map(
      (i) =>
        `${i.id}: ${i.events
          .slice(-6)
          .map((e) => JSON.stringify(e))
          .join(' ')}`,
    )
    .join('\n');
const state = (i: Instance) =>
  [...i.events].reverse().find((e) => e.event === 'leader' || e.event === 'follower');
const leaderOf = async (alive: Instance[]) => {
  const l = await lease();
  return l && l.expiresAt > Date.now() ? alive.find((i) => i.holder === l.holder) : undefined;
};

before(async () => {
  store = await openStore({ driver: 'postgres', url: schema.url, schema: schema.schema, poolSize: 4 });
  await store.migrate(Date.now());
  admin = new pg.Client({ connectionString: schema.url });
  await admin.connect();
  await admin.query(
    `create table "${schema.schema}".fenced_log (id bigserial primary key, holder text not null, epoch bigint, seq int, at timestamptz default clock_timestamp())`,
  );
});

/** Kills every instance still running (a failed test must not leave lease holders for the next one). */
async function killAll(): Promise<void> {
  const running = instances.filter((i) => i.child.exitCode === null && i.child.signalCode === null);
  for (const i of running) {
    try {
      process.kill(i.child.pid!, 'SIGCONT');
      i.child.kill('SIGKILL');
    } catch {
      // gone
    }
  }
  await Promise.all(running.map((i) => i.exited));
}

afterEach(killAll);

after(async () => {
  await killAll();
  await admin?.end();
  await store?.close();
  await schema.drop();
});

describe('three instances on PostgreSQL', () => {
  test('one leader; kill -9, SIGSTOP/SIGCONT and a killed session each hand over; stale leaders write nothing; each job slot runs once', async (t) => {
    const [a, b, c] = [
      await spawnInstance('inst-a'),
      await spawnInstance('inst-b'),
      await spawnInstance('inst-c'),
    ];
    let alive = [a!, b!, c!];

    // 1. Exactly one leader.
    const first = await waitFor(() => leaderOf(alive), { timeout: 15_000, what: 'a leader' });
    const stableAt = Date.now() + 1000;
    await renewedBy(first.holder, 2, 'leadership is stable');
    assert.equal((await leaderOf(alive))?.id, first.id, 'leadership is stable');
    assert.deepEqual(
      alive.filter((i) => state(i)?.event === 'leader').map((i) => i.id),
      [first.id],
      'exactly one instance believes it leads',
    );

    // 2. kill -9 of the leader: its sessions end with it; a survivor takes the lease (epoch + 1) quickly.
    const epoch1 = (await lease())!.epoch;
    const t0 = Date.now();
    first.child.kill('SIGKILL');
    await first.exited;
    alive = alive.filter((i) => i !== first);
    const second = await waitFor(
      async () => {
        const l = await lease();
        return l && l.epoch > epoch1 ? leaderOf(alive) : undefined;
      },
      { timeout: 15_000, what: 'a new leader after kill -9' },
    );
    const killTakeover = Date.now() - t0;
    assert.ok(killTakeover < 15_000, `took ${killTakeover} ms`);

    // 3. SIGSTOP: the frozen leader keeps its session and lock; the other waits for the lease to expire.
    await new Promise((r) => setTimeout(r, 1500));
    const epoch2 = (await lease())!.epoch;
    const t1 = Date.now();
    process.kill(second.child.pid!, 'SIGSTOP');
    const third = await waitFor(
      async () => {
        const l = await lease();
        return l && l.epoch > epoch2 && l.holder !== second.holder
          ? alive.find((i) => i.holder === l.holder)
          : undefined;
      },
      { timeout: STOP_TAKEOVER_MS, what: 'a new leader after SIGSTOP' },
    );
    const thirdAt = Date.now();
    const stopTakeover = thirdAt - t1;
    const epoch3 = (await lease())!.epoch;
    const resumedAt = Date.now();
    process.kill(second.child.pid!, 'SIGCONT');
    await waitFor(() => state(second)?.event === 'follower' && state(second)!.t >= resumedAt - 100, {
      timeout: 15_000, // 5x the 3 s renewal that finds the lease gone
      what: 'the resumed leader to step down',
    });
    await renewedBy(third.holder, 2, 'the resumed instance did not take the lease back');

    // 4. pg_terminate_backend of the leader's dedicated session: it steps down at once, the other leads.
    const t2 = Date.now();
    const killed = await admin.query(
      'select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1',
      [leaderSessionName(third.holder)],
    );
    assert.equal(killed.rowCount, 1, 'the leader session is found by its application_name');
    await waitFor(() => state(third)?.event === 'follower' && state(third)!.t >= t2, {
      timeout: 15_000, // it steps down at once (the time is printed); bounded at 5x the 3 s renewal
      what: 'the leader to step down',
    });
    const stepDownMs = state(third)!.t - t2;
    const fourth = await waitFor(
      async () => {
        const l = await lease();
        return l && l.epoch > epoch3 ? leaderOf(alive) : undefined;
      },
      { timeout: 15_000, what: 'a new leader after the session was killed' },
    );
    const sessionTakeover = Date.now() - t2;
    assert.notEqual(fourth.holder, undefined);
    await new Promise((r) => setTimeout(r, 2000));

    // Fencing: every write was made by the one holder of its epoch, epochs never go back in commit order,
    // and nothing was written by an instance after a later epoch had started.
    const rows = (
      await admin.query(`select holder, epoch::int as epoch from "${schema.schema}".fenced_log order by id`)
    ).rows as {
      holder: string;
      epoch: number;
    }[];
    assert.ok(rows.length > 50, `${rows.length} fenced writes`);
    const holderOfEpoch = new Map<number, string>();
    let maxEpoch = 0;
    for (const r of rows) {
      assert.ok(r.epoch >= maxEpoch, `epoch ${r.epoch} written after epoch ${maxEpoch}`);
      maxEpoch = r.epoch;
      const h = holderOfEpoch.get(r.epoch) ?? r.holder;
      assert.equal(r.holder, h, `epoch ${r.epoch} written by two holders`);
      holderOfEpoch.set(r.epoch, h);
    }
    const firstOfEpoch3 = rows.findIndex((r) => r.epoch >= epoch3);
    assert.ok(firstOfEpoch3 > 0, 'the leader after the freeze wrote');
    const stale = rows.slice(firstOfEpoch3).filter((r) => r.holder === second.holder && r.epoch <= epoch2);
    assert.deepEqual(stale, [], 'the frozen leader wrote nothing with its old epoch once the next one began');
    const writers = [...holderOfEpoch.values()];
    assert.ok(
      writers.includes(first.holder) && writers.includes(third.holder),
      `writers: ${writers.join(', ')}`,
    );

    // Jobs: the job every second ran at most once per slot across the instances, and kept running.
    const runs = await store.jobs.recent({ job: 'tick', limit: 10_000 });
    const slots = runs.map((r) => r.detail.slot as number);
    assert.equal(new Set(slots).size, slots.length, 'no slot ran twice');
    const by = new Set(runs.map((r) => r.instance));
    assert.ok(by.size >= 3, `runs by ${[...by].join(', ')}`);
    // While a leader is established, every second's slot runs; slots are missed only during a handover
    // (the frozen leader's lease must expire first) or a stall (a loaded machine), then the latest missed
    // one is made up: at least a fifth of them is asserted, a 5x margin for the stalls.
    for (const [from, to] of [
      [stableAt, t0],
      [thirdAt + 1000, t2],
    ] as const) {
      const want = Math.floor((to - from) / 1000 / 5);
      const got = slots.filter((x) => x >= from && x < to).length;
      assert.ok(got >= want, `${got} slots ran between ${from} and ${to}, want at least ${want}`);
    }
    // A slot that came while the same instance's previous run was still going (a slow, loaded machine)
    // is skipped by the overlap guard: that is the guard working, not a failure.
    const overlapSkip = (r: (typeof runs)[number]) =>
      r.outcome === 'skipped' &&
      (r.detail as { reason?: string } | null)?.reason === 'previous run still in progress';
    const odd = runs.filter((r) => r.outcome !== 'ok' && r.outcome !== 'running' && !overlapSkip(r));
    assert.deepEqual(odd, [], 'every run ended ok (or was cut off by a kill, or skipped as an overlap)');

    t.diagnostic(
      `takeover after kill -9: ${killTakeover} ms; after SIGSTOP: ${stopTakeover} ms; after pg_terminate_backend: ${sessionTakeover} ms (stepped down after ${stepDownMs} ms); ${rows.length} fenced writes, ${runs.length} job runs`,
    );
    for (const i of alive) i.child.kill('SIGTERM');
    await Promise.all(alive.map((i) => i.exited));
  });
});

describe('three monitors on PostgreSQL, one incident', () => {
  test('a rule breached by the combined load: exactly one firing and one resolution at the receiver through kill -9, SIGSTOP and a killed session of the leader', async (t) => {
    const receiver: HttpReceiver = await startHttpReceiver();
    const dirs = [tempDir(), tempDir(), tempDir()];
    let stopLoad = () => {};
    try {
      const shops: Instance[] = [];
      for (const [i, name] of ['shop-a', 'shop-b', 'shop-c'].entries()) {
        shops.push(await spawnInstance(name, SHOP, [`${receiver.url}/hook`, dirs[i]!.path], 'ready'));
      }
      const urlOf = (i: Instance) => i.events.find((e) => e.event === 'ready')!.url as string;
      const leaderShop = async (alive: Instance[]) => {
        const l = await lease();
        return l && l.expiresAt > Date.now()
          ? alive.find((i) => i.id === holderInstance(l.holder))
          : undefined;
      };
      let alive = [...shops];
      const frozen = new Set<Instance>();
      // Three failing requests every 2 s (90/min), spread over the instances that are up, as a load
      // balancer does: each instance alone sees 30/min at the start (below the rule's 45/min), and the
      // combined rate stays above it while one is killed or frozen (so the incident stays one incident,
      // however long a takeover takes on a loaded machine). Then the errors stop but traffic goes on (a
      // window without samples would neither fire nor clear).
      let path: '/fail' | '/ok' | null = '/fail';
      stopLoad = () => {
        path = null;
      };
      const load = (async () => {
        let turn = 0;
        while (path) {
          const tick = Date.now();
          const up = alive.filter((i) => !frozen.has(i));
          await Promise.all(
            [0, 1, 2].map((k) =>
              fetch(`${urlOf(up[(turn + k) % up.length]!)}${path}`, {
                signal: AbortSignal.timeout(2000),
              }).then(
                (r) => r.arrayBuffer(),
                () => {},
              ),
            ),
          );
          turn++;
          await new Promise((r) => setTimeout(r, Math.max(0, 2000 - (Date.now() - tick))));
        }
      })();
      const notes = () =>
        receiver.requests
          .map((r) => ({
            id: String(r.headers['webhook-id']),
            ...(r.json as { data: { event: string; alert: { id: string; rule: string } } }).data,
          }))
          .filter((n) => n.alert?.rule === 'shop_errors');
      const loadAt = Date.now();
      const first = await waitFor(() => notes().find((n) => n.event === 'firing'), {
        timeout: 150_000,
        what: 'the firing notification',
      }).catch(async (err) => {
        const { items } = await store.alerts.list({ rule: 'shop_errors' });
        throw new Error(
          `${(err as Error).message}; alerts ${JSON.stringify(items.map((a) => [a.status, a.value]))}; ${receiver.requests.length} requests at the receiver; lease ${JSON.stringify(await lease())}\n${tails(shops)}`,
        );
      });
      const firedAt = Date.now();
      t.diagnostic(`firing received ${firedAt - loadAt} ms after the load began`);
      // Mid-incident: the firing is delivered and recorded. (Killed between a send and its record, a leader
      // leaves the row pending and the next leader sends it again with the same webhook-id: at-least-once,
      // receivers deduplicate by that id.)
      await waitFor(
        async () => (await store.outbox.forAlert(first.alert.id)).every((o) => o.status === 'delivered'),
        { timeout: 10_000, what: 'the firing to be recorded as delivered' },
      );

      // kill -9 of the leader mid-incident.
      const l1 = await waitFor(() => leaderShop(alive), { timeout: 15_000, what: 'a leader' });
      const e1 = (await lease())!.epoch;
      l1.child.kill('SIGKILL');
      await l1.exited;
      alive = alive.filter((i) => i !== l1);
      const tk = Date.now();
      const l2 = await waitFor(async () => ((await lease())!.epoch > e1 ? leaderShop(alive) : undefined), {
        timeout: 15_000,
        what: 'a new leader after kill -9',
      });
      const killMs = Date.now() - tk;

      // SIGSTOP of the new leader until the other took over, then SIGCONT: it steps down, sends nothing.
      const e2 = (await lease())!.epoch;
      process.kill(l2.child.pid!, 'SIGSTOP');
      frozen.add(l2);
      const ts = Date.now();
      const l3 = await waitFor(
        async () => {
          const l = await lease();
          return l && l.epoch > e2
            ? alive.find((i) => i !== l2 && i.id === holderInstance(l.holder))
            : undefined;
        },
        { timeout: STOP_TAKEOVER_MS, what: 'a leader after SIGSTOP' },
      );
      const stopMs = Date.now() - ts;
      const resumed = Date.now();
      process.kill(l2.child.pid!, 'SIGCONT');
      frozen.delete(l2);
      await waitFor(() => state(l2)?.event === 'follower' && state(l2)!.t >= resumed - 200, {
        timeout: 10_000,
        what: 'the resumed leader to step down',
      });

      // The leader's database session killed: it steps down at once, the other leads.
      const l3held = (await lease())!;
      assert.equal(holderInstance(l3held.holder), l3.id);
      await renewedBy(l3held.holder, 2, 'the resumed instance did not take the lease back');
      const l3lease = (await lease())!;
      const tt = Date.now();
      const killed = await admin.query(
        'select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1',
        [leaderSessionName(l3lease.holder)],
      );
      assert.equal(killed.rowCount, 1);
      await waitFor(async () => ((await lease())!.epoch > l3lease.epoch ? leaderShop(alive) : undefined), {
        timeout: 15_000,
        what: 'a leader after pg_terminate_backend',
      });
      const termMs = Date.now() - tt;

      // The errors stop; the alert resolves; the resolution arrives once.
      path = '/ok';
      const resolved = await waitFor(() => notes().find((n) => n.event === 'resolved'), {
        timeout: 180_000,
        what: 'the resolution',
      }).catch(async (err) => {
        // What the store says, to tell a missing resolution from an undelivered one.
        const alert = await store.alerts.get(first.alert.id);
        const outbox = await store.outbox.forAlert(first.alert.id);
        throw new Error(
          `${(err as Error).message}; alert ${alert?.status} value ${alert?.value}; outbox ${JSON.stringify(outbox.map((o) => [o.transition, o.status, o.attempts, o.lastError]))}; lease ${JSON.stringify(await lease())}\n${tails(shops)}`,
        );
      });
      // No notification sent twice: once every row of the alert's outbox is recorded delivered, and
      // the leader has renewed its lease twice since (its loops ran on), there is nothing left to send.
      await waitFor(
        async () => (await store.outbox.forAlert(first.alert.id)).every((o) => o.status === 'delivered'),
        { timeout: 30_000, what: 'the resolution to be recorded as delivered' },
      );
      const settled = (await lease())!;
      await renewedBy(settled.holder, 2, 'the leader after the resolution');
      path = null;
      await load;
      const all = notes();
      assert.deepEqual(
        all.map((n) => [n.event, n.alert.id]),
        [
          ['firing', first.alert.id],
          ['resolved', first.alert.id],
        ],
        'exactly one notification per transition',
      );
      assert.equal(
        new Set(receiver.requests.map((r) => r.headers['webhook-id'])).size,
        receiver.requests.length,
        'no notification id twice',
      );
      assert.equal(resolved.alert.id, first.alert.id);
      const { items } = await store.alerts.list({ rule: 'shop_errors' });
      assert.equal(items.length, 1, 'one incident');
      assert.deepEqual(
        (await store.alerts.events(first.alert.id)).map((e) => e.kind),
        ['firing', 'resolved'],
      );
      t.diagnostic(
        `fired; new leader after kill -9 in ${killMs} ms, after SIGSTOP in ${stopMs} ms, after pg_terminate_backend in ${termMs} ms; resolved ${Date.now() - firedAt} ms after firing`,
      );
      for (const i of alive) i.child.kill('SIGTERM');
      await Promise.all(alive.map((i) => i.exited));
    } finally {
      stopLoad();
      await receiver.close();
      for (const d of dirs) d.cleanup();
    }
  });
});
