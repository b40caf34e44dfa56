/** Deploy markers in both stores (SQLite and the real PostgreSQL), and how long retention keeps them. */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { tempDir } from '../../test/support/services.js';
import { STORE_FIXTURES } from '../../test/support/stores.js';
import { parseConfig } from '../config/load.js';
import { newId } from '../core/ids.js';
import type { Deployment } from '../domain/deployment.js';
import { runRetention } from '../jobs/retention.js';
import type { Store } from './index.js';

const T0 = Date.UTC(2026, 4, 1, 12, 0, 0);
const MIN = 60_000;
const DAY = 86_400_000;

function marker(over: Partial<Deployment> & Pick<Deployment, 'version' | 'at'>): Deployment {
  return { id: newId(over.at, 'dp_'), instance: null, note: null, by: 'ci', ...over };
}

for (const fixture of STORE_FIXTURES) {
  describe(`deploy markers: ${fixture.name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    const cleanups: (() => Promise<void> | void)[] = [];
    after(async () => {
      for (const c of cleanups.reverse()) await c();
    });
    const open = async () => {
      ({ store, cleanup } = await fixture.open());
      cleanups.push(cleanup);
      return store;
    };

    test('recorded as given; listed newest first, by time range, instance and limit', async () => {
      const s = await open();
      const a = marker({ version: 'v1.4.0', at: T0 - 30 * MIN, note: 'first', by: 'jenkins' });
      const b = marker({ version: 'v1.4.1', at: T0 - 20 * MIN, instance: 'web-1' });
      const c = marker({ version: 'v1.4.1', at: T0 - 20 * MIN, instance: 'web-2' });
      const d = marker({ version: 'v1.4.2', at: T0 - 5 * MIN });
      // Stored out of order: the list orders by time (then id), not by insertion.
      for (const m of [d, b, a, c]) await s.deployments.record(m);

      const all = await s.deployments.list({ limit: 100 });
      const sameTime = [b, c].sort((x, y) => y.id.localeCompare(x.id));
      assert.deepEqual(all, [d, ...sameTime, a], 'newest first, then by id');
      assert.deepEqual(all.at(-1), a, 'every field comes back as stored (note, by, null instance)');
      assert.equal(typeof all[0]!.at, 'number');

      const range = await s.deployments.list({ since: T0 - 20 * MIN, until: T0 - 5 * MIN, limit: 100 });
      assert.deepEqual(
        range.map((m) => m.id).sort(),
        [b.id, c.id].sort(),
        'since is inclusive, until exclusive',
      );
      assert.deepEqual(
        await s.deployments.list({ instance: 'web-1', limit: 100 }),
        [b],
        'exactly one instance',
      );
      assert.deepEqual(
        (await s.deployments.list({ limit: 2 })).map((m) => m.id),
        all.slice(0, 2).map((m) => m.id),
      );
      assert.deepEqual(await s.deployments.list({ since: T0, limit: 10 }), []);
    });

    test('latestByVersion: the newest marker of a version; with an instance, its own or a global one', async () => {
      const s = await open();
      const old = marker({ version: 'v2', at: T0 - 60 * MIN });
      const web1 = marker({ version: 'v2', at: T0 - 40 * MIN, instance: 'web-1' });
      const web2 = marker({ version: 'v2', at: T0 - 10 * MIN, instance: 'web-2' });
      const other = marker({ version: 'v3', at: T0 - 1 * MIN });
      for (const m of [old, web1, web2, other]) await s.deployments.record(m);

      assert.deepEqual(await s.deployments.latestByVersion('v2'), web2);
      assert.deepEqual(await s.deployments.latestByVersion('v2', 'web-1'), web1);
      assert.deepEqual(await s.deployments.latestByVersion('v2', 'web-3'), old, 'a global marker applies');
      assert.equal(await s.deployments.latestByVersion('v9'), undefined);
      // A newer global marker of the version wins over an older one of the instance.
      const again = marker({ version: 'v2', at: T0 - 5 * MIN });
      await s.deployments.record(again);
      assert.deepEqual(await s.deployments.latestByVersion('v2', 'web-1'), again);
    });

    test('written with its audit row in one transaction: a rollback keeps neither', async () => {
      const s = await open();
      const m = marker({ version: 'v-rollback', at: T0 });
      await assert.rejects(
        s.transaction(async (tx) => {
          await tx.deployments.record(m);
          await tx.audit.append({ at: T0, actor: 'ci', action: 'deploy.mark', target: m.id, detail: {} });
          throw new Error('fail after the writes');
        }),
        /fail after the writes/,
      );
      assert.deepEqual(await s.deployments.list({ limit: 10 }), []);
      assert.deepEqual(await s.audit.list({ target: m.id }), []);
      await assert.rejects(
        s.deployments.record({ ...m, id: 'dp_dup' }).then(() => s.deployments.record({ ...m, id: 'dp_dup' })),
        'the id is the primary key',
      );
    });

    test('cleanup archives and deletes markers only past the longer rollup retention', async () => {
      const s = await open();
      const dir = tempDir();
      cleanups.push(() => dir.cleanup());
      const config = parseConfig(
        { data_dir: dir.path, metrics: { retention: '30d', hourly_retention: '60d' } },
        { env: {}, cwd: dir.path },
      );
      const gone = marker({ version: 'v-ancient', at: T0 - 61 * DAY });
      const kept = marker({ version: 'v-old', at: T0 - 59 * DAY });
      const fresh = marker({ version: 'v-new', at: T0 - DAY });
      for (const m of [gone, kept, fresh]) await s.deployments.record(m);

      const archiveOnly = await runRetention({ store: s, config, scope: 'archive', now: T0 });
      assert.equal(
        archiveOnly.datasets.find((x) => x.dataset === 'deployments'),
        undefined,
        'the weekly archive job (archive.after, 30 d) leaves markers alone',
      );
      const r = await runRetention({ store: s, config, scope: 'cleanup', now: T0 });
      const d = r.datasets.find((x) => x.dataset === 'deployments')!;
      assert.equal(d.cutoff, T0 - 60 * DAY, 'the longer of metrics.retention and metrics.hourly_retention');
      assert.deepEqual([d.found, d.archived, d.deleted, d.files.length], [1, 1, 1, 1]);
      assert.deepEqual(
        (await s.deployments.list({ limit: 10 })).map((m) => m.version),
        ['v-new', 'v-old'],
      );
    });
  });
}
