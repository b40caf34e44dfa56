/**
 * A small prodmon-like process for the multi-instance test: leadership (lease + advisory lock on
 * PostgreSQL, exactly as the monitor builds it), the scheduler with one job every second, and a writer
 * that tries a fenced write every 100 ms whether or not it believes it leads (the fence must refuse
 * followers and stale leaders). Prints one JSON line per event. Args: url schema instance.
 */
import { sql } from 'kysely';
import { parseConfig } from '../../src/config/load.js';
import { systemClock } from '../../src/core/clock.js';
import { errorMessage } from '../../src/core/errors.js';
import { createLeadership, LeadershipLostError, leaseHolder, Scheduler } from '../../src/jobs/index.js';
import { openPostgres } from '../../src/store/dialects.js';
import { storeFromKysely } from '../../src/store/index.js';
import { LeaseRepo } from '../../src/store/repos/leases.js';

const [url, schema, instance] = process.argv.slice(2) as [string, string, string];
const say = (o: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify({ ...o, instance, t: Date.now() })}\n`);

const config = parseConfig({ instance, store: { driver: 'postgres', url, schema } }, { cwd: process.cwd() });
const { db, pool } = openPostgres(url, schema, 4);
// A checked-out client whose session the server ends (idle in a fenced transaction while this process
// was frozen) must not crash the process: the transaction fails, that is all.
pool.on('connect', (c) => c.on('error', () => {}));
const store = storeFromKysely(db, 'postgres', { schema });
await store.migrate(Date.now());
const holder = leaseHolder(instance);
const log = {
  info: (o: Record<string, unknown>, m: string) => say({ event: 'log', level: 'info', msg: m, ...o }),
  warn: (o: Record<string, unknown>, m: string) => say({ event: 'log', level: 'warn', msg: m, ...o }),
  error: (o: Record<string, unknown>, m: string) => say({ event: 'log', level: 'error', msg: m, ...o }),
};
const leadership = createLeadership({ config, store, clock: systemClock, holder, log });
leadership.onChange((leader, epoch) => say({ event: leader ? 'leader' : 'follower', epoch, holder }));
say({ event: 'start', holder, pid: process.pid });
await leadership.start();

const scheduler = new Scheduler({
  store,
  clock: systemClock,
  config,
  leadership,
  instance,
  log,
  catchUpMs: 5000,
  jobs: [
    {
      schedule: '* * * * * *',
      job: {
        name: 'tick',
        description: 'every second',
        async run(ctx) {
          return { counts: { slot: ctx.slot ?? 0 } };
        },
      },
    },
  ],
});
scheduler.start();

let seq = 0;
let stopped = false;
const writer = (async () => {
  while (!stopped) {
    const believed = leadership.isLeader();
    try {
      await db.transaction().execute(async (trx) => {
        // The epoch the fence checked (and keeps locked until the commit): `leadership.epoch` read after it
        // is null when this instance steps down meanwhile.
        const epoch = await leadership.fence({ leases: new LeaseRepo(trx) });
        await sql`insert into fenced_log (holder, epoch, seq) values (${holder}, ${epoch}, ${++seq})`.execute(
          trx,
        );
      });
    } catch (err) {
      if (!(err instanceof LeadershipLostError)) say({ event: 'write-error', err: errorMessage(err) });
      else if (believed) say({ event: 'fenced', believed });
    }
    await new Promise((r) => setTimeout(r, 100));
  }
})();

process.on('SIGTERM', async () => {
  stopped = true;
  await writer;
  await scheduler.stop();
  await leadership.stop();
  await store.close();
  say({ event: 'stopped' });
  process.exit(0);
});
