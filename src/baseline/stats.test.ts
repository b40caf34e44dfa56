/**
 * The gate's statistics against known values. Each expected value is scipy 1.17.1's output for the call
 * written next to it (`from scipy import stats`, `from scipy.special import gammaln`).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type Bins,
  binQuantile,
  bootstrapQuantile,
  errorDispersion,
  fisherGreater,
  lnGamma,
  mannWhitneyGreater,
  mannWhitneyMinP,
  normalCdf,
  normalSf,
  proportionGreater,
  Random,
  sortedQuantile,
} from './stats.js';

/** |actual - expected| within `rel` of expected. */
function near(actual: number, expected: number, rel: number, what = ''): void {
  assert.ok(
    Math.abs(actual - expected) <= rel * Math.abs(expected),
    `${what} ${actual} is not within ${rel * 100} % of ${expected}`,
  );
}

describe('normal distribution', () => {
  test('CDF and upper tail match scipy.stats.norm', () => {
    near(normalCdf(1.96), 0.9750021048517795, 1e-7, 'norm.cdf(1.96)');
    near(normalCdf(-1), 0.15865525393145707, 1e-6, 'norm.cdf(-1)');
    near(normalSf(3), 0.0013498980316300933, 1e-6, 'norm.sf(3)');
    near(normalSf(5), 2.866515718791933e-7, 1e-6, 'norm.sf(5)');
    near(normalSf(8), 6.22096057427174e-16, 1e-6, 'norm.sf(8)');
    near(normalCdf(0), 0.5, 1e-7, 'norm.cdf(0)');
  });

  test('ln Γ matches scipy.special.gammaln', () => {
    near(lnGamma(0.5), 0.5723649429247, 1e-12, 'gammaln(0.5)');
    near(lnGamma(10), 12.801827480081469, 1e-12, 'gammaln(10)');
    near(lnGamma(1000.5), 5908.674175848678, 1e-12, 'gammaln(1000.5)');
  });
});

describe('Mann-Whitney U, one-sided (greater)', () => {
  const x = [19.1, 22.4, 25.0, 21.7, 30.2, 27.3];
  const y = [18.0, 17.2, 20.5, 16.9, 19.4, 21.1, 15.8];

  test('exact without ties: mannwhitneyu(x, y, alternative="greater", method="exact")', () => {
    const r = mannWhitneyGreater(x, y);
    assert.equal(r.method, 'exact');
    assert.equal(r.statistic, 39);
    near(r.p, 0.004079254079254079, 1e-9);
  });

  test('complete separation of 10 and 10 values: p = 1 / C(20, 10) = 5.412544112234515e-06', () => {
    const a = Array.from({ length: 10 }, (_, i) => 11 + i);
    const b = Array.from({ length: 10 }, (_, i) => 1 + i);
    const r = mannWhitneyGreater(a, b);
    assert.equal(r.statistic, 100);
    near(r.p, 5.412544112234515e-6, 1e-9);
    near(mannWhitneyMinP(10, 10), 5.412544112234515e-6, 1e-9);
    // The other way round nothing is significant.
    near(mannWhitneyGreater(b, a).p, 1, 1e-12);
  });

  test('10 against 30 minutes, exact: U = 242, p = 0.0015579007826585975', () => {
    const a = [24.751, 27.224, 24.676, 17.799, 27.683, 25.255, 20.746, 25.945, 24.845, 24.498];
    const b = [
      20.2, 22.406, 17.335, 19.442, 18.239, 22.641, 20.246, 18.944, 17.178, 19.078, 20.118, 19.008, 26.019,
      24.566, 11.679, 13.766, 19.396, 18.459, 20.962, 20.978, 30.679, 16.08, 18.625, 30.222, 22.859, 22.934,
      18.123, 14.446, 20.77, 20.528,
    ];
    const r = mannWhitneyGreater(a, b);
    assert.equal(r.method, 'exact');
    assert.equal(r.statistic, 242);
    near(r.p, 0.0015579007826585975, 1e-9);
  });

  test('ties: normal approximation with tie and continuity corrections (scipy "auto": U = 35.5, p = 0.02127747765319565)', () => {
    const r = mannWhitneyGreater([3, 4, 4, 5, 6, 6, 7], [1, 2, 3, 3, 4, 5]);
    assert.equal(r.method, 'normal');
    assert.equal(r.statistic, 35.5);
    near(r.p, 0.02127747765319565, 1e-6);
  });

  test('samples too large for the exact distribution use the normal approximation', () => {
    const a = Array.from({ length: 60 }, (_, i) => i + 0.5);
    const b = Array.from({ length: 60 }, (_, i) => i);
    const r = mannWhitneyGreater(a, b);
    assert.equal(r.method, 'normal');
    // U = 1830 of 3600: barely above the mean 1800, far from significant.
    assert.equal(r.statistic, 1830);
    assert.ok(r.p > 0.4 && r.p < 0.5, String(r.p));
    assert.throws(() => mannWhitneyGreater([], [1]), /both samples/);
  });
});

describe('error counts', () => {
  test("Fisher's exact: fisher_exact([[8, 992], [0, 1000]], alternative='greater') = 0.0038517404255419474", () => {
    near(fisherGreater(0, 1000, 8, 1000).p, 0.0038517404255419474, 1e-9);
    near(
      fisherGreater(3, 1000, 12, 500).p,
      0.00026625266106518916,
      1e-9,
      'fisher_exact([[12, 488], [3, 997]])',
    );
    near(fisherGreater(5, 1000, 0, 1000).p, 1, 1e-9);
  });

  test('two-proportion z: 40 of 10,000 then 75 of 10,000 gives z = 3.2731908189613907, p = norm.sf(z) = 0.0005317033007183037', () => {
    const r = proportionGreater(40, 10_000, 75, 10_000);
    near(r.statistic, 3.2731908189613907, 1e-12);
    near(r.p, 0.0005317033007183037, 1e-6);
    // A dispersion of 4 halves z.
    near(proportionGreater(40, 10_000, 75, 10_000, 4).statistic, 3.2731908189613907 / 2, 1e-12);
    assert.equal(proportionGreater(0, 100, 0, 100).p, 1);
  });

  test('dispersion: 1 for steady failures, large for a burst in one minute', () => {
    const steady = Array.from({ length: 10 }, () => ({ count: 1000, errors: 10 }));
    assert.equal(errorDispersion([steady, steady]), 1);
    const burst = [
      { count: 1000, errors: 100 },
      ...Array.from({ length: 9 }, () => ({ count: 1000, errors: 0 })),
    ];
    // Rate 1 %: the burst minute's χ² term is 90² / 9.9 = 818.2, each other minute's 10 / 0.99 = 10.1;
    // (818.18 + 9 × 10.10) / 9 degrees of freedom = 101.0.
    near(errorDispersion([burst]), 101.01, 1e-3);
    assert.equal(errorDispersion([[{ count: 5, errors: 1 }]]), 1, 'one minute: no estimate');
  });
});

describe('random variates and the quantile bootstrap', () => {
  test('the seeded source repeats itself; uniform, normal, gamma and beta have their moments', () => {
    const a = new Random(7);
    const b = new Random(7);
    assert.deepEqual(
      Array.from({ length: 5 }, () => a.next()),
      Array.from({ length: 5 }, () => b.next()),
    );
    const r = new Random(1);
    const n = 40_000;
    const moments = (draw: () => number) => {
      let s = 0;
      let s2 = 0;
      for (let i = 0; i < n; i++) {
        const v = draw();
        s += v;
        s2 += v * v;
      }
      const mean = s / n;
      return { mean, variance: s2 / n - mean * mean };
    };
    const u = moments(() => r.next());
    near(u.mean, 0.5, 0.01, 'uniform mean');
    near(u.variance, 1 / 12, 0.03, 'uniform variance');
    const z = moments(() => r.normal());
    assert.ok(Math.abs(z.mean) < 0.02, `normal mean ${z.mean}`);
    near(z.variance, 1, 0.03, 'normal variance');
    for (const shape of [0.5, 3, 250]) {
      const g = moments(() => r.gamma(shape));
      near(g.mean, shape, 0.03, `gamma(${shape}) mean`);
      near(g.variance, shape, 0.06, `gamma(${shape}) variance`);
    }
    // Beta(95, 6): mean 95/101, variance ab / ((a+b)²(a+b+1)).
    const be = moments(() => r.beta(95, 6));
    near(be.mean, 95 / 101, 0.002, 'beta mean');
    near(be.variance, (95 * 6) / (101 * 101 * 102), 0.05, 'beta variance');
  });

  /** Bins of the values 1..100, one request each. */
  const uniformBins = (): Bins => {
    const values = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    const cum = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    return { values, cum, count: 100 };
  };

  test('the inverse of the bins CDF', () => {
    const bins = uniformBins();
    assert.equal(binQuantile(bins, 0.005), 1);
    assert.equal(binQuantile(bins, 0.01), 1);
    assert.equal(binQuantile(bins, 0.0101), 2);
    assert.equal(binQuantile(bins, 0.95), 95);
    assert.equal(binQuantile(bins, 1), 100);
  });

  test('bootstrapped p95 of 100 values: centred on the sample p95, with the spread of its order statistic', () => {
    const draws = Array.from(bootstrapQuantile(uniformBins(), 0.95, 20_000, new Random(3))).sort(
      (a, b) => a - b,
    );
    // The 95th of 100 (rank 0.95 · 99 = 94.05, 0-based 94): Beta(95, 6) · 100 rounded up to a bin,
    // mean 94.06 + about half a bin, sd 100 · √(95·6 / (101²·102)) = 2.34.
    const median = sortedQuantile(draws, 0.5);
    assert.ok(median >= 94 && median <= 96, `median ${median}`);
    const spread = sortedQuantile(draws, 0.8413) - sortedQuantile(draws, 0.1587);
    near(spread / 2, 2.34, 0.25, 'sd');
    assert.ok(draws[0]! >= 1 && draws.at(-1)! <= 100);
  });

  test('sortedQuantile interpolates', () => {
    assert.equal(sortedQuantile([1, 2, 3, 4], 0.5), 2.5);
    assert.equal(sortedQuantile([5], 0.9), 5);
    assert.ok(Number.isNaN(sortedQuantile([], 0.5)));
  });
});
