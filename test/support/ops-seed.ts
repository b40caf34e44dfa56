/** Old and recent records of every kind retention handles, and what the archive must then hold. */
import { newId } from '../../src/core/ids.js';
import type { StoredAlert } from '../../src/domain/alert.js';
import type { RollupRow } from '../../src/domain/rollup.js';
import type { Store } from '../../src/store/index.js';

const DAY = 86_400_000;

/** Keys of the seeded records that are old enough to go (per dataset), and the total of recent ones. */
export interface Seeded {
  old: Record<string, string[]>;
  /** Old rollup rows as written (to compare field by field). */
  oldRollups: RollupRow[];
  recent: number;
}

/** A stable key of an archived or stored record of a dataset. */
export function recordKey(dataset: string, r: Record<string, unknown>): string {
  if (dataset.startsWith('rollups'))
    return `${r.metric}|${r.labels}|${r.instance}|${r.resolution}|${r.bucket}`;
  return String(r.id);
}

function alert(id: string, at: number, resolved: boolean): StoredAlert {
  return {
    id,
    rule: 'api_response_time',
    fingerprint: `seed-${id}`,
    type: 'performance',
    severity: 'high',
    status: resolved ? 'resolved' : 'firing',
    message: 'p95 latency 900 ms > 500 ms',
    value: 900,
    threshold: 500,
    labels: { route: '/checkout' },
    metadata: { seeded: true },
    createdAt: at,
    updatedAt: at + 60_000,
    firingAt: at,
    resolvedAt: resolved ? at + 60_000 : null,
    resolution: resolved ? { kind: 'auto', by: 'prodmon', at: at + 60_000, reason: 'cleared' } : null,
    state: {},
  };
}

/**
 * Seeds, relative to `now`: records 40 and 35 days old (past the default 30 d) and 1 day old, of every
 * dataset; minute rollups 40 days old (past the 30 d minute retention), hourly ones 1 day old.
 */
export async function seedRetention(store: Store, now: number): Promise<Seeded> {
  const old: Record<string, string[]> = {
    check_results: [],
    alerts: [],
    outbox: [],
    job_runs: [],
    instances: [],
    rollups_minute: [],
  };
  let recent = 0;
  for (const age of [40 * DAY, 35 * DAY, 1 * DAY]) {
    const at = now - age;
    const isOld = age > 30 * DAY;
    const checkedAt = at + 17;
    await store.checks.insert([
      {
        name: 'db',
        kind: 'postgres',
        status: 'unhealthy',
        responseTimeMs: 12.5,
        details: { host: 'db1' },
        error: 'refused',
        critical: true,
        checkedAt,
      },
    ]);
    const [stored] = await store.checks.history({ since: checkedAt, until: checkedAt + 1 });
    const a = alert(newId(at, 'al_'), at, true);
    await store.alerts.insert(a);
    await store.alerts.addEvent({
      id: newId(at, 'ev_'),
      alertId: a.id,
      at,
      kind: 'firing',
      status: 'firing',
      severity: 'high',
      value: 900,
      threshold: 500,
      actor: null,
      detail: {},
    });
    await store.alerts.addEvent({
      id: newId(at + 60_000, 'ev_'),
      alertId: a.id,
      at: at + 60_000,
      kind: 'resolved',
      status: 'resolved',
      severity: 'high',
      value: 100,
      threshold: 500,
      actor: null,
      detail: {},
    });
    await store.outbox.enqueue({
      key: `${a.id}:firing:hook`,
      alertId: a.id,
      transition: 'firing',
      channel: 'hook',
      payload: { text: 'fire' },
      now: at,
    });
    const [item] = await store.outbox.forAlert(a.id);
    await store.outbox.recordDelivery({
      outboxId: item!.id,
      at: at + 5,
      ok: true,
      statusCode: 200,
      error: null,
      durationMs: 4,
    });
    await store.outbox.setState(item!.id, {
      status: 'delivered',
      attempts: 1,
      nextAttemptAt: at,
      lastError: null,
      now: at + 5,
    });
    const run = await store.jobs.start('health', 'seed', at, { slot: at });
    await store.jobs.finish(run, 'ok', { checks: 1 }, at + 10);
    const inst = `seed-${age}`;
    await store.instances.heartbeat({ id: inst, host: 'h', pid: 1, version: '0', startedAt: at }, at);
    if (isOld) {
      old.check_results!.push(stored!.id);
      old.alerts!.push(a.id);
      old.outbox!.push(item!.id);
      old.job_runs!.push(run);
      old.instances!.push(inst);
    } else recent += 5;
  }
  // An open alert is never archived, however old.
  await store.alerts.insert(alert(newId(now - 50 * DAY, 'al_'), now - 50 * DAY, false));
  const minute = (bucket: number, route: string): RollupRow => ({
    metric: 'http_request_duration_ms',
    labels: JSON.stringify({ method: 'GET', route }),
    instance: 'seed',
    resolution: 60_000,
    bucket,
    count: 10,
    sum: 1000,
    min: 20,
    max: 300,
    errors: 1,
    sketch: Buffer.from([7, 7, 7]),
  });
  const base = Math.floor((now - 40 * DAY) / 60_000) * 60_000;
  const oldRollups = [minute(base, '/a'), minute(base, '/b'), minute(base + 60_000, '/a')];
  await store.rollups.upsert(oldRollups);
  old.rollups_minute = oldRollups.map((r) =>
    recordKey('rollups_minute', r as unknown as Record<string, unknown>),
  );
  const fresh = Math.floor((now - DAY) / 60_000) * 60_000;
  await store.rollups.upsert([minute(fresh, '/a')]);
  return { old, oldRollups, recent: recent + 1 };
}
