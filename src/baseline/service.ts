/**
 * The deployment gate's operations, the same for the CLI on a store and for the HTTP API in a running
 * monitor: save, list, show and delete baselines, and compare the current window with a saved baseline
 * or with the time just before a deploy marker.
 */
import type { Clock } from '../core/clock.js';
import { ProdmonError } from '../core/errors.js';
import {
  type Baseline,
  type BaselineInfo,
  type BaselineMinute,
  type BaselineSeries,
  emptySeries,
} from '../domain/baseline.js';
import type { Recorder } from '../metrics/recorder.js';
import { bucketStart, MINUTE_MS } from '../metrics/rollup.js';
import { sketchQuantile } from '../metrics/sketch.js';
import type { Store } from '../store/index.js';
import { compareWindows, GATE_EXIT, type GateResult } from './compare.js';
import type { DeploymentLookup } from './repository.js';
import {
  type CompareRequest,
  cliLabel,
  DEFAULT_BASELINE_WINDOW_MS,
  type Label,
  type SaveRequest,
} from './request.js';
import {
  MAX_WINDOW_MS,
  MIN_WINDOW_MS,
  readWindow,
  routeMatcher,
  seriesFigures,
  storedSeries,
  type WindowFigures,
  wholeMinutes,
} from './window.js';

/** What the gate works on. */
export interface GateDeps {
  store: Store;
  /** A running monitor's recorder: its unflushed minutes are read too. */
  recorder?: Recorder | null;
  clock: Clock;
  /** The deploy markers; absent where they are not available (then `--before-deploy` is refused). */
  deployments?: DeploymentLookup | null;
  /**
   * How long after a minute ends its rollups may still be arriving (`metrics.flush_interval`): windows
   * that end "now" end at the last minute that ended at least this long ago.
   */
  settleMs: number;
}

/** The window a comparison judged against. */
export type BaselineSide =
  | {
      kind: 'saved';
      name: string;
      from: number;
      until: number;
      instance: string | null;
      route: string | null;
      createdAt: number;
      createdBy: string;
    }
  | {
      kind: 'before-deploy';
      version: string;
      deployedAt: number;
      from: number;
      until: number;
      instance: string | null;
      route: string | null;
    };

/** A comparison's answer: the decision and the windows it read. */
export interface GateReport extends GateResult {
  baseline: BaselineSide;
  current: { from: number; until: number; instance: string | null; route: string | null };
  generatedAt: number;
}

/** The end of a window that ends "now": the last whole minute that has settled. */
function settledUntil(deps: GateDeps): number {
  return bucketStart(deps.clock.now() - deps.settleMs, MINUTE_MS);
}

function windowOf(
  deps: GateDeps,
  req: Pick<SaveRequest, 'sinceMs' | 'from' | 'to'>,
  label: Label,
): { from: number; until: number } {
  if (req.from !== undefined && req.to !== undefined) {
    const w = wholeMinutes(req.from, req.to);
    const len = w.until - w.from;
    if (len < MIN_WINDOW_MS || len > MAX_WINDOW_MS)
      throw new ProdmonError(
        'PRODMON_E_BAD_REQUEST',
        `${label('from')}/${label('to')}: the window must hold 3 to 1440 whole minutes, got ${Math.max(0, len / MINUTE_MS)}`,
        { exitCode: 2 },
      );
    return w;
  }
  const until = settledUntil(deps);
  return { from: until - (req.sinceMs ?? DEFAULT_BASELINE_WINDOW_MS), until };
}

/** Saves a baseline of a window (audited); PRODMON_E_CONFLICT when the name exists and `force` is not set. */
export async function saveBaseline(
  deps: GateDeps,
  req: SaveRequest,
  createdBy: string,
  label: Label = cliLabel,
): Promise<BaselineInfo> {
  const { from, until } = windowOf(deps, req, label);
  const w = await readWindow(
    { store: deps.store, recorder: deps.recorder },
    { from, until, instance: req.instance, route: req.route },
    label('route'),
  );
  const now = deps.clock.now();
  const b: Baseline = {
    name: req.name,
    createdAt: now,
    createdBy,
    from,
    until,
    instance: req.instance ?? null,
    route: req.route ?? null,
    requests: w.overall.count,
    errors: w.overall.errors,
    routes: w.series.length,
    overall: storedSeries(w.overall),
    series: w.series.map(storedSeries),
  };
  await deps.store.transaction(async (tx) => {
    const replaced = req.force ? await tx.baselines.delete(req.name) : false;
    if (!(await tx.baselines.insert(b)))
      throw new ProdmonError(
        'PRODMON_E_CONFLICT',
        `a baseline named "${req.name}" exists; replace it with ${label('force')} (or delete it first)`,
        { exitCode: 2 },
      );
    await tx.audit.append({
      at: now,
      actor: createdBy,
      action: replaced ? 'baseline.replace' : 'baseline.save',
      target: req.name,
      detail: { from, until, instance: b.instance, route: b.route, requests: b.requests, routes: b.routes },
    });
  });
  const { overall: _o, series: _s, ...info } = b;
  return info;
}

/** A saved baseline, or a not-found error (exit 2: a name that does not exist is a usage error). */
export async function requireBaseline(store: Store, name: string): Promise<Baseline> {
  const b = await store.baselines.get(name);
  if (!b)
    throw new ProdmonError(
      'PRODMON_E_NOT_FOUND',
      `no baseline named "${name}" (prodmon baseline list shows them)`,
      {
        exitCode: 2,
      },
    );
  return b;
}

/** Deletes a baseline (audited); not found is an error. */
export async function deleteBaseline(
  deps: Pick<GateDeps, 'store' | 'clock'>,
  name: string,
  actor: string,
): Promise<void> {
  await deps.store.transaction(async (tx) => {
    if (!(await tx.baselines.delete(name)))
      throw new ProdmonError(
        'PRODMON_E_NOT_FOUND',
        `no baseline named "${name}" (prodmon baseline list shows them)`,
        {
          exitCode: 2,
        },
      );
    await tx.audit.append({
      at: deps.clock.now(),
      actor,
      action: 'baseline.delete',
      target: name,
      detail: {},
    });
  });
}

/** A saved baseline as window figures. */
function savedWindow(b: Baseline): WindowFigures {
  return {
    from: b.from,
    until: b.until,
    overall: seriesFigures(b.overall),
    series: b.series.map(seriesFigures),
  };
}

/** Compares the current window with a saved baseline or the time before a deploy. */
export async function compareBaseline(
  deps: GateDeps,
  req: CompareRequest,
  label: Label = cliLabel,
): Promise<GateReport> {
  const src = { store: deps.store, recorder: deps.recorder };
  const now = deps.clock.now();
  const until = req.until !== undefined ? bucketStart(req.until, MINUTE_MS) : settledUntil(deps);
  let from = until - req.sinceMs;
  let baselineSide: BaselineSide;
  let base: WindowFigures;
  let instance: string | null;
  let route: string | null;
  let overall = true;
  const early: string[] = [];

  if (req.baseline !== undefined) {
    const b = await requireBaseline(deps.store, req.baseline);
    instance = req.instance ?? b.instance;
    route = req.route ?? b.route;
    overall = route === b.route;
    baselineSide = {
      kind: 'saved',
      name: b.name,
      from: b.from,
      until: b.until,
      instance: b.instance,
      route: b.route,
      createdAt: b.createdAt,
      createdBy: b.createdBy,
    };
    base = savedWindow(b);
    if (!overall && route !== null) {
      const match = routeMatcher(route);
      base = { ...base, series: base.series.filter((x) => match(x.method, x.route)) };
    }
  } else {
    const version = req.beforeDeploy!;
    if (!deps.deployments)
      throw new ProdmonError(
        'PRODMON_E_BAD_REQUEST',
        `${label('before_deploy')}: deploy markers are not available here (prodmon deploy mark records them)`,
        { exitCode: 2 },
      );
    instance = req.instance ?? null;
    route = req.route ?? null;
    const marker = await deps.deployments.latestByVersion(version, req.instance);
    if (!marker)
      throw new ProdmonError(
        'PRODMON_E_NOT_FOUND',
        `${label('before_deploy')}: no deploy marker of version "${version}"${req.instance ? ` on instance "${req.instance}"` : ''} (prodmon deploy mark --version ${version} records one)`,
        { exitCode: 2 },
      );
    // The minute the deploy happened in holds both versions: the window before ends at its start, the
    // current one starts after it.
    const baseUntil = bucketStart(marker.at, MINUTE_MS);
    const afterDeploy = marker.at === baseUntil ? baseUntil : baseUntil + MINUTE_MS;
    if (from < afterDeploy) {
      early.push(
        `the window starts after the deploy: ${Math.max(0, (until - afterDeploy) / MINUTE_MS)} whole minutes of the ${req.sinceMs / MINUTE_MS} asked`,
      );
      from = afterDeploy;
    }
    baselineSide = {
      kind: 'before-deploy',
      version,
      deployedAt: marker.at,
      from: baseUntil - req.sinceMs,
      until: baseUntil,
      instance,
      route,
    };
    base = await readWindow(
      src,
      { from: baseUntil - req.sinceMs, until: baseUntil, instance, route },
      label('route'),
    );
  }

  if (until - from < MINUTE_MS) {
    // Not a whole minute since the deploy yet: nothing to compare.
    const deployedAt = baselineSide.kind === 'before-deploy' ? baselineSide.deployedAt : from;
    const result = compareWindows(base, emptyWindow(from), req.settings, { overall });
    return {
      ...result,
      verdict: 'inconclusive',
      exitCode: GATE_EXIT.inconclusive,
      missing: [`no whole minute since the deploy at ${new Date(deployedAt).toISOString()} yet`],
      baseline: baselineSide,
      current: { from, until: from, instance, route },
      generatedAt: now,
    };
  }
  const cur = await readWindow(src, { from, until, instance, route }, label('route'));
  const result = compareWindows(base, cur, req.settings, { overall });
  result.notes.unshift(...early);
  return { ...result, baseline: baselineSide, current: { from, until, instance, route }, generatedAt: now };
}

/** A window without requests. */
function emptyWindow(at: number): WindowFigures {
  const empty = emptySeries();
  return { from: at, until: at, overall: empty, series: [] };
}

/** Baselines, newest first. */
export function listBaselines(store: Store): Promise<BaselineInfo[]> {
  return store.baselines.list();
}

/** A route of a baseline as shown (`show --json`, `GET /production/api/baselines/:name`). */
export interface SeriesView {
  key: string;
  method: string;
  route: string;
  requests: number;
  errors: number;
  errorRate: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  /** Every minute with requests. */
  minutes: BaselineMinute[];
}

/** A baseline as shown: its description, the overall figures and each route's, quantiles computed. */
export interface BaselineView extends BaselineInfo {
  overall: SeriesView;
  /** One per route, by key. */
  series: SeriesView[];
}

function seriesView(s: BaselineSeries): SeriesView {
  const f = seriesFigures(s);
  const q = (p: number) => (f.sketch && f.count > 0 ? sketchQuantile(f.sketch, p, f.min, f.max) : null);
  return {
    key: s.key,
    method: s.method,
    route: s.route,
    requests: s.count,
    errors: s.errors,
    errorRate: s.count > 0 ? s.errors / s.count : null,
    p50: q(0.5),
    p95: q(0.95),
    p99: q(0.99),
    minutes: s.minutes,
  };
}

/** The view of a stored baseline. */
export function baselineView(b: Baseline): BaselineView {
  const { overall, series, ...info } = b;
  return { ...info, overall: seriesView(overall), series: series.map(seriesView) };
}
