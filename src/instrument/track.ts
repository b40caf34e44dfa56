/**
 * Request instrumentation without a framework: `track(req, res, route)` remembers when a request
 * started and, when its response is done (finished, or aborted by the client), records the duration under (route template, method, status
 * class) with whether it failed. The framework adapters only tell it the route template.
 */
import { subscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { METRIC } from '../metrics/names.js';
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
  res: ServerResponse;
  t0: number;
  route: RouteSource | undefined;
  thrown: boolean;
  /** The request method when known at the start (read before a framework swapped the prototype). */
  method?: string | undefined;
  /** An adapter's own note on the request (the Express adapter: the route the router matched). */
  note?: unknown;
}

/*
 * How a tracked request learns that its response is done.
 *
 * Responses of a node:http (or https) server: node publishes every finished response on the
 * `http.server.response.finish` diagnostics channel, to which the tracker subscribes once (on the first
 * request it tracks). The state of a request in flight is kept on its connection (a slot per socket,
 * made on the first request of the connection, with one `close` listener for the connection's life), so
 * a request costs no listener of its own: on Express a `res.on(...)` per request is one of its dearest
 * steps (Express swaps the prototype of every response, and V8 then handles each one's listeners
 * on a slow path). A request still in flight when its connection closes was aborted by the client.
 * With keep-alive, the slot and its listener are paid once per connection, not per request.
 *
 * With the Express adapter, the tracker also listens to `http.server.request.start`, published just
 * before node hands a request to the app, and remembers the last message: when the adapter then tracks that same response (the
 * usual case: prodmon's middleware runs first, synchronously), its socket and method come from the
 * message, not from `req`. On Express that matters: after Express swaps the prototype of a request or
 * response, V8 gives each one a hidden class of its own, so every property read or written on them
 * misses V8's inline caches and takes a slow lookup (see docs/benchmarks.md, Overhead in instructions);
 * prodmon therefore touches Express's `req` and `res` as little as it can.
 *
 * Anything else (a response of an HTTP/2 compat server, of an injected request such as Fastify's
 * `inject`, a hand-made response): a `close` listener per response. The state lives in the
 * listener, never as a property of `res`: on Express each added property gives the response a hidden
 * class of its own.
 */

/** The tracked responses in flight on one connection: usually one; more when requests are pipelined. */
interface SocketSlot {
  first: TrackState | undefined;
  more: TrackState[] | undefined;
}
/** The slot on a socket; null on a socket that no node:http server serves (shared by module copies). */
const kSlot = Symbol.for('prodmon.track.socket');
type TrackedSocket = NonNullable<IncomingMessage['socket']> & {
  [kSlot]?: SocketSlot | null;
  /** Set by node:http's server on the sockets it serves. */
  parser?: unknown;
};

const FINISH_CHANNEL = 'http.server.response.finish';
const START_CHANNEL = 'http.server.request.start';
let subscribed = false;
/**
 * Whether to follow `http.server.request.start` too: only for Express (its adapter asks), where reading
 * `req` costs more than the message does. On plain node:http and Fastify requests, reading `req.socket`
 * and `req.method` is cheap and the subscription is not: it adds CPU to every request there (see
 * docs/benchmarks.md, HTTP overhead).
 */
let followStarts = false;

/** Asks the tracker to follow node's request starts (the Express adapter does, once). */
export function followRequestStarts(): void {
  if (followStarts) return;
  followStarts = true;
  if (subscribed) subscribe(START_CHANNEL, onRequestStart);
}

/** What node publishes on both channels. */
interface ServerMessage {
  request: IncomingMessage;
  response: ServerResponse;
  socket: TrackedSocket;
}
/** The last request node:http started (its message), and its method read then. */
let started: ServerMessage | undefined;
let startedMethod: string | undefined;

function onRequestStart(message: unknown): void {
  started = message as ServerMessage;
  startedMethod = started.request.method;
}

/** The tracked state of `res` in `slot`, removed from it. */
function take(slot: SocketSlot, res: ServerResponse): TrackState | undefined {
  const first = slot.first;
  if (first !== undefined && first.res === res) {
    slot.first = slot.more?.shift();
    if (slot.more?.length === 0) slot.more = undefined;
    return first;
  }
  const more = slot.more;
  if (more === undefined) return undefined;
  const i = more.findIndex((st) => st.res === res);
  if (i === -1) return undefined;
  const [st] = more.splice(i, 1);
  if (more.length === 0) slot.more = undefined;
  return st;
}

function find(slot: SocketSlot, res: ServerResponse): TrackState | undefined {
  if (slot.first?.res === res) return slot.first;
  return slot.more?.find((st) => st.res === res);
}

/** node:http published a finished response. */
function onResponseFinish(message: unknown): void {
  const { response, socket } = message as ServerMessage;
  if (started !== undefined && started.response === response) started = undefined; // not kept once done
  const slot = socket?.[kSlot];
  if (!slot) return;
  const st = take(slot, response);
  if (st !== undefined) st.tracker.finish(st, response, false);
}

/** A connection closed: what is still in flight on it was aborted. */
function onSocketClose(this: TrackedSocket): void {
  const slot = this[kSlot];
  if (!slot) return;
  const pending = slot.first === undefined ? [] : [slot.first, ...(slot.more ?? [])];
  slot.first = undefined;
  slot.more = undefined;
  for (const st of pending) st.tracker.finish(st, st.res, !st.res.writableFinished);
}

/** The slot of a socket, made on its first tracked request (null: not a node:http server's socket). */
function slotOf(socket: TrackedSocket | null | undefined): SocketSlot | null | undefined {
  if (!socket) return undefined;
  const slot = socket[kSlot];
  if (slot !== undefined) return slot;
  if (!socket.parser || socket.destroyed) {
    socket[kSlot] = null;
    return null;
  }
  if (!subscribed) {
    subscribed = true;
    subscribe(FINISH_CHANNEL, onResponseFinish);
    if (followStarts) subscribe(START_CHANNEL, onRequestStart);
  }
  const made: SocketSlot = { first: undefined, more: undefined };
  socket[kSlot] = made;
  socket.once('close', onSocketClose);
  return made;
}

/**
 * The state of a tracked request, found from the request (for adapters that learn something about it
 * while it runs); undefined when it is not tracked on its connection.
 */
export function requestState(req: IncomingMessage): TrackState | undefined {
  const m = started;
  const socket = m !== undefined && m.request === req ? m.socket : (req.socket as TrackedSocket | null);
  const slot = socket?.[kSlot];
  if (!slot) return undefined;
  if (slot.first?.req === req) return slot.first;
  return slot.more?.find((st) => st.req === req);
}

/** Marks prodmon's close listener (the fallback) with the state it records. */
const kState = Symbol.for('prodmon.track.state');
type CloseListener = ((this: ServerResponse) => void) & { [kState]?: TrackState };

function closeListener(st: TrackState): CloseListener {
  const fn: CloseListener = function prodmonClose(this: ServerResponse): void {
    if (fn[kState] === undefined) return; // recorded already: a response closes once
    fn[kState] = undefined;
    // Ended counts as done here: some responses never report writableFinished (an injected
    // request's mock socket has no writableLength), and they are not aborted.
    st.tracker.finish(st, this, !(this.writableFinished || this.writableEnded));
  };
  fn[kState] = st;
  return fn;
}

/** The state of a response being tracked, on its connection or in its close listener. */
function stateOf(res: ServerResponse): TrackState | undefined {
  const socket = (res.req as IncomingMessage | undefined)?.socket as TrackedSocket | null | undefined;
  const slot = socket?.[kSlot];
  if (slot) return find(slot, res);
  if (typeof res.listenerCount !== 'function' || res.listenerCount('close') === 0) return undefined;
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

/**
 * The method last looked up and its index: node's parser hands every request the same string object
 * per method (`req.method` comes from one table), so most lookups are one identity comparison instead of
 * a Map lookup (which compares the strings' contents: the parser's strings are not V8's interned ones).
 */
let lastMethod: string | undefined;
let lastMethodIndex = OTHER_METHOD;

function methodIndex(method: string | undefined): number {
  if (method === undefined) return OTHER_METHOD;
  if (method === lastMethod) return lastMethodIndex;
  const i = METHOD_INDEX.get(method) ?? METHOD_INDEX.get(method.toUpperCase());
  const index = i === undefined || i === OTHER_METHOD ? OTHER_METHOD : i;
  lastMethod = method;
  lastMethodIndex = index;
  return index;
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

/**
 * Templates guessed lately, by raw URL: an app without route templates mostly sees the same URLs again
 * (`/`, `/health`, `/api/cart`), whose template is then one lookup instead of a scan and a new string
 * per request. Bounded: emptied when full, so URLs with ids (each new) cost what guessing costs.
 */
const guessed = new Map<string, string>();
const GUESSED_MAX = 1000;

function cachedTemplate(url: string | undefined): string {
  if (url === undefined || url.length > 200) return templateFromPath(url);
  let t = guessed.get(url);
  if (t === undefined) {
    t = templateFromPath(url);
    if (guessed.size >= GUESSED_MAX) guessed.clear();
    guessed.set(url, t);
  }
  return t;
}

/** Number of guessed templates kept (for tests). */
export function guessedTemplatesKept(): number {
  return guessed.size;
}

/** The default route source: the guessed template, with 404s folded into {@link UNMATCHED}. */
export const guessedRoute: RouteSource = (req, res) =>
  res.statusCode === 404 ? undefined : cachedTemplate(req.url);

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
  /** The route last recorded and its entry of `#cache` (a run of one route's requests skips the Map). */
  #lastRoute: string | undefined = undefined;
  #lastByRoute: (Series | undefined)[] | undefined = undefined;
  /** Requests recorded since the tracker was built (read by the `self` check of `monitor.handler`). */
  recorded = 0;

  constructor(recorder: Recorder, opts: TrackerOptions = {}) {
    this.#recorder = recorder;
    this.#errors4xx = opts.errorStatuses === '4xx+5xx';
    this.now = opts.now ?? (() => performance.now());
  }

  /**
   * Starts timing a request; it is recorded when its response is done (finished, or aborted by
   * the client).
   * Tracking the same response twice keeps the first start and takes the newer route.
   */
  track(req: IncomingMessage, res: ServerResponse, route?: RouteSource): void {
    const m = started;
    const known = m !== undefined && m.response === res; // node just started it: no need to read req
    const slot = slotOf(known ? m.socket : (req.socket as TrackedSocket | null));
    const st = slot ? find(slot, res) : stateOf(res);
    if (st) {
      if (route !== undefined) st.route = route;
      return;
    }
    const fresh: TrackState = {
      tracker: this,
      req,
      res,
      t0: this.now(),
      route,
      thrown: false,
      method: known ? startedMethod : undefined,
      note: undefined,
    };
    if (!slot) res.on('close', closeListener(fresh));
    else if (slot.first === undefined) slot.first = fresh;
    else if (slot.more === undefined) slot.more = [fresh];
    else slot.more.push(fresh);
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

  /**
   * Records a finished or aborted response (called when it is done; the benchmarks call it directly).
   * `aborted`: the client went away before the response was complete.
   */
  finish(st: TrackState, res: ServerResponse, aborted: boolean): void {
    const end = this.now();
    this.recorded++;
    const duration = end - st.t0;
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
    const m = methodIndex(st.method ?? st.req.method);
    const slot = m * CLASS_SLOTS + (aborted ? CLASS_SLOTS - 1 : classIndex(status));
    let byRoute = routeLabel === this.#lastRoute ? this.#lastByRoute : this.#cache.get(routeLabel);
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
    if (byRoute !== undefined) {
      this.#lastRoute = routeLabel;
      this.#lastByRoute = byRoute;
    }
    const off = this.wallOffset;
    this.#recorder.observe(series, duration, error, off === undefined ? undefined : end + off);
  }
}
