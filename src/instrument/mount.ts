/**
 * The requests that prodmon's mounted handler (`monitor.handler`) passes on to the app: each is tracked
 * by the request tracker (src/instrument/track.ts), the same path as the adapters' — an adapter that
 * tracks the same response again (`monitor.middleware()`, the Fastify plugin, `monitor.koa()`) only
 * names its route, so nothing is recorded twice.
 *
 * The route template: on an Express request, the route the router matches (`req.baseUrl` +
 * `req.route.path`, as `monitor.middleware()` reads it); on any other request, guessed from the path
 * as `wrap` guesses it, unless an adapter names it.
 *
 * It also counts what it passes on, so the `self` check can tell when requests pass but none is
 * recorded (see {@link PassOnWatch}).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { expressRoute, isExpressRequest, prepareExpressRoutes } from './express.js';
import type { RequestTracker, RouteSource } from './track.js';

/** Records the requests passed on by `monitor.handler`. */
export class PassOn {
  /** Requests passed on since the monitor was built. */
  passed = 0;
  readonly tracker: RequestTracker;
  /** The prototype of the last request and the route source chosen for it (one check per kind of request). */
  #proto: object | null = null;
  #route: RouteSource | undefined = undefined;

  constructor(tracker: RequestTracker) {
    this.tracker = tracker;
  }

  /** Tracks a request about to be passed on to the app. */
  record(req: IncomingMessage, res: ServerResponse): void {
    this.passed++;
    const proto: object | null = Object.getPrototypeOf(req);
    if (proto !== this.#proto) {
      this.#proto = proto;
      this.#route = undefined; // guessed when the response is done
      if (isExpressRequest(proto)) {
        prepareExpressRoutes(req);
        this.#route = expressRoute;
      }
    }
    this.tracker.track(req, res, this.#route);
  }
}

/** A reading of the counters at one moment. */
interface Reading {
  at: number;
  passed: number;
  recorded: number;
}

/** The shortest window the `self` probe looks at. */
export const PASS_ON_WINDOW_MS = 60_000;
/** How long a request passed on may take before it counts as not recorded. */
export const PASS_ON_SETTLE_MS = 30_000;

/**
 * The window for readings taken every `intervalMs`: at least a minute, and long enough to hold a
 * reading between a request passing and the settle time.
 */
export function passOnWindow(intervalMs: number): number {
  return Math.max(PASS_ON_WINDOW_MS, PASS_ON_SETTLE_MS + 2 * intervalMs);
}

/** Readings kept (the `self` check runs every `health.refresh_interval`, 10 s: about 7 in a window). */
const MAX_READINGS = 64;

/** What the watch found: a sentence when requests passed on were not recorded, else null. */
export type PassOnFinding = { passed: number; spanMs: number; message: string } | null;

/**
 * Compares what `monitor.handler` passed on with what the tracker recorded: requests that passed in
 * the last minute (and at least {@link PASS_ON_SETTLE_MS} ago, so those still running do not count)
 * while no request at all was recorded since is a finding. Read at every run of the `self` check
 * (`windowMs` from {@link passOnWindow} of its interval).
 */
export class PassOnWatch {
  readonly #passOn: PassOn;
  readonly #windowMs: number;
  /** Readings, oldest first: the newest one at least a window old, then those within the window. */
  readonly #readings: Reading[];

  constructor(passOn: PassOn, now: number, windowMs = PASS_ON_WINDOW_MS) {
    this.#passOn = passOn;
    this.#windowMs = windowMs;
    this.#readings = [{ at: now, passed: passOn.passed, recorded: passOn.tracker.recorded }];
  }

  /** Takes a reading at `now` and says whether requests passed on went unrecorded. */
  check(now: number): PassOnFinding {
    const current: Reading = {
      at: now,
      passed: this.#passOn.passed,
      recorded: this.#passOn.tracker.recorded,
    };
    const r = this.#readings;
    if (now >= r[r.length - 1]!.at) r.push(current);
    while (r.length > 2 && r[1]!.at <= now - this.#windowMs) r.shift();
    if (r.length > MAX_READINGS) r.splice(1, 1); // read more often than usual: fewer steps, same window
    const base = r[0]!;
    let settled = base;
    for (let i = r.length - 1; i > 0; i--) {
      if (r[i]!.at <= now - PASS_ON_SETTLE_MS) {
        settled = r[i]!;
        break;
      }
    }
    const passed = settled.passed - base.passed;
    if (passed <= 0 || current.recorded > base.recorded) return null;
    const spanMs = now - base.at;
    return {
      passed,
      spanMs,
      message: `${passed} request${passed === 1 ? '' : 's'} passed monitor.handler in the last ${Math.round(spanMs / 1000)} s but none was recorded`,
    };
  }
}
