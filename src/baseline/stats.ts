/**
 * The few statistical functions the deployment gate needs, written here because no statistics library
 * is a dependency of prodmon (each is small, and each is tested against scipy's outputs in
 * stats.test.ts): the normal distribution's tail, the one-sided Mann-Whitney U test (exact or normal
 * with the tie correction, as scipy computes it), Fisher's exact test and the two-proportion z test
 * for error counts, a seeded random source with normal, gamma and beta variates, and a bootstrap of a
 * quantile from a sketch's bins.
 */

/** erfc(x), Numerical Recipes' Chebyshev fit (`erfcc`): fractional error below 1.2e-7 everywhere. */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** P(Z <= x) for a standard normal Z. */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/** P(Z > x) for a standard normal Z (accurate far into the upper tail, unlike 1 - normalCdf). */
export function normalSf(x: number): number {
  return 0.5 * erfc(x / Math.SQRT2);
}

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7: about 15 significant digits). */
export function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const y = x - 1;
  let a = LANCZOS[0]!;
  const t = y + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (y + i);
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
}

/** ln of the binomial coefficient C(n, k). */
function lnChoose(n: number, k: number): number {
  return lnGamma(n + 1) - lnGamma(k + 1) - lnGamma(n - k + 1);
}

/** The result of a one-sided test. */
export interface TestResult {
  /** The statistic (U for Mann-Whitney, z for the proportion test, the observed count for Fisher). */
  statistic: number;
  /** One-sided p-value. */
  p: number;
  method: 'exact' | 'normal';
}

/** Largest n1 * n2 for which the Mann-Whitney U test computes its exact distribution. */
export const MWU_EXACT_MAX_CELLS = 2500;

/**
 * The null distribution of U for samples of sizes m and n without ties: P(U = u), u = 0..m*n. The
 * probability recurrence (the largest of the m + n values belongs to the first sample with probability
 * m / (m + n), and then beats all n of the second) adds only positive terms, so tail probabilities stay
 * accurate however small.
 */
function uDistribution(m: number, n: number): Float64Array {
  // prev[j]: the distribution for (i - 1, j); cur[j]: for (i, j).
  let prev: Float64Array[] = Array.from({ length: n + 1 }, () => Float64Array.of(1));
  for (let i = 1; i <= m; i++) {
    const cur: Float64Array[] = [Float64Array.of(1)];
    for (let j = 1; j <= n; j++) {
      const out = new Float64Array(i * j + 1);
      const a = prev[j]!; // (i - 1, j), shifted by j
      const b = cur[j - 1]!; // (i, j - 1)
      const wa = i / (i + j);
      const wb = j / (i + j);
      for (let u = 0; u < a.length; u++) out[u + j] = out[u + j]! + wa * a[u]!;
      for (let u = 0; u < b.length; u++) out[u] = out[u]! + wb * b[u]!;
      cur.push(out);
    }
    prev = cur;
  }
  return prev[n]!;
}

/** Mid-ranks (1-based) of the values of `all`, and the tie term Σ(t³ - t) over groups of ties. */
function midRanks(all: readonly number[]): { ranks: Float64Array; tieTerm: number } {
  const order = all.map((_, i) => i).sort((a, b) => all[a]! - all[b]!);
  const ranks = new Float64Array(all.length);
  let tieTerm = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && all[order[j + 1]!] === all[order[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]!] = rank;
    const t = j - i + 1;
    tieTerm += t * t * t - t;
    i = j + 1;
  }
  return { ranks, tieTerm };
}

/**
 * One-sided Mann-Whitney U test that `x` tends to be larger than `y` (scipy's
 * `mannwhitneyu(x, y, alternative='greater')`): U is the number of pairs with x > y (ties count a
 * half). Exact p-value without ties when `x.length * y.length` <= {@link MWU_EXACT_MAX_CELLS}; else the
 * normal approximation with the tie correction and the continuity correction (scipy's 'asymptotic').
 */
export function mannWhitneyGreater(x: readonly number[], y: readonly number[]): TestResult {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) throw new Error('mannWhitneyGreater: both samples need values');
  const { ranks, tieTerm } = midRanks([...x, ...y]);
  let r1 = 0;
  for (let i = 0; i < n1; i++) r1 += ranks[i]!;
  const u = r1 - (n1 * (n1 + 1)) / 2;
  if (tieTerm === 0 && n1 * n2 <= MWU_EXACT_MAX_CELLS) {
    const dist = uDistribution(n1, n2);
    let p = 0;
    for (let k = Math.ceil(u); k < dist.length; k++) p += dist[k]!;
    return { statistic: u, p: Math.min(1, p), method: 'exact' };
  }
  const n = n1 + n2;
  const mu = (n1 * n2) / 2;
  const s = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  if (s === 0) return { statistic: u, p: 1, method: 'normal' };
  const z = (u - mu - 0.5) / s;
  return { statistic: u, p: normalSf(z), method: 'normal' };
}

/**
 * The smallest p-value the one-sided Mann-Whitney test can give for these sample sizes (every value of
 * `x` above every value of `y`, no ties): 1 / C(n1 + n2, n1).
 */
export function mannWhitneyMinP(n1: number, n2: number): number {
  if (n1 === 0 || n2 === 0) return 1;
  return Math.exp(-lnChoose(n1 + n2, n1));
}

/**
 * Fisher's exact test, one-sided, that the second group fails more often than the first: with
 * `e1` of `n1` and `e2` of `n2` failed, P(X >= e2) for X hypergeometric (N = n1 + n2 requests, K = e1 + e2
 * failures, n2 drawn). scipy: `fisher_exact([[e2, n2 - e2], [e1, n1 - e1]], alternative='greater')`.
 */
export function fisherGreater(e1: number, n1: number, e2: number, n2: number): TestResult {
  const N = n1 + n2;
  const K = e1 + e2;
  const top = Math.min(K, n2);
  const base = lnChoose(N, n2);
  let p = 0;
  for (let k = e2; k <= top; k++) p += Math.exp(lnChoose(K, k) + lnChoose(N - K, n2 - k) - base);
  return { statistic: e2, p: Math.min(1, p), method: 'exact' };
}

/**
 * Dispersion of failures between minutes beyond what independent requests would give (1 when they
 * look independent): Pearson's χ² of each minute's failures against its window's rate, over the degrees
 * of freedom (minutes - 1 per window), at least 1. Failures that come in bursts (a minute of errors)
 * make it large, and widen the proportion test by as much (quasi-binomial).
 */
export function errorDispersion(windows: readonly (readonly { count: number; errors: number }[])[]): number {
  let chi2 = 0;
  let df = 0;
  for (const minutes of windows) {
    let n = 0;
    let e = 0;
    for (const m of minutes) {
      n += m.count;
      e += m.errors;
    }
    const used = minutes.filter((m) => m.count > 0);
    if (n === 0 || used.length < 2) continue;
    df += used.length - 1;
    const p = e / n;
    if (p <= 0 || p >= 1) continue;
    for (const m of used) {
      const expected = m.count * p;
      chi2 += (m.errors - expected) ** 2 / (expected * (1 - p));
    }
  }
  return df > 0 ? Math.max(1, chi2 / df) : 1;
}

/**
 * One-sided two-proportion z test (pooled variance) that the second rate is higher, the variance
 * multiplied by `dispersion` (see {@link errorDispersion}); `statistic` is z.
 */
export function proportionGreater(
  e1: number,
  n1: number,
  e2: number,
  n2: number,
  dispersion = 1,
): TestResult {
  const p = (e1 + e2) / (n1 + n2);
  const se = Math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2) * dispersion);
  const diff = e2 / n2 - e1 / n1;
  if (se === 0) return { statistic: 0, p: diff > 0 ? 0 : 1, method: 'normal' };
  const z = diff / se;
  return { statistic: z, p: normalSf(z), method: 'normal' };
}

/** A seeded pseudo-random source (mulberry32): the same input gives the same bootstrap, run after run. */
export class Random {
  #s: number;
  #spare: number | null = null;

  constructor(seed = 0x9e3779b9) {
    this.#s = seed >>> 0;
  }

  /** Uniform in (0, 1). */
  next(): number {
    this.#s = (this.#s + 0x6d2b79f5) >>> 0;
    let t = this.#s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const v = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return v === 0 ? 0.5 / 4294967296 : v;
  }

  /** Standard normal (Box-Muller, the second value kept for the next call). */
  normal(): number {
    if (this.#spare !== null) {
      const s = this.#spare;
      this.#spare = null;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(this.next()));
    const a = 2 * Math.PI * this.next();
    this.#spare = r * Math.sin(a);
    return r * Math.cos(a);
  }

  /** Gamma(shape, 1) (Marsaglia and Tsang; shape < 1 through Gamma(shape + 1) · U^(1/shape)). */
  gamma(shape: number): number {
    if (shape < 1) return this.gamma(shape + 1) * this.next() ** (1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.next();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }

  /** Beta(a, b). */
  beta(a: number, b: number): number {
    const x = this.gamma(a);
    return x / (x + this.gamma(b));
  }
}

/** The values and cumulative counts of a distribution's bins, lowest first (see {@link binsOf}). */
export interface Bins {
  values: Float64Array;
  /** Cumulative count up to and including each bin. */
  cum: Float64Array;
  count: number;
}

/** The smallest value whose cumulative share reaches `u` (the inverse of the step CDF of the bins). */
export function binQuantile(bins: Bins, u: number): number {
  const target = u * bins.count;
  let lo = 0;
  let hi = bins.cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (bins.cum[mid]! >= target) hi = mid;
    else lo = mid + 1;
  }
  return bins.values[lo]!;
}

/**
 * Draws of the sample `q`-quantile of `n` values taken at random (with replacement) from the bins: a
 * bootstrap of the quantile without drawing the n values, since the k-th smallest of n uniform values
 * is Beta(k, n - k + 1) and the k-th smallest of the values is the bins' inverse CDF at it. k is the
 * order statistic `sketchQuantile` reads (rank q · (n - 1), 0-based).
 */
export function bootstrapQuantile(bins: Bins, q: number, draws: number, random: Random): Float64Array {
  const n = Math.round(bins.count);
  const k = Math.floor(q * (n - 1)) + 1;
  const out = new Float64Array(draws);
  for (let i = 0; i < draws; i++) out[i] = binQuantile(bins, random.beta(k, n - k + 1));
  return out;
}

/** The `p`-quantile of sorted values (linear interpolation between neighbours). */
export function sortedQuantile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}
