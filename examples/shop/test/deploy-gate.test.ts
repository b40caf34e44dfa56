/**
 * The deployment gate on the example shop: real requests from the demo's traffic generator, timed by
 * prodmon's own request instrumentation into minute rollups on a controlled clock (a batch of requests
 * is a minute: 23 minutes of rollups in seconds). A baseline of ten normal minutes; then five normal
 * minutes pass, five minutes with the slow-db fault fail naming the slowed routes (through the real
 * CLI, with its JUnit file), and three minutes of a trickle are inconclusive.
 *
 * The batches of the windows are run interleaved (a baseline minute, a normal one, a baseline one, a
 * slow one, ...): a shared machine's load drifts over seconds, and latencies with it; recorded one
 * window after the other, the drift would be a real difference between the windows.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RequestHandler } from 'express';
import { cliLabel, parseCompareRequest, parseSaveRequest } from '../../../src/baseline/request.js';
import { compareBaseline, type GateDeps, saveBaseline } from '../../../src/baseline/service.js';
import { FakeClock } from '../../../src/core/clock.js';
import { expressMiddleware } from '../../../src/instrument/express.js';
import { RequestTracker } from '../../../src/instrument/track.js';
import { Recorder } from '../../../src/metrics/recorder.js';
import { openStore, type Store } from '../../../src/store/index.js';
import { runCli } from '../../../test/support/cli.js';
import { flushTo, seeded } from '../../../test/support/gate-windows.js';
import { tempDir } from '../../../test/support/services.js';
import { findAll, parseXml } from '../../../test/support/xml.js';
import { Faults } from '../src/faults.js';
import { createShop, type Shop } from '../src/shop.js';
import { noTelemetry } from '../src/telemetry.js';
import { runTraffic } from '../src/traffic.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 2, 4, 9, 0);
const at = (m: number) => new Date(T0 + m * MIN).toISOString();
/** Requests per recorded minute (a minute of the clock: the requests themselves take a second or two). */
const PER_MINUTE = 120;

describe('the deployment gate on the example shop', () => {
  const dir = tempDir('shop-gate-');
  // The slow-db fault with 15 ms per statement: about +30 ms on every route (a few statements each),
  // short enough for five minutes of it to take seconds.
  const faults = new Faults({ slowDbMs: 15 });
  /** prodmon's request instrumentation of the current batch (one recorder per minute). */
  let track: RequestHandler = (_req, _res, next) => next();
  let shop: Shop;
  let url: string;
  let store: Store;
  let deps: GateDeps;
  let seed = 1;

  /** `n` real requests of the demo's customers, recorded by prodmon as minute `m`, written to the store. */
  async function minute(m: number, n: number, slow = false): Promise<void> {
    const recorder = new Recorder({
      clock: new FakeClock(T0 + m * MIN + 1000),
      instance: 'shop',
      maxSeries: 1000,
    });
    track = expressMiddleware(new RequestTracker(recorder)) as RequestHandler;
    faults.set('slow-db', slow);
    const stats = await runTraffic({
      baseUrl: url,
      concurrency: 4,
      durationMs: 60_000,
      maxRequests: n,
      thinkMs: 0,
      random: seeded(seed++),
    });
    assert.equal(stats.requests, n);
    assert.equal(stats.byStatus['500'] ?? 0, 0, JSON.stringify(stats.byStatus));
    await flushTo(recorder, store);
    recorder.close();
  }

  before(async () => {
    mkdirSync(join(dir.path, '.prodmon'));
    store = await openStore({ driver: 'sqlite', path: join(dir.path, '.prodmon', 'prodmon.db') });
    await store.migrate(T0);
    shop = await createShop({
      sqlitePath: join(dir.path, 'shop.db'),
      faults,
      telemetry: { ...noTelemetry(), before: [(req, res, next) => track(req, res, next)] },
    });
    url = await shop.listen(0, '127.0.0.1');
    // 09:00-09:10 the baseline, 09:10-09:15 as usual, 09:15-09:20 slow-db on, interleaved.
    for (let r = 0; r < 5; r++) {
      await minute(2 * r, PER_MINUTE);
      await minute(10 + r, PER_MINUTE);
      await minute(2 * r + 1, PER_MINUTE);
      await minute(15 + r, PER_MINUTE, true);
    }
    for (let m = 20; m < 23; m++) await minute(m, 15); // 09:20-09:23 a trickle
    deps = { store, clock: new FakeClock(T0 + 30 * MIN), settleMs: 10_000 };
    await saveBaseline(
      deps,
      parseSaveRequest({ name: 'shop-normal', from: at(0), to: at(10) }, cliLabel, T0),
      'test',
    );
  });
  after(async () => {
    await shop?.close();
    await store?.close();
    dir.cleanup();
  });

  const compare = (until: number, since: string) =>
    compareBaseline(
      deps,
      parseCompareRequest(
        { baseline: 'shop-normal', until: at(until), since, min_requests: '100' },
        cliLabel,
        T0,
      ),
    );

  test('no change: the five normal minutes after the baseline pass (exit code 0)', async () => {
    const r = await compare(15, '5m');
    assert.equal(
      r.verdict,
      'pass',
      JSON.stringify([
        r.regressions,
        r.missing,
        r.units.map((u) => [u.key, u.verdict, u.baseline.requests, u.current.requests]),
      ]),
    );
    assert.equal(r.exitCode, 0);
    const judged = r.units.filter((u) => u.verdict === 'pass').map((u) => u.key);
    for (const route of ['*', 'GET /api/products', 'GET /api/products/:id'])
      assert.ok(judged.includes(route), `${route} judged: ${judged}`);
  });

  test('slow-db on: the CLI exits 1 naming the slowed routes with their numbers, and writes a JUnit file that says so', async () => {
    const junit = join(dir.path, 'gate.xml');
    const r = await runCli(
      [
        'baseline',
        'compare',
        'shop-normal',
        '--until',
        at(20),
        '--since',
        '5m',
        '--min-requests',
        '100',
        '--junit',
        junit,
      ],
      { cwd: dir.path },
    );
    assert.equal(r.code, 1, r.stdout + r.stderr);
    for (const route of ['GET /api/products', 'GET /api/products/:id'])
      assert.match(
        r.stdout,
        new RegExp(
          `^ {2}${route.replace(/[/:]/g, '\\$&')}: p95 \\+\\d+(\\.\\d+)? % \\([\\d.]+ → [\\d.]+ ms, \\+[\\d.]+ ms\\) over the \\+10 % allowed; Mann-Whitney p = `,
          'm',
        ),
      );
    assert.match(r.stdout, /REGRESSION: overall, GET \/api\/products, GET \/api\/products\/:id/);
    const doc = parseXml(readFileSync(junit, 'utf8'));
    const failures = findAll(doc, 'testcase').filter((c) => c.children.some((x) => x.name === 'failure'));
    const failed = failures.map((c) => `${c.attrs.classname} ${c.attrs.name}`);
    for (const name of ['overall p95', 'GET /api/products p95', 'GET /api/products/:id p95'])
      assert.ok(failed.includes(name), `${name} in ${failed}`);
    assert.ok(
      failed.every((f) => f.endsWith(' p95')),
      `only latency failed: ${failed}`,
    );
    const suite = findAll(doc, 'testsuite')[0]!;
    assert.equal(suite.attrs.failures, String(failures.length));
    assert.equal(suite.attrs.tests, String(findAll(doc, 'testcase').length));
  });

  test('a trickle of traffic: inconclusive (exit code 3), saying how many requests came and how many are needed', async () => {
    const r = await compare(23, '3m');
    assert.equal(r.verdict, 'inconclusive', r.regressions.join('\n'));
    assert.equal(r.exitCode, 3);
    assert.ok(
      r.missing.includes(
        "overall: 45 requests in the window, 100 needed (360 expected at the baseline's rate)",
      ),
      r.missing.join('\n'),
    );
    assert.ok(
      r.missing.some((l) =>
        /^GET \/api\/products: \d+ requests in the window, 100 needed \(\d+ expected/.test(l),
      ),
      r.missing.join('\n'),
    );
  });
});
