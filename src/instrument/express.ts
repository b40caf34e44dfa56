/**
 * Express/Connect middleware: records every request under its route template, read when the response
 * closes from `req.baseUrl` + `req.route.path` (so `/api` + `/products/:id`); unmatched requests fold
 * into one label.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestTracker } from './track.js';

type ExpressRequest = IncomingMessage & { route?: { path?: unknown }; baseUrl?: string };

/** The Express route template of a request, or undefined when no route matched. */
export function expressRoute(req: IncomingMessage): string | undefined {
  const r = (req as ExpressRequest).route;
  if (!r || r.path === undefined) return undefined;
  const path = typeof r.path === 'string' ? r.path : String(r.path);
  const base = (req as ExpressRequest).baseUrl ?? '';
  if (!base) return path;
  return path === '/' ? base : `${base}${path}`;
}

/** `app.use(monitor.middleware())` — put it first, before the routes. */
export function expressMiddleware(tracker: RequestTracker) {
  return function prodmonMiddleware(
    req: IncomingMessage,
    res: ServerResponse,
    next: (err?: unknown) => void,
  ): void {
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
