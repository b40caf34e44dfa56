/**
 * Koa middleware: records every request under the template @koa/router matched (`ctx._matchedRoute`),
 * unmatched ones under one label, and counts thrown errors (unless they carry a 4xx status).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestTracker } from './track.js';

/** The parts of a Koa context the middleware reads. */
export interface KoaContext {
  req: IncomingMessage;
  res: ServerResponse;
  _matchedRoute?: string | RegExp;
}

/** `app.use(monitor.koa())` — put it first. */
export function koaMiddleware(tracker: RequestTracker) {
  return async function prodmonKoa(ctx: KoaContext, next: () => Promise<unknown>): Promise<void> {
    tracker.track(ctx.req, ctx.res, () => ctx._matchedRoute);
    try {
      await next();
    } catch (err) {
      tracker.markError(ctx.res, err);
      throw err;
    }
  };
}
