/**
 * Express/Connect middleware: records every request under its route template, `req.baseUrl` +
 * `req.route.path` (so `/api` + `/products/:id`), taken when the router matches the route; unmatched
 * requests fold into one label.
 *
 * The mount prefix has to be read at match time: when a route of a mounted router fails, the router
 * restores `req.baseUrl` before the error reaches the app's error handler, so at close it is gone. The
 * middleware therefore puts a `route` accessor on Express's request prototype (once, on the first
 * request): the router's own `req.route = route` then also notes the `baseUrl` of that moment, in the
 * tracker's state of the request (see routeAccessor). Reads of `req.route` are unchanged. Where the
 * accessor cannot be installed, the prefix is read at close.
 */
import { IncomingMessage, type ServerResponse } from 'node:http';
import { followRequestStarts, type RequestTracker, requestState, UNMATCHED } from './track.js';

/** The route the router matched and `req.baseUrl` at that moment. */
interface Match {
  route: { path?: unknown } | undefined;
  base: string | undefined;
}

type ExpressRequest = IncomingMessage & {
  route?: { path?: unknown };
  baseUrl?: string;
  [kMatch]?: Match;
};

/**
 * Where the accessor keeps the match of a request not tracked on its connection, on the request
 * (shared by copies of this module). One property, in place of the `route` property the router would
 * otherwise add: Express requests get a hidden
 * class of their own at every added property (their prototype was swapped), so each one costs.
 */
const kMatch = Symbol.for('prodmon.express.match');
/** Marks a prototype that carries the accessor. */
const kInstalled = Symbol.for('prodmon.express.routeAccessor');

/**
 * On a request tracked on its connection, the match goes to the tracker's state (the route as the
 * template string, the route object as the state's note), so nothing is added to `req`; otherwise to
 * the request's own kMatch property.
 */
const routeAccessor: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: ExpressRequest) {
    // (a route matched before prodmon tracked the request, e.g. its middleware mounted on the route,
    // was noted on the request itself)
    const noted = requestState(this)?.note as Match['route'];
    return noted !== undefined ? noted : this[kMatch]?.route;
  },
  set(this: ExpressRequest, route: { path?: unknown } | undefined) {
    const base = this.baseUrl;
    const st = requestState(this);
    if (st === undefined) {
      this[kMatch] = { route, base };
      return;
    }
    st.note = route;
    st.route = route?.path === undefined ? UNMATCHED : template(route.path, base);
  },
};

/**
 * The prototype to carry the accessor: Express's `request` (the last object before
 * `IncomingMessage.prototype`, shared by an app and its sub-apps), or null for a plain request.
 */
function requestPrototype(req: IncomingMessage): object | null {
  let proto: object | null = Object.getPrototypeOf(req);
  let below: object | null = null;
  while (proto !== null && proto !== IncomingMessage.prototype && proto !== Object.prototype) {
    below = proto;
    proto = Object.getPrototypeOf(proto);
  }
  return below;
}

/** Installs the `route` accessor on this request's prototype chain, where it can. */
function installRouteCapture(req: IncomingMessage): void {
  const proto = requestPrototype(req) as (object & { [kInstalled]?: boolean }) | null;
  if (proto === null || proto[kInstalled]) return;
  const own = Object.getOwnPropertyDescriptor(proto, 'route');
  if ((own && !own.configurable) || Object.hasOwn(req, 'route')) return;
  Object.defineProperty(proto, 'route', routeAccessor);
  Object.defineProperty(proto, kInstalled, { value: true });
}

function template(path: unknown, base: string | undefined): string {
  const p = typeof path === 'string' ? path : String(path);
  if (!base) return p;
  return p === '/' ? base : `${base}${p}`;
}

/**
 * The Express route template of a request, or undefined when no route matched: the prefix noted when
 * the route matched, else (accessor not installed) `req.baseUrl` as it is now.
 */
export function expressRoute(req: IncomingMessage): string | undefined {
  const r = req as ExpressRequest;
  const m = r[kMatch];
  if (m !== undefined) return m.route?.path === undefined ? undefined : template(m.route.path, m.base);
  const route = r.route;
  if (!route || route.path === undefined) return undefined;
  return template(route.path, r.baseUrl);
}

/** Whether a request's prototype is an Express app's `request` (which carries the app). */
export function isExpressRequest(proto: object | null): boolean {
  return proto !== null && proto !== IncomingMessage.prototype && Object.hasOwn(proto, 'app');
}

/**
 * Prepares reading the route of Express requests like `req` with {@link expressRoute}: the `route`
 * accessor on their prototype, and the socket and method of each request read from node's message
 * rather than from Express's `req`. Once per kind of request is enough.
 */
export function prepareExpressRoutes(req: IncomingMessage): void {
  followRequestStarts();
  installRouteCapture(req);
}

/** `app.use(monitor.middleware())` — put it first, before the routes. */
export function expressMiddleware(tracker: RequestTracker) {
  followRequestStarts(); // the socket and method of each request from node's message, not Express's req
  let tried = false; // the accessor is installed (or found impossible) on the first request
  return function prodmonMiddleware(
    req: IncomingMessage,
    res: ServerResponse,
    next: (err?: unknown) => void,
  ): void {
    if (!tried) {
      tried = true;
      prepareExpressRoutes(req);
    }
    tracker.track(req, res, expressRoute);
    next();
  };
}

/**
 * Optional Express error middleware (`app.use(monitor.errorHandler())` after the routes, before your
 * own error handler): counts a thrown error as a failed request even if your handler answers 4xx.
 */
export function expressErrorHandler(tracker: RequestTracker) {
  return function prodmonErrorHandler(
    err: unknown,
    _req: IncomingMessage,
    res: ServerResponse,
    next: (err?: unknown) => void,
  ): void {
    tracker.markError(res, err);
    next(err);
  };
}
