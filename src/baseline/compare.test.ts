/**
 * The gate's decision on windows recorded through prodmon's Recorder: no change passes, a slowed route
 * is named with its numbers, a fast route's tiny change stays under the floor, a rise of failures is
 * caught, too little data is inconclusive and says what is missing, few minutes fall back to the
 * bootstrap.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type FakeRequest, fakeWindow, logNormal, seeded } from '../../test/support/gate-windows.js';
import { compareWindows, DEFAULT_SETTINGS, type GateSettings } from './compare.js';

const T0 = Date.UTC(2026, 2, 1, 10, 0);
const MIN = 60_000;

/** A shop-like mix: per minute, `n` requests of each route, latencies log-normal around its median. */
function traffic(
  seed: number,
  opts: { slow?: Record<string, number>; errors?: Record<string, number>; n?: Record<string, number> } = {},
) {
  const random = seeded(seed);
  const routes = [
    { method: 'GET', route: '/api/products', median: 12, n: 60 },
    { method: 'GET', route: '/api/products/:id', median: 4, n: 120 },
    { method: 'POST', route: '/api/checkout', median: 40, n: 25 },
    { method: 'POST', route: '/api/login', median: 30, n: 2 },
  ];
  return (_i: number): FakeRequest[] => {
    const out: FakeRequest[] = [];
    for (const r of routes) {
      const key = `${r.method} ${r.route}`;
      const n = opts.n?.[key] ?? r.n;
      for (let k = 0; k < n; k++)
        out.push({
          method: r.method,
          route: r.route,
          ms: logNormal(random, r.median, 0.4) * (opts.slow?.[key] ?? 1),
          failed: random() < (opts.errors?.[key] ?? 0.001),
        });
    }
    return out;
  };
}

const settings = (over: Partial<GateSettings> = {}): GateSettings => ({ ...DEFAULT_SETTINGS, ...over });

describe('compareWindows', () => {
  test('no change: every judged route passes; a route too rare in the baseline is left to the overall', async () => {
    const base = await fakeWindow(T0, 30, traffic(1));
    const cur = await fakeWindow(T0 + 60 * MIN, 10, traffic(2));
    const r = compareWindows(base, cur, settings());
    assert.equal(r.verdict, 'pass', r.regressions.join('\n'));
    assert.equal(r.exitCode, 0);
    assert.deepEqual(
      r.units.map((u) => [u.key, u.verdict]),
      [
        ['*', 'pass'],
        ['GET /api/products', 'pass'],
        ['GET /api/products/:id', 'pass'],
        ['POST /api/checkout', 'pass'],
        ['POST /api/login', 'not-judged'],
      ],
    );
    assert.deepEqual(r.notes, [
      'POST /api/login: 60 requests in the baseline, 200 needed (not judged on its own; counted in the overall)',
    ]);
    // Four units judged on p95 and the error rate: eight tests at 0.05 / 8.
    assert.equal(r.settings.tests, 8);
    assert.equal(r.settings.level, 0.05 / 8);
    const p95 = r.units[2]!.checks.find((c) => c.criterion === 'p95')!;
    assert.equal(p95.test, 'mann-whitney');
    assert.deepEqual(p95.minutes, [30, 10]);
    assert.ok(Math.abs(p95.change) < 0.1, `p95 change ${p95.change}`);
  });

  test('a route 40 % slower is a regression with its numbers; the others pass', async () => {
    const base = await fakeWindow(T0, 30, traffic(3));
    const cur = await fakeWindow(T0 + 60 * MIN, 10, traffic(4, { slow: { 'POST /api/checkout': 1.4 } }));
    const r = compareWindows(base, cur, settings());
    assert.equal(r.verdict, 'regression');
    assert.equal(r.exitCode, 1);
    const checkout = r.units.find((u) => u.key === 'POST /api/checkout')!;
    assert.equal(checkout.verdict, 'regression');
    const c = checkout.checks.find((x) => x.criterion === 'p95')!;
    assert.equal(c.verdict, 'regression');
    assert.ok(c.change > 0.25 && c.change < 0.6, `change ${c.change}`);
    assert.ok(c.delta > 15, `delta ${c.delta}`);
    assert.ok(c.p! < r.settings.level, `p ${c.p}`);
    // The checkout is a third of the overall p95's tail: the overall is slower too.
    assert.deepEqual(
      r.units.filter((u) => u.verdict === 'regression').map((u) => u.key),
      ['*', 'POST /api/checkout'],
    );
    assert.match(
      r.regressions.find((l) => l.startsWith('POST'))!,
      /^POST \/api\/checkout: p95 \+\d+(\.\d+)? % \([\d.]+ → [\d.]+ ms, \+[\d.]+ ms\) over the \+10 % allowed; Mann-Whitney p = .* over 30 and 10 minutes$/,
    );
    for (const u of r.units.filter((x) => x.key.startsWith('GET'))) assert.equal(u.verdict, 'pass', u.key);
  });

  test('a fast route 20 % slower by less than the floor is no regression; with a floor of 0 it is', async () => {
    // GET /api/products/:id: median 4 ms, p95 about 7.7 ms: +20 % is about 1.5 ms.
    const base = await fakeWindow(T0, 30, traffic(5));
    const cur = await fakeWindow(T0 + 60 * MIN, 10, traffic(6, { slow: { 'GET /api/products/:id': 1.2 } }));
    const floored = compareWindows(base, cur, settings());
    const c = floored.units.find((u) => u.key === 'GET /api/products/:id')!.checks[0]!;
    assert.equal(c.verdict, 'pass');
    assert.ok(c.change > 0.1, `change ${c.change}`);
    assert.match(c.reason, /at most 5 ms slower, below the floor/);
    const strict = compareWindows(base, cur, settings({ minDeltaMs: 0 }));
    assert.equal(strict.units.find((u) => u.key === 'GET /api/products/:id')!.verdict, 'regression');
  });

  test('failures: 0.1 % → 3 % is a regression of the error rate; 0.1 % → 0.3 % is within +0.5pp', async () => {
    const base = await fakeWindow(T0, 30, traffic(7));
    const bad = await fakeWindow(T0 + 60 * MIN, 10, traffic(8, { errors: { 'GET /api/products': 0.03 } }));
    const r = compareWindows(base, bad, settings());
    const e = r.units
      .find((u) => u.key === 'GET /api/products')!
      .checks.find((c) => c.criterion === 'error_rate')!;
    assert.equal(e.verdict, 'regression', e.reason);
    assert.ok(e.p! < r.settings.level);
    assert.match(
      e.reason,
      /^error rate \+[\d.]+ pp \([\d.]+ % → [\d.]+ %, \d+ of 1800 → \d+ of 600\) over the \+0\.5 pp allowed/,
    );
    const mild = await fakeWindow(T0 + 60 * MIN, 10, traffic(9, { errors: { 'GET /api/products': 0.003 } }));
    const m = compareWindows(base, mild, settings());
    assert.equal(m.units.find((u) => u.key === 'GET /api/products')!.verdict, 'pass');
  });

  test('too few requests in the current window: inconclusive, saying how many and how many are needed', async () => {
    const base = await fakeWindow(T0, 30, traffic(10));
    const cur = await fakeWindow(T0 + 60 * MIN, 10, traffic(11, { n: { 'POST /api/checkout': 3 } }));
    const r = compareWindows(base, cur, settings());
    assert.equal(r.verdict, 'inconclusive');
    assert.equal(r.exitCode, 3);
    assert.deepEqual(r.missing, [
      "POST /api/checkout: 30 requests in the window, 200 needed (250 expected at the baseline's rate)",
    ]);
    // A regression elsewhere is still a regression.
    const slow = await fakeWindow(
      T0 + 60 * MIN,
      10,
      traffic(12, { n: { 'POST /api/checkout': 3 }, slow: { 'GET /api/products': 1.5 } }),
    );
    assert.equal(compareWindows(base, slow, settings()).verdict, 'regression');
    // Nothing at all in either window: inconclusive, naming the baseline's shortfall.
    const empty = await fakeWindow(T0, 5, () => []);
    const none = compareWindows(empty, empty, settings());
    assert.equal(none.verdict, 'inconclusive');
    assert.deepEqual(none.missing, ['overall: 0 requests in the baseline, 200 needed']);
    // A route too rare for a window this short is left to the overall; the overall short is inconclusive.
    const three = await fakeWindow(T0 + 60 * MIN, 3, traffic(13));
    const short = compareWindows(base, three, settings());
    assert.deepEqual(
      short.units.map((u) => [u.key, u.verdict]),
      [
        ['*', 'pass'],
        ['GET /api/products', 'not-judged'],
        ['GET /api/products/:id', 'pass'],
        ['POST /api/checkout', 'not-judged'],
        ['POST /api/login', 'not-judged'],
      ],
    );
    assert.ok(
      short.notes.includes(
        "GET /api/products: 180 requests in the window, 200 needed (180 expected at the baseline's rate; not judged on its own, counted in the overall)",
      ),
      short.notes.join('\n'),
    );
    const trickle = await fakeWindow(
      T0 + 60 * MIN,
      10,
      traffic(14, { n: { 'GET /api/products': 1, 'GET /api/products/:id': 1, 'POST /api/checkout': 1 } }),
    );
    const t = compareWindows(base, trickle, settings());
    assert.equal(t.verdict, 'inconclusive');
    assert.ok(
      t.missing.includes(
        "overall: 50 requests in the window, 200 needed (2070 expected at the baseline's rate)",
      ),
      t.missing.join('\n'),
    );
  });

  test('three minutes on each side: the bootstrap decides; a route twice as slow is caught, no change is not', async () => {
    const base = await fakeWindow(T0, 3, traffic(13));
    const same = await fakeWindow(T0 + 60 * MIN, 3, traffic(14));
    // 180 requests of GET /api/products in each window.
    const r = compareWindows(base, same, settings({ minRequests: 100 }));
    assert.equal(r.verdict, 'pass', r.regressions.join('\n'));
    const c = r.units.find((u) => u.key === 'GET /api/products')!.checks[0]!;
    assert.equal(c.test, 'bootstrap');
    assert.ok(c.ratioLow! < 1 && c.ratioHigh! > 1, `${c.ratioLow}..${c.ratioHigh}`);
    const slow = await fakeWindow(T0 + 60 * MIN, 3, traffic(15, { slow: { 'GET /api/products': 2 } }));
    const s = compareWindows(base, slow, settings({ minRequests: 100 }));
    const sc = s.units.find((u) => u.key === 'GET /api/products')!.checks[0]!;
    assert.equal(sc.verdict, 'regression', sc.reason);
    assert.ok(sc.ratioLow! > 1.1, String(sc.ratioLow));
    assert.match(
      sc.reason,
      /bootstrap ratio ≥ [\d.]+ at 0\.99\d* confidence \(3 and 3 minutes: too few for Mann-Whitney\)/,
    );
    // The same windows give the same interval: the bootstrap is seeded.
    assert.equal(
      compareWindows(base, slow, settings({ minRequests: 100 })).units[1]!.checks[0]!.ratioLow,
      s.units[1]!.checks[0]!.ratioLow,
    );
  });

  test('p99 is checked when asked for; criteria can be switched off', async () => {
    const base = await fakeWindow(T0, 30, traffic(16));
    const cur = await fakeWindow(T0 + 60 * MIN, 10, traffic(17));
    const r = compareWindows(base, cur, settings({ maxP99: 0.2, maxErrorRate: null }));
    assert.deepEqual(
      r.units[0]!.checks.map((c) => c.criterion),
      ['p95', 'p99'],
    );
    assert.equal(r.settings.tests, 8);
  });

  test('failures in a burst widen the proportion test; the same failures spread out do not', async () => {
    const base = await fakeWindow(T0, 30, traffic(18, { errors: { 'GET /api/products': 0.01 } }));
    const failing = (perMinute: (i: number) => number) => {
      const minute = traffic(19, { errors: { 'GET /api/products': 0 } });
      return fakeWindow(T0 + 60 * MIN, 10, (i) =>
        minute(i).map((r, k) =>
          r.route === '/api/products' && k < perMinute(i) ? { ...r, failed: true } : r,
        ),
      );
    };
    const errorCheck = (w: Awaited<ReturnType<typeof fakeWindow>>) =>
      compareWindows(base, w, settings({ maxErrorRate: 0.001 }))
        .units.find((u) => u.key === 'GET /api/products')!
        .checks.find((c) => c.criterion === 'error_rate')!;
    // 24 failures of 600, all in the fifth minute: a burst.
    const burst = errorCheck(await failing((i) => (i === 4 ? 24 : 0)));
    assert.equal(burst.test, 'two-proportion');
    assert.ok(burst.dispersion! > 2, `dispersion ${burst.dispersion}`);
    assert.equal(burst.verdict, 'pass', burst.reason);
    assert.match(burst.reason, /widened ×[\d.]+ for bursts p = [\d.]+ ≥/);
    // The same 24 failures two or three a minute: a higher rate.
    const spread = errorCheck(await failing((i) => (i % 5 === 0 ? 3 : 2)));
    assert.ok(spread.dispersion! < 1.5, `dispersion ${spread.dispersion}`);
    assert.equal(spread.verdict, 'regression', spread.reason);
  });
});

describe('window limits', () => {
  test('more than 500 routes in a window is refused, asking for --route; 500 are read', async () => {
    const routes = (n: number) => () =>
      Array.from({ length: n }, (_, i): FakeRequest => ({ method: 'GET', route: `/r/${i}`, ms: 5 }));
    assert.equal((await fakeWindow(T0, 3, routes(500))).series.length, 500);
    await assert.rejects(fakeWindow(T0, 3, routes(501)), (err: Error & { exitCode?: number }) => {
      assert.equal(err.exitCode, 2);
      assert.match(
        err.message,
        /more than 500 routes in the window; narrow it with --route \(e\.g\. "\/api\/\*\*"\)/,
      );
      return true;
    });
  });
});
