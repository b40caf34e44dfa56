import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { recordKey, seedRetention } from '../../test/support/ops-seed.js';
import { pgSchema, tempDir } from '../../test/support/services.js';
import { parseConfig, type ResolvedConfig } from '../config/load.js';
import { ARCHIVE_DATASETS } from '../domain/archive.js';
import { fileStamp } from '../logging/index.js';
import { openStore, type Store } from '../store/index.js';
import { listArchives, readArchive } from './archive/reader.js';
import { LeadershipLostError } from './leadership.js';
import { retentionTotals, runRetention } from './retention.js';

const NOW = Date.UTC(2026, 5, 15, 3, 0, 0);
const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const drivers = {
  sqlite: async (config: ResolvedConfig) => openStore({ driver: 'sqlite', path: config.paths.db }),
  postgres: async () => {
    const s = pgSchema();
    cleanups.push(() => s.drop());
    return openStore({ driver: 'postgres', url: s.url, schema: s.schema, poolSize: 4 });
  },
};

async function setup(driver: keyof typeof drivers): Promise<{ store: Store; config: ResolvedConfig }> {
  const dir = tempDir();
  const config = parseConfig({ data_dir: dir.path }, { cwd: dir.path });
  const store = await drivers[driver](config);
  await store.migrate(NOW);
  cleanups.push(
    () => dir.cleanup(),
    () => store.close(),
  );
  return { store, config };
}

async function snapshot(store: Store): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const ds of ARCHIVE_DATASETS) out[ds] = await store.archive.count(ds, NOW + 1);
  return out;
}

async function archived(dir: string): Promise<Map<string, Record<string, unknown>[]>> {
  const out = new Map<string, Record<string, unknown>[]>();
  for (const ds of ARCHIVE_DATASETS) {
    const records: Record<string, unknown>[] = [];
    for (const f of listArchives(dir, ds)) for await (const r of readArchive(f)) records.push(r);
    out.set(ds, records);
  }
  return out;
}

function writeLog(dir: string, name: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), 'x\n');
  return join(dir, name);
}

for (const driver of ['sqlite', 'postgres'] as const) {
  describe(`retention (${driver})`, () => {
    test('a dry run reports what would go and changes nothing', async () => {
      const { store, config } = await setup(driver);
      const seeded = await seedRetention(store, NOW);
      const oldLog = writeLog(config.paths.logs, `application.${fileStamp(NOW - 40 * 86_400_000)}.1.log.gz`);
      const before = await snapshot(store);
      const r = await runRetention({ store, config, scope: 'cleanup', now: NOW, dryRun: true });
      assert.deepEqual(await snapshot(store), before);
      assert.deepEqual(listArchives(config.paths.archive), []);
      for (const [ds, keys] of Object.entries(seeded.old)) {
        assert.equal(r.datasets.find((d) => d.dataset === ds)?.found, keys.length, ds);
      }
      assert.deepEqual(r.logs?.files, [oldLog]);
      assert.deepEqual(readdirSync(config.paths.logs), [oldLog.split('/').at(-1)]);
      assert.equal(retentionTotals(r).deleted, 0);
    });

    test('cleanup archives every record it deletes (read back from the .ndjson.gz), keeps recent and open ones', async () => {
      const { store, config } = await setup(driver);
      const seeded = await seedRetention(store, NOW);
      const oldAlert = await store.alerts.get(seeded.old.alerts![0]!);
      const oldItem = await store.outbox.get(seeded.old.outbox![0]!);
      const oldLog = writeLog(config.paths.logs, `error.${fileStamp(NOW - 31 * 86_400_000)}.1.log.gz`);
      const newLog = writeLog(config.paths.logs, `error.${fileStamp(NOW - 2 * 86_400_000)}.1.log.gz`);
      const progress: string[] = [];
      const r = await runRetention({
        store,
        config,
        scope: 'cleanup',
        now: NOW,
        pageSize: 2,
        fileRecords: 2,
        onProgress: (p) => progress.push(`${p.step} ${p.done}/${p.total ?? '?'}`),
      });
      const files = await archived(config.paths.archive);
      for (const [ds, keys] of Object.entries(seeded.old)) {
        const got = (files.get(ds) ?? []).map((rec) => recordKey(ds, rec)).sort();
        assert.deepEqual(got, [...keys].sort(), `${ds}: the archive holds exactly the deleted records`);
        const d = r.datasets.find((x) => x.dataset === ds)!;
        assert.deepEqual([d.found, d.archived, d.deleted], [keys.length, keys.length, keys.length], ds);
      }
      assert.ok(
        r.datasets.find((d) => d.dataset === 'rollups_minute')!.files.length >= 2,
        'files hold 2 records each',
      );
      const alertRec = files.get('alerts')!.find((a) => a.id === oldAlert!.id)!;
      const { events: _events, ...alertRow } = alertRec;
      const { resolution: _resolution, ...alertFields } = oldAlert!;
      assert.deepEqual(alertRow, {
        ...alertFields,
        resolutionKind: 'auto',
        resolutionBy: 'prodmon',
        resolutionReason: 'cleared',
      });
      assert.deepEqual(
        (alertRec.events as { kind: string }[]).map((e) => e.kind),
        ['firing', 'resolved'],
      );
      const itemRec = files.get('outbox')!.find((o) => o.id === oldItem!.id)!;
      assert.deepEqual(itemRec.payload, { text: 'fire' });
      assert.equal((itemRec.deliveries as unknown[]).length, 1);
      const rollup = files.get('rollups_minute')![0]!;
      assert.equal(rollup.sketch, Buffer.from([7, 7, 7]).toString('base64'));
      assert.equal(rollup.count, seeded.oldRollups[0]!.count);
      // Nothing old is left; recent and open records stay.
      for (const [ds, keys] of Object.entries(seeded.old)) {
        const cutoff = r.datasets.find((x) => x.dataset === ds)!.cutoff;
        assert.equal(await store.archive.count(ds as never, cutoff), 0, `${ds} ${keys.length}`);
      }
      assert.equal((await store.alerts.listOpen()).length, 1);
      assert.equal((await store.checks.history({})).length, 1);
      assert.deepEqual(r.logs?.files, [oldLog]);
      assert.deepEqual(readdirSync(config.paths.logs), [newLog.split('/').at(-1)]);
      assert.ok(progress.some((p) => p.startsWith('archive rollups_minute 2/3')));
      assert.ok((r.compactedHours ?? 0) > 0, 'minute rows were compacted into hourly ones first');
    });

    test('a deletion refused by the fence leaves the records in the store (archived twice, never lost)', async () => {
      const { store, config } = await setup(driver);
      const seeded = await seedRetention(store, NOW);
      await assert.rejects(
        runRetention({
          store,
          config,
          scope: 'archive',
          now: NOW,
          fence: async () => {
            throw new LeadershipLostError('a', 1);
          },
        }),
        LeadershipLostError,
      );
      assert.equal(
        await store.archive.count('check_results', NOW - 30 * 86_400_000),
        seeded.old.check_results!.length,
      );
      const r = await runRetention({ store, config, scope: 'archive', now: NOW });
      assert.equal(r.datasets.find((d) => d.dataset === 'check_results')?.deleted, 2);
      const keys = (await archived(config.paths.archive)).get('check_results')!.map((c) => c.id);
      assert.deepEqual(new Set(keys), new Set(seeded.old.check_results));
      assert.equal(r.logs, null, 'the archive job leaves log files to cleanup');
      assert.equal(
        r.datasets.some((d) => d.dataset.startsWith('rollups')),
        false,
      );
    });
  });
}
