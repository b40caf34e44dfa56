/**
 * Saving, listing, comparing and deleting baselines on both real stores (SQLite file, PostgreSQL
 * schema), with rollups recorded through prodmon's Recorder on a controlled clock.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type FakeRequest,
  flushTo,
  logNormal,
  memoryRecorder,
  recordMinutes,
  seeded,
} from '../../test/support/gate-windows.js';
import { STORE_FIXTURES } from '../../test/support/stores.js';
import { FakeClock } from '../core/clock.js';
import { ProdmonError } from '../core/errors.js';
import type { Store } from '../store/index.js';
import type { DeploymentLookup } from './repository.js';
import { cliLabel, parseCompareRequest, parseSaveRequest } from './request.js';
import { compareBaseline, deleteBaseline, type GateDeps, listBaselines, saveBaseline } from './service.js';
import { readWindow } from './window.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 2, 1, 9, 0);

function traffic(seed: number, slow = 1) {
  const random = seeded(seed);
  return (): FakeRequest[] => {
    const out: FakeRequest[] = [];
    for (let k = 0; k < 40; k++)
      out.push({ method: 'GET', route: '/api/products', ms: logNormal(random, 20, 0.3) * slow });
    for (let k = 0; k < 30; k++)
      out.push({ method: 'POST', route: '/api/checkout', ms: logNormal(random, 60, 0.3) });
    for (let k = 0; k < 30; k++)
      out.push({ method: 'GET', route: '/admin/stats', ms: logNormal(random, 5, 0.3) });
    return out;
  };
}

/** Records `minutes` minutes from `start` on an instance and writes them to the store. */
async function record(
  store: Store,
  instance: string,
  start: number,
  minutes: number,
  minute: () => FakeRequest[],
) {
  const { recorder } = memoryRecorder(instance);
  recordMinutes(recorder, start, minutes, minute);
  await flushTo(recorder, store);
  recorder.close();
}

const expectError = async (p: Promise<unknown>, code: string, message: RegExp) => {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof ProdmonError, String(err));
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  });
};

for (const fixture of STORE_FIXTURES) {
  describe(`baselines on ${fixture.name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    const clock = new FakeClock(T0 + 95 * MIN + 30_000);
    const markers = new Map<string, number>();
    const deployments: DeploymentLookup = {
      latestByVersion: async (v) => (markers.has(v) ? { at: markers.get(v)! } : undefined),
    };
    let deps: GateDeps;
    before(async () => {
      ({ store, cleanup } = await fixture.open());
      deps = { store, clock, deployments, settleMs: 10_000 };
      // 09:00-10:00 on two instances, then 10:00-10:10 GET /api/products
      // 50 % slower on instance a (deployed at 09:59:20), 10:10-10:35 back to normal.
      await record(store, 'a', T0, 60, traffic(1));
      await record(store, 'b', T0, 60, traffic(2));
      await record(store, 'a', T0 + 60 * MIN, 10, traffic(3, 1.5));
      await record(store, 'a', T0 + 70 * MIN, 25, traffic(4));
      markers.set('v2', T0 + 59 * MIN + 20_000);
    });
    after(async () => cleanup());

    const save = (input: Record<string, unknown>) =>
      saveBaseline(deps, parseSaveRequest(input, cliLabel, clock.now()), 'cli:ana');
    const compare = (input: Record<string, unknown>) =>
      compareBaseline(deps, parseCompareRequest(input, cliLabel, clock.now()));

    test('save keeps per route and overall the counts, the merged sketch and every minute; list and get read it', async () => {
      const info = await save({
        name: 'steady',
        from: new Date(T0).toISOString(),
        to: new Date(T0 + 30 * MIN).toISOString(),
      });
      assert.deepEqual(
        [info.from, info.until, info.requests, info.routes, info.instance, info.route, info.createdBy],
        [T0, T0 + 30 * MIN, 2 * 30 * 100, 3, null, null, 'cli:ana'],
      );
      const b = (await store.baselines.get('steady'))!;
      assert.deepEqual(
        b.series.map((s) => [s.key, s.count, s.minutes.length]),
        [
          ['GET /admin/stats', 1800, 30],
          ['GET /api/products', 2400, 30],
          ['POST /api/checkout', 1800, 30],
        ],
      );
      assert.equal(b.overall.count, 6000);
      assert.equal(b.overall.minutes[0]!.t, T0);
      assert.equal(b.overall.minutes[0]!.count, 200);
      const m = b.series[1]!.minutes[0]!;
      assert.ok(m.p50! > 15 && m.p50! < 25 && m.p95! > m.p50! && m.p99! >= m.p95!, JSON.stringify(m));
      assert.ok(b.series[1]!.sketch && b.series[1]!.sketch.length > 20, 'the merged sketch is kept');
      assert.deepEqual(
        (await listBaselines(store)).map((x) => x.name),
        ['steady'],
      );
      const audit = await store.audit.list({ target: 'steady' });
      assert.deepEqual(
        audit.map((e) => [e.action, e.actor]),
        [['baseline.save', 'cli:ana']],
      );
    });

    test('a name in use needs --force; the window, instance and route filters are kept', async () => {
      await expectError(
        save({ name: 'steady', since: '30m' }),
        'PRODMON_E_CONFLICT',
        /"steady" exists; replace it with --force/,
      );
      // "now" is 10:35:30: the last settled minute ends at 10:35; 30m back is 10:05.
      const info = await save({ name: 'steady', since: '20m', instance: 'a', route: '/api/**', force: true });
      assert.deepEqual(
        [info.from, info.until, info.instance, info.route, info.routes, info.requests],
        [T0 + 75 * MIN, T0 + 95 * MIN, 'a', '/api/**', 2, 20 * 70],
      );
      assert.deepEqual((await store.audit.list({ target: 'steady' })).map((e) => e.action).sort(), [
        'baseline.replace',
        'baseline.save',
      ]);
    });

    test('compare with a saved baseline: no change passes; the slowed route is a regression', async () => {
      await save({
        name: 'morning',
        from: new Date(T0).toISOString(),
        to: new Date(T0 + 30 * MIN).toISOString(),
        instance: 'a',
      });
      const ok = await compare({ baseline: 'morning', until: new Date(T0 + 45 * MIN).toISOString() });
      assert.equal(ok.verdict, 'pass', [...ok.regressions, ...ok.missing].join('\n'));
      assert.deepEqual(ok.current, { from: T0 + 35 * MIN, until: T0 + 45 * MIN, instance: 'a', route: null });
      assert.equal(ok.baseline.kind, 'saved');
      const bad = await compare({ baseline: 'morning', until: new Date(T0 + 70 * MIN).toISOString() });
      assert.equal(bad.verdict, 'regression');
      // The checkout's 60 ms dominate the overall p95: only the route shows it.
      assert.deepEqual(
        bad.units.filter((u) => u.verdict === 'regression').map((u) => u.key),
        ['GET /api/products'],
      );
      // Narrowed to routes the baseline was not saved for: the overall is not compared.
      const narrowed = await compare({
        baseline: 'morning',
        route: '/api/checkout',
        until: new Date(T0 + 70 * MIN).toISOString(),
      });
      assert.equal(narrowed.verdict, 'pass');
      assert.deepEqual(
        narrowed.units.map((u) => u.key),
        ['POST /api/checkout'],
      );
      assert.match(narrowed.notes.join('\n'), /overall not compared/);
      await expectError(compare({ baseline: 'nope' }), 'PRODMON_E_NOT_FOUND', /no baseline named "nope"/);
    });

    test('--before-deploy compares with as long just before the marker, from the first whole minute after it', async () => {
      clock.set(T0 + 70 * MIN + 15_000);
      const r = await compare({ before_deploy: 'v2', since: '10m', instance: 'a' });
      // Deployed at 09:59:20: before is 09:49-09:59; after starts 10:00 and ends at the last settled minute, 10:10.
      assert.deepEqual([r.baseline.from, r.baseline.until], [T0 + 49 * MIN, T0 + 59 * MIN]);
      assert.deepEqual([r.current.from, r.current.until], [T0 + 60 * MIN, T0 + 70 * MIN]);
      assert.equal(r.verdict, 'regression', r.missing.join('\n'));
      assert.equal(r.exitCode, 1);
      assert.ok(r.units.some((u) => u.key === 'GET /api/products' && u.verdict === 'regression'));
      // Three minutes after the deploy, ten asked for: the window starts at the deploy.
      clock.set(T0 + 63 * MIN + 15_000);
      const early = await compare({ before_deploy: 'v2', since: '10m', instance: 'a', min_requests: 50 });
      assert.deepEqual([early.current.from, early.current.until], [T0 + 60 * MIN, T0 + 63 * MIN]);
      assert.match(early.notes[0]!, /the window starts after the deploy: 3 whole minutes of the 10 asked/);
      clock.set(T0 + 60 * MIN + 5_000);
      const none = await compare({ before_deploy: 'v2', instance: 'a' });
      assert.equal(none.verdict, 'inconclusive');
      assert.match(
        none.missing.join('\n'),
        /no whole minute since the deploy at 2026-03-01T09:59:20.000Z yet/,
      );
      await expectError(
        compare({ before_deploy: 'v9' }),
        'PRODMON_E_NOT_FOUND',
        /no deploy marker of version "v9"/,
      );
      await expectError(
        compareBaseline(
          { ...deps, deployments: null },
          parseCompareRequest({ before_deploy: 'v2' }, cliLabel, 0),
        ),
        'PRODMON_E_BAD_REQUEST',
        /deploy markers are not available/,
      );
      clock.set(T0 + 95 * MIN + 30_000);
    });

    test("a running monitor's unflushed minutes are read with the stored ones, each request once", async () => {
      const { recorder } = memoryRecorder('a');
      // Minute 10:35 is held in memory only; minute 10:34 both stored and (newer) in memory.
      recordMinutes(recorder, T0 + 94 * MIN, 2, () => [{ method: 'GET', route: '/api/products', ms: 10 }]);
      const w = await readWindow(
        { store, recorder },
        { from: T0 + 94 * MIN, until: T0 + 96 * MIN, instance: 'a', route: 'GET /api/products' },
      );
      assert.deepEqual(
        w.series.map((s) => [s.key, s.count, s.minutes.map((m) => m.count)]),
        [['GET /api/products', 2, [1, 1]]],
      );
      recorder.close();
    });

    test('delete removes it (audited); deleting again is not found; bad windows are refused', async () => {
      await deleteBaseline(deps, 'morning', 'cli:ana');
      assert.equal(await store.baselines.get('morning'), undefined);
      assert.deepEqual((await store.audit.list({ target: 'morning' })).map((e) => e.action).sort(), [
        'baseline.delete',
        'baseline.save',
      ]);
      await expectError(
        deleteBaseline(deps, 'morning', 'x'),
        'PRODMON_E_NOT_FOUND',
        /no baseline named "morning"/,
      );
      await expectError(
        save({
          name: 'short',
          from: new Date(T0).toISOString(),
          to: new Date(T0 + 2 * MIN + 59_000).toISOString(),
        }),
        'PRODMON_E_BAD_REQUEST',
        /the window must hold 3 to 1440 whole minutes, got 2/,
      );
    });
  });
}
