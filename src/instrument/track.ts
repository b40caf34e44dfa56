/**
 * Request instrumentation without a framework: `track(req, res, route)` remembers when a request
 * started and, when its response closes, records the duration under (route template, method, status
 * class) with whether it failed. The framework adapters only tell it the route template.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { METRIC } from '../core/metric-names.js';
import type { Recorder } from '../metrics/recorder.js';
import type { Series } from '../metrics/series.js';

/** Route label of requests no route matched (404s and the like): one label, never the raw URL. */
export const UNMATCHED = '(unmatched)';
/** Status class of requests whose client went away before the response was complete. */
export const ABORTED = 'aborted';

/** A route template, or a function returning it when the response closes (undefined: unmatched). */
export type RouteSource =
  | string
  | ((req: IncomingMessage, res: ServerResponse) => string | undefined | null | RegExp | unknown);

/** Which responses count as errors. */
export type ErrorStatuses = '5xx' | '4xx+5xx';

/** What the tracker needs. */
export interface TrackerOptions {
  errorStatuses?: ErrorStatuses;
  /** Monotonic ms for durations (default performance.now). */
  now?: () => number;
}

/** What the tracker knows of a request while it runs (exported for the benchmarks). */
export interface TrackState {
  tracker: RequestTracker;
  req: IncomingMessage;
  t0: number;
  route: RouteSource | undefined;
  thrown: boolean;
}

/**
 * Marks prodmon's close listener with the state it records. The state lives in the listener, never as
 * a property of `res`: Express swaps the prototype of every response, after which V8 gives each
 * response its own hidden class at every added property, and that made each request noticeably slower
 * (more than the rest of the tracking together). Shared with other copies of this module.
 */
const kState = Symbol.for('prodmon.track.state');
type CloseListener = ((this: ServerResponse) => void) & { [kState]?: TrackState };

function closeListener(st: TrackState): CloseListener {
  const fn: CloseListener = function prodmonClose(this: ServerResponse): void {
    if (fn[kState] === undefined) return; // recorded already: a response closes once
    fn[kState] = undefined;
    st.tracker.finish(st, this);
  };
  fn[kState] = st;
  return fn;
}

/** The state of a response being tracked, found through its close listener. */
function stateOf(res: ServerResponse): TrackState | undefined {
  if (res.listenerCount('close') === 0) return undefined; // the usual case on a first track()
  for (const fn of res.listeners('close') as CloseListener[]) {
    const st = fn[kState];
    if (st !== undefined) return st;
  }
  return undefined;
}

const METHOD_LIST = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE', 'OTHER'];
const METHOD_INDEX = new Map(METHOD_LIST.map((m, i) => [m, i]));
const OTHER_METHOD = METHOD_LIST.length - 1;
const CLASSES = ['other', '1xx', '2xx', '3xx', '4xx', '5xx'];
/** Cache slots per method: the status classes, then `aborted`. */
const CLASS_SLOTS = CLASSES.length + 1;

function classIndex(status: number): number {
  return status >= 100 && status < 600 ? Math.floor(status / 100) : 0;
}

function methodIndex(method: string | undefined): number {
  if (method === undefined) return OTHER_METHOD;
  const i = METHOD_INDEX.get(method) ?? METHOD_INDEX.get(method.toUpperCase());
  return i === undefined || i === OTHER_METHOD ? OTHER_METHOD : i;
}

/** `2xx`... for a status code (`other` outside 100-599). */
export function statusClass(status: number): string {
  return CLASSES[classIndex(status)]!;
}

/** The method label: the standard methods as they are, anything else `OTHER` (bounded). */
export function methodLabel(method: string | undefined): string {
  return METHOD_LIST[methodIndex(method)]!;
}

/**
 * Whether `path[start, end)` looks like an id: all digits, a UUID, 16+ hex characters, or a token of
 * 20+ word characters (or `-`) with a digit. A hand-written scan: this runs on every request.
 */
function isIdSegment(path: string, start: number, end: number): boolean {
  const len = end - start;
  if (len === 0) return false;
  let digits = 0;
  let dashes = 0;
  let letters = 0; // word characters that are not hex digits
  for (let i = start; i < end; i++) {
    const c = path.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
    else if ((c >= 97 && c <= 102) || (c >= 65 && c <= 70)) continue;
    else if (c === 45) dashes++;
    else if ((c >= 103 && c <= 122) || (c >= 71 && c <= 90) || c === 95) letters++;
    else return false;
  }
  if (digits === len) return true;
  if (letters === 0 && dashes === 0 && len >= 16) return true;
  if (len === 36 && letters === 0 && dashes === 4) {
    const at = (k: number) => path.charCodeAt(start + k) === 45;
    if (at(8) && at(13) && at(18) && at(23)) return true;
  }
  return len >= 20 && digits > 0;
}

/**
 * A template guessed from a URL path when no router names it: numbers, UUIDs, long hex and long
 * tokens with digits become `:id`, the query string is dropped (`/orders/42?x=1` -> `/orders/:id`).
 */
export function templateFromPath(url: string | undefined): string {
  const raw = url ?? '/';
  const q = raw.indexOf('?');
  const path = (q === -1 ? raw : raw.slice(0, q)).slice(0, 200);
  let out: string | null = null; // built only once a segment is replaced
  let from = 0; // start of the part of `path` not yet copied to `out`
  let start = 0;
  while (start <= path.length) {
    let end = path.indexOf('/', start);
    if (end === -1) end = path.length;
    if (isIdSegment(path, start, end)) {
      out = `${out ?? ''}${path.slice(from, start)}:id`;
      from = end;
    }
    start = end + 1;
  }
  return out === null ? path : out + path.slice(from);
}

/** The default route source: the guessed template, with 404s folded into {@link UNMATCHED}. */
export const guessedRoute: RouteSource = (req, res) =>
  res.statusCode === 404 ? undefined : templateFromPath(req.url);

/** Records requests into the recorder. */
export class RequestTracker {
  readonly #recorder: Recorder;
  readonly #errors4xx: boolean;
  readonly now: () => number;
  /**
   * Wall time minus `now()`, when the recorder runs on the system clock: the minute of a request is
   * then read from the timing already taken instead of a second clock call (the engine refreshes it
   * on every flush, so wall-clock steps are followed). Undefined: ask the recorder's clock.
   */
  wallOffset: number | undefined = undefined;
  /** Series per route, indexed by method and status class (no key string built per request). */
  readonly #cache = new Map<string, (Series | undefined)[]>();

  constructor(recorder: Recorder, opts: TrackerOptions = {}) {
    this.#recorder = recorder;
    this.#errors4xx = opts.errorStatuses === '4xx+5xx';
    this.now = opts.now ?? (() => performance.now());
  }

  /**
   * Starts timing a request; it is recorded when `res` closes (finished, or aborted by the client).
   * Tracking the same response twice keeps the first start and takes the newer route.
   */
  track(req: IncomingMessage, res: ServerResponse, route?: RouteSource): void {
    const st = stateOf(res);
    if (st) {
      if (route !== undefined) st.route = route;
      return;
    }
    res.on('close', closeListener({ tracker: this, req, t0: this.now(), route, thrown: false }));
  }

  /** Sets the route template of a tracked request (e.g. once the router has matched). */
  setRoute(res: ServerResponse, route: RouteSource): void {
    const st = stateOf(res);
    if (st) st.route = route;
  }

  /**
   * Marks a tracked request as failed by a thrown error. An error that carries an HTTP status below
   * 500 (`status`/`statusCode`, e.g. a validation error) is the client's: the response status decides.
   */
  markError(res: ServerResponse, err?: unknown): void {
    const st = stateOf(res);
    if (!st) return;
    const e = err as { status?: unknown; statusCode?: unknown } | null | undefined;
    const status =
      typeof e?.status === 'number' ? e.status : typeof e?.statusCode === 'number' ? e.statusCode : 0;
    if (status >= 400 && status < 500) return;
    st.thrown = true;
  }

  /** Whether `res` is being tracked. */
  isTracked(res: ServerResponse): boolean {
    return stateOf(res) !== undefined;
  }

  /** Records a closed response (called by the close listener; the benchmarks call it directly). */
  finish(st: TrackState, res: ServerResponse): void {
    const end = this.now();
    const duration = end - st.t0;
    const aborted = !res.writableFinished;
    const status = res.statusCode;
    const sc = aborted ? ABORTED : statusClass(status);
    const error = st.thrown || (!aborted && (status >= 500 || (this.#errors4xx && status >= 400)));
    let route: unknown = st.route === undefined ? guessedRoute : st.route;
    if (typeof route === 'function') {
      try {
        route = route(st.req, res);
      } catch {
        route = undefined;
      }
    }
    const routeLabel = typeof route === 'string' && route !== '' ? route : route ? String(route) : UNMATCHED;
    const m = methodIndex(st.req.method);
    const slot = m * CLASS_SLOTS + (aborted ? CLASS_SLOTS - 1 : classIndex(status));
    let byRoute = this.#cache.get(routeLabel);
    let series = byRoute?.[slot];
    if (series === undefined) {
      series = this.#recorder.series(METRIC.httpRequest, {
        route: routeLabel,
        method: METHOD_LIST[m]!,
        status_class: sc,
      });
      // Only real series are cached: the cache never outgrows the series cap.
      if (!series.overflow) {
        if (!byRoute) {
          byRoute = [];
          this.#cache.set(routeLabel, byRoute);
        }
        byRoute[slot] = series;
      }
    }
    const off = this.wallOffset;
    this.#recorder.observe(series, duration, error, off === undefined ? undefined : end + off);
  }
}
