/**
 * Baselines: the request figures of a window of time kept under a name, per route and overall, so a
 * later window (after a deploy) can be compared with them (src/baseline/).
 */

/** One minute of one series of a window: what the per-minute statistics of a comparison read. */
export interface BaselineMinute {
  /** Start of the minute (ms since the epoch). */
  t: number;
  count: number;
  errors: number;
  /** Quantiles of the minute's requests (ms), from the minute's merged sketch; null without requests. */
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/** The figures of one route (or of all of them) over a window. */
export interface BaselineSeries {
  /** `METHOD route` (e.g. `GET /api/products/:id`), or {@link OVERALL_KEY} for every route together. */
  key: string;
  /** HTTP method; '' for the overall series. */
  method: string;
  /** Route template; '' for the overall series. */
  route: string;
  count: number;
  errors: number;
  /** Sum of the durations (ms). */
  sum: number;
  min: number;
  max: number;
  /** The merged DDSketch of every request of the window (protobuf bytes): quantiles can be recomputed. */
  sketch: Uint8Array | null;
  /** Minutes with at least one request, oldest first. */
  minutes: BaselineMinute[];
}

/** The key of the overall series (no route key has it: route keys hold a space). */
export const OVERALL_KEY = '*';

/** A series without requests (`key` the overall one unless given): what a window without traffic holds. */
export function emptySeries(key = OVERALL_KEY): BaselineSeries & { sketch: null } {
  return {
    key,
    method: '',
    route: '',
    count: 0,
    errors: 0,
    sum: 0,
    min: 0,
    max: 0,
    sketch: null,
    minutes: [],
  };
}

/** What describes a stored baseline (the list shows these). */
export interface BaselineInfo {
  name: string;
  createdAt: number;
  /** Who saved it (`cli:<user>`, or the token's name over HTTP). */
  createdBy: string;
  /** The window: whole minutes with starts in [from, until). */
  from: number;
  until: number;
  /** The instance it was taken from; null: every instance. */
  instance: string | null;
  /** The route glob it was taken with; null: every route. */
  route: string | null;
  /** Requests and failed requests of the whole window. */
  requests: number;
  errors: number;
  /** Number of routes kept. */
  routes: number;
}

/** A stored baseline: its description, the overall series and one series per route. */
export interface Baseline extends BaselineInfo {
  overall: BaselineSeries;
  series: BaselineSeries[];
}
