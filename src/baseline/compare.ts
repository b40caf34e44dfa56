/**
 * The deployment gate's decision (pure): a baseline window against the current window, per route and
 * overall, per criterion (p95, p99, error rate). A route regressed on a latency quantile when
 *
 *   1. the current window's requests are slower: a one-sided Mann-Whitney U test of the per-minute
 *      quantiles is significant, or, when the minutes are too few for that test ever to be (see
 *      `latencyCheck`), the lower bound of a bootstrap confidence interval of the quantile ratio,
 *      resampling the requests from the windows' sketches, is above 1 + the allowed increase;
 *   2. the merged-sketch quantile grew by more than the allowed increase (`--max-p95 +10%`); and
 *   3. it grew by more than an absolute floor (`--min-delta 5ms`), so 1 ms -> 1.2 ms is no regression.
 *
 * An error rate regressed when a one-sided test of the two proportions is significant (Fisher's exact
 * test with few failures, else a z test widened by the failures' dispersion between minutes) and the
 * rate grew by more than the allowed points (`--max-error-rate +0.5pp`). Every test runs at the level
 * alpha divided by the number of tests (Bonferroni), so the chance of a false alarm over all routes
 * and criteria together stays below alpha. docs/deployment-gate.md explains the method and its
 * assumptions.
 */
import { emptySeries, OVERALL_KEY } from '../domain/baseline.js';
import { sketchQuantile } from '../metrics/sketch.js';
import {
  type Bins,
  bootstrapQuantile,
  errorDispersion,
  fisherGreater,
  mannWhitneyGreater,
  mannWhitneyMinP,
  proportionGreater,
  Random,
} from './stats.js';
import type { SeriesFigures, WindowFigures } from './window.js';

/** The criteria a comparison can check. */
export const CRITERIA = ['p95', 'p99', 'error_rate'] as const;
export type Criterion = (typeof CRITERIA)[number];

/** What the gate allows, and how sure it must be. */
export interface GateSettings {
  /** Allowed relative increase of p95 (0.1 = +10 %); null: not checked. */
  maxP95: number | null;
  /** Allowed relative increase of p99; null: not checked. */
  maxP99: number | null;
  /** Allowed increase of the error rate in absolute terms (0.005 = +0.5 percentage points); null: not checked. */
  maxErrorRate: number | null;
  /** Requests a route needs in each window to be judged. */
  minRequests: number;
  /** A latency increase of at most this many ms is never a regression. */
  minDeltaMs: number;
  /** Chance of a false alarm over the whole comparison. */
  alpha: number;
}

/** The defaults (docs/deployment-gate.md). */
export const DEFAULT_SETTINGS: GateSettings = {
  maxP95: 0.1,
  maxP99: null,
  maxErrorRate: 0.005,
  minRequests: 200,
  minDeltaMs: 5,
  alpha: 0.05,
};

/** The figures of one side of a route. */
export interface SideFigures {
  requests: number;
  errors: number;
  errorRate: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  /** Minutes with requests. */
  minutes: number;
}

/** The test behind a check. */
export type TestName = 'mann-whitney' | 'bootstrap' | 'fisher' | 'two-proportion';

/** One criterion of one route. */
export interface CheckResult {
  criterion: Criterion;
  verdict: 'regression' | 'pass';
  /** Baseline and current value: ms for a quantile, a share (0..1) for the error rate. */
  baseline: number;
  current: number;
  /** Relative change for a quantile (0.25 = +25 %), absolute for the error rate (0.01 = +1 pp). */
  change: number;
  /** Absolute change (ms, or a share). */
  delta: number;
  /** The allowed change (relative for quantiles, absolute for the error rate). */
  threshold: number;
  test: TestName;
  /** One-sided p-value (null for the bootstrap, which gives an interval instead). */
  p: number | null;
  /** The level each test runs at (alpha / tests). */
  level: number;
  /** Bootstrap: lower and upper bound of the current/baseline quantile ratio at the test's level. */
  ratioLow: number | null;
  ratioHigh: number | null;
  /** Minutes the Mann-Whitney test compared (baseline, current). */
  minutes: [number, number] | null;
  /** Error rate: the dispersion the z test was widened by (1: none). */
  dispersion: number | null;
  /** One sentence with the numbers: why this verdict. */
  reason: string;
}

/** A route (or the overall figures) in a comparison. */
export interface UnitResult {
  /** `METHOD route`, or `*` for every route together. */
  key: string;
  method: string;
  route: string;
  /**
   * `regression` or `pass` when judged. Short of `minRequests` (`missing` says how many there are):
   * `inconclusive` when the overall is, or when a route's traffic fell in the current window (under
   * half of what the baseline's rate would have brought, which would have been enough);
   * `not-judged` when a route is short in the baseline, or too rare for a window this short (it
   * counts in the overall only).
   */
  verdict: 'regression' | 'pass' | 'inconclusive' | 'not-judged';
  baseline: SideFigures;
  current: SideFigures;
  checks: CheckResult[];
  /** What is missing for an inconclusive or not-judged unit. */
  missing: string | null;
}

/** A comparison's outcome. */
export interface GateResult {
  verdict: 'pass' | 'regression' | 'inconclusive';
  /** 0 pass, 1 regression, 3 inconclusive. */
  exitCode: 0 | 1 | 3;
  settings: GateSettings & { tests: number; level: number };
  /** The overall unit first, then the routes by key. */
  units: UnitResult[];
  /** One line per regressed criterion. */
  regressions: string[];
  /** What made the comparison inconclusive, one line per unit. */
  missing: string[];
  notes: string[];
}

/** Exit codes of a comparison. */
export const GATE_EXIT = { pass: 0, regression: 1, inconclusive: 3 } as const;

/** Smallest and largest number of bootstrap draws. */
const MIN_DRAWS = 2000;
const MAX_DRAWS = 100_000;
/**
 * Bootstrap draws of one comparison in all (about a second of CPU): with many routes of few minutes
 * each check gets its share, never under {@link MIN_DRAWS} (fewer draws put the bound lower: a
 * regression is then called less readily, never more).
 */
const DRAWS_PER_COMPARISON = 2_000_000;
/** The Mann-Whitney test is used when its smallest possible p-value is at most this share of the level. */
const MWU_POWER_SHARE = 0.1;

const EMPTY: SeriesFigures = emptySeries('');

function quantile(s: SeriesFigures, q: number): number | null {
  return s.sketch && s.count > 0 ? sketchQuantile(s.sketch, q, s.min, s.max) : null;
}

function side(s: SeriesFigures): SideFigures {
  return {
    requests: s.count,
    errors: s.errors,
    errorRate: s.count > 0 ? s.errors / s.count : null,
    p50: quantile(s, 0.5),
    p95: quantile(s, 0.95),
    p99: quantile(s, 0.99),
    minutes: s.minutes.length,
  };
}

/** A number for a message: 3 significant digits, no exponent below 1e-3 unless tiny. */
export function num(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && a < 1e-3) return v.toExponential(1);
  if (a >= 1000) return String(Math.round(v));
  return String(Number(v.toPrecision(3)));
}

/** `+24.7 %` */
export function pct(v: number): string {
  return `${v >= 0 ? '+' : ''}${num(v * 100)} %`;
}

/** `+0.52 pp` */
export function pp(v: number): string {
  return `${v >= 0 ? '+' : ''}${num(v * 100)} pp`;
}

/** The bins of a sketch's values (values >= 0: prodmon's sketches have no negative store in use). */
function binsOf(s: SeriesFigures): Bins | null {
  const sk = s.sketch;
  if (!sk || sk.count <= 0) return null;
  const store = sk.store;
  const values: number[] = [];
  const cum: number[] = [];
  let total = 0;
  if (sk.zeroCount > 0) {
    total += sk.zeroCount;
    values.push(0);
    cum.push(total);
  }
  if (store.count > 0) {
    for (let k = store.minKey; k <= store.maxKey; k++) {
      const c = store.bins[k - store.offset] ?? 0;
      if (!(c > 0)) continue;
      total += c;
      // Bin values clamped to the window's exact extremes, as the quantiles are.
      values.push(Math.min(s.max, Math.max(s.min, sk.mapping.value(k))));
      cum.push(total);
    }
  }
  if (total <= 0) return null;
  return { values: Float64Array.from(values), cum: Float64Array.from(cum), count: total };
}

/** Seed of a unit's bootstrap: from its key, so the same windows give the same answer every run. */
function seedOf(key: string, criterion: string): number {
  let h = 2166136261;
  for (const c of `${key}\u0000${criterion}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return h >>> 0;
}

function latencyCheck(
  key: string,
  criterion: 'p95' | 'p99',
  q: number,
  threshold: number,
  base: SeriesFigures,
  cur: SeriesFigures,
  settings: GateSettings,
  level: number,
  maxDraws: number,
): CheckResult | null {
  const b = quantile(base, q);
  const c = quantile(cur, q);
  if (b === null || c === null) return null;
  const change = b > 0 ? c / b - 1 : c > 0 ? Number.POSITIVE_INFINITY : 0;
  const delta = c - b;
  const perMinute = (s: SeriesFigures) =>
    s.minutes.map((m) => (criterion === 'p95' ? m.p95 : m.p99)).filter((v): v is number => v !== null);
  const xb = perMinute(base);
  const xc = perMinute(cur);
  const out: CheckResult = {
    criterion,
    verdict: 'pass',
    baseline: b,
    current: c,
    change,
    delta,
    threshold,
    test: 'mann-whitney',
    p: null,
    level,
    ratioLow: null,
    ratioHigh: null,
    minutes: null,
    dispersion: null,
    reason: '',
  };
  const what = `${criterion} ${pct(change)} (${num(b)} → ${num(c)} ms, ${delta >= 0 ? '+' : ''}${num(delta)} ms)`;
  let significant: boolean;
  let evidence: string;
  if (xb.length > 0 && xc.length > 0 && mannWhitneyMinP(xc.length, xb.length) <= level * MWU_POWER_SHARE) {
    const t = mannWhitneyGreater(xc, xb);
    out.p = t.p;
    out.minutes = [xb.length, xc.length];
    significant = t.p < level;
    evidence = `Mann-Whitney p = ${num(t.p)} ${significant ? '<' : '≥'} ${num(level)} over ${xb.length} and ${xc.length} minutes`;
  } else {
    // Too few minutes for the rank test: resample the requests of each window from its sketch.
    const bb = binsOf(base);
    const cb = binsOf(cur);
    if (!bb || !cb) return null;
    const draws = Math.max(MIN_DRAWS, Math.min(MAX_DRAWS, maxDraws, Math.ceil(50 / level)));
    const random = new Random(seedOf(key, criterion));
    const rb = bootstrapQuantile(bb, q, draws, random);
    const rc = bootstrapQuantile(cb, q, draws, random);
    const ratios = new Float64Array(draws);
    for (let i = 0; i < draws; i++) ratios[i] = rb[i]! > 0 ? rc[i]! / rb[i]! : Number.POSITIVE_INFINITY;
    ratios.sort();
    const at = (p: number) => ratios[Math.min(draws - 1, Math.max(0, Math.floor(p * draws)))]!;
    out.test = 'bootstrap';
    out.ratioLow = at(level);
    out.ratioHigh = at(1 - level);
    significant = out.ratioLow > 1 + threshold;
    evidence = `bootstrap ratio ≥ ${num(out.ratioLow)} at ${num(1 - level)} confidence (${xb.length} and ${xc.length} minutes: too few for Mann-Whitney)`;
  }
  if (significant && change > threshold && delta > settings.minDeltaMs) {
    out.verdict = 'regression';
    out.reason = `${what} over the ${pct(threshold)} allowed; ${evidence}`;
  } else if (!(change > threshold)) {
    out.reason = `${what} within ${pct(threshold)}`;
  } else if (!(delta > settings.minDeltaMs)) {
    out.reason = `${what}: at most ${num(settings.minDeltaMs)} ms slower, below the floor`;
  } else {
    out.reason = `${what} not significant: ${evidence}`;
  }
  return out;
}

/** Fisher's exact test below this many failures in both windows together; the z test from it on. */
const FISHER_BELOW = 20;

function errorCheck(base: SeriesFigures, cur: SeriesFigures, threshold: number, level: number): CheckResult {
  const rb = base.errors / base.count;
  const rc = cur.errors / cur.count;
  const diff = rc - rb;
  let test: TestName;
  let p: number;
  let dispersion: number | null = null;
  if (base.errors + cur.errors < FISHER_BELOW) {
    test = 'fisher';
    p = fisherGreater(base.errors, base.count, cur.errors, cur.count).p;
  } else {
    test = 'two-proportion';
    dispersion = errorDispersion([base.minutes, cur.minutes]);
    p = proportionGreater(base.errors, base.count, cur.errors, cur.count, dispersion).p;
  }
  const significant = p < level;
  const what = `error rate ${pp(diff)} (${num(rb * 100)} % → ${num(rc * 100)} %, ${base.errors} of ${base.count} → ${cur.errors} of ${cur.count})`;
  const evidence = `${test === 'fisher' ? "Fisher's exact" : `two-proportion z${dispersion !== null && dispersion > 1 ? `, widened ×${num(Math.sqrt(dispersion))} for bursts` : ''}`} p = ${num(p)} ${significant ? '<' : '≥'} ${num(level)}`;
  const regression = significant && diff > threshold;
  return {
    criterion: 'error_rate',
    verdict: regression ? 'regression' : 'pass',
    baseline: rb,
    current: rc,
    change: diff,
    delta: diff,
    threshold,
    test,
    p,
    level,
    ratioLow: null,
    ratioHigh: null,
    minutes: null,
    dispersion,
    reason: regression
      ? `${what} over the ${pp(threshold)} allowed; ${evidence}`
      : !(diff > threshold)
        ? `${what} within ${pp(threshold)}`
        : `${what} not significant: ${evidence}`,
  };
}

/** The label of a unit in messages. */
export function unitLabel(key: string): string {
  return key === OVERALL_KEY ? 'overall' : key;
}

/**
 * Compares two windows. `overall`: whether the overall figures are comparable (the same routes on
 * both sides; false when the comparison narrows the routes of a saved baseline).
 */
export function compareWindows(
  baseline: WindowFigures,
  current: WindowFigures,
  settings: GateSettings,
  opts: { overall?: boolean } = {},
): GateResult {
  const criteria: { c: Criterion; threshold: number }[] = [];
  if (settings.maxP95 !== null) criteria.push({ c: 'p95', threshold: settings.maxP95 });
  if (settings.maxP99 !== null) criteria.push({ c: 'p99', threshold: settings.maxP99 });
  if (settings.maxErrorRate !== null) criteria.push({ c: 'error_rate', threshold: settings.maxErrorRate });

  const bySide = new Map<string, { b: SeriesFigures; c: SeriesFigures }>();
  for (const s of baseline.series)
    bySide.set(s.key, { b: s, c: { ...EMPTY, key: s.key, method: s.method, route: s.route } });
  for (const s of current.series) {
    const e = bySide.get(s.key);
    if (e) e.c = s;
    else bySide.set(s.key, { b: { ...EMPTY, key: s.key, method: s.method, route: s.route }, c: s });
  }
  const pairs: { key: string; b: SeriesFigures; c: SeriesFigures }[] = [];
  const notes: string[] = [];
  if (opts.overall !== false) pairs.push({ key: OVERALL_KEY, b: baseline.overall, c: current.overall });
  else notes.push('overall not compared: the baseline was saved for other routes than this comparison reads');
  for (const key of [...bySide.keys()].sort()) pairs.push({ key, ...bySide.get(key)! });

  const min = settings.minRequests;
  const baseMs = baseline.until - baseline.from;
  const scale = baseMs > 0 ? (current.until - current.from) / baseMs : 1;
  const units: UnitResult[] = pairs.map(({ key, b, c }) => {
    const unit: UnitResult = {
      key,
      method: b.method || c.method,
      route: b.route || c.route,
      verdict: 'pass',
      baseline: side(b),
      current: side(c),
      checks: [],
      missing: null,
    };
    const label = unitLabel(key);
    const overallUnit = key === OVERALL_KEY;
    // The requests the current window would hold at the baseline's rate.
    const expected = Math.round(b.count * scale);
    if (b.count < min) {
      // Too rare in the baseline: waiting does not help. A route counts in the overall; without the
      // overall nothing is judged.
      unit.verdict = overallUnit ? 'inconclusive' : 'not-judged';
      unit.missing = `${label}: ${b.count} requests in the baseline, ${min} needed${overallUnit ? '' : ' (not judged on its own; counted in the overall)'}`;
    } else if (c.count < min) {
      // Short in the current window: inconclusive when traffic fell (under half of what the baseline's
      // rate would have brought, and that would have been enough: the deploy may have broken the
      // route, or the window is mostly empty); otherwise the route is too rare for a window this
      // short and is left to the overall.
      const fell = overallUnit || (expected >= min && c.count < expected / 2);
      unit.verdict = fell ? 'inconclusive' : 'not-judged';
      unit.missing = `${label}: ${c.count} requests in the window, ${min} needed (${expected} expected at the baseline's rate${fell ? '' : '; not judged on its own, counted in the overall'})`;
    }
    return unit;
  });
  const judged = units.filter((u) => u.verdict === 'pass');
  const tests = judged.length * criteria.length;
  const level = tests > 0 ? settings.alpha / tests : settings.alpha;
  const maxDraws = Math.floor(DRAWS_PER_COMPARISON / Math.max(1, tests));

  const regressions: string[] = [];
  for (const u of judged) {
    const pair = pairs.find((p) => p.key === u.key)!;
    for (const { c, threshold } of criteria) {
      const check =
        c === 'error_rate'
          ? errorCheck(pair.b, pair.c, threshold, level)
          : latencyCheck(
              u.key,
              c,
              c === 'p95' ? 0.95 : 0.99,
              threshold,
              pair.b,
              pair.c,
              settings,
              level,
              maxDraws,
            );
      if (!check) continue;
      u.checks.push(check);
      if (check.verdict === 'regression') {
        u.verdict = 'regression';
        regressions.push(`${unitLabel(u.key)}: ${check.reason}`);
      }
    }
  }
  const missing = units.filter((u) => u.verdict === 'inconclusive').map((u) => u.missing!);
  if (judged.length === 0 && missing.length === 0)
    missing.push(
      `no route has ${min} requests in both windows (${units.map((u) => u.missing).join('; ') || 'no requests'})`,
    );
  for (const u of units) if (u.verdict === 'not-judged') notes.push(u.missing!);
  const verdict = regressions.length > 0 ? 'regression' : missing.length > 0 ? 'inconclusive' : 'pass';
  return {
    verdict,
    exitCode: GATE_EXIT[verdict],
    settings: { ...settings, tests, level },
    units,
    regressions,
    missing,
    notes,
  };
}
