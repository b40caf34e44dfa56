/**
 * A `node:http` request-listener wrapper. Without a router there is no route template, so pass
 * `route` (a string or a function of the request); by default one is guessed from the path (numbers,
 * UUIDs and long ids become `:id`) and 404s fold into one label.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestTracker, RouteSource } from './track.js';

/** A node:http request listener (sync or async). */
export type Handler<
  Req extends IncomingMessage = IncomingMessage,
  Res extends ServerResponse = ServerResponse,
> = (req: Req, res: Res) => unknown;

/** Options of `wrap`. */
export interface WrapOptions {
  /** The route template (or a function returning it when the response closes). */
  route?: RouteSource;
  /**
   * Called with an error the handler throws (or rejects with); without it the error is rethrown as if
   * the handler were not wrapped.
   */
  onError?: (err: unknown, req: IncomingMessage, res: ServerResponse) => void;
}

/** `http.createServer(monitor.wrap(handler))`. */
export function wrapHandler<Req extends IncomingMessage, Res extends ServerResponse>(
  tracker: RequestTracker,
  handler: Handler<Req, Res>,
  opts: WrapOptions = {},
): Handler<Req, Res> {
  const fail = (err: unknown, req: Req, res: Res) => {
    tracker.markError(res, err);
    if (!opts.onError) throw err;
    opts.onError(err, req, res);
  };
  return function prodmonWrapped(this: unknown, req: Req, res: Res): unknown {
    tracker.track(req, res, opts.route);
    let out: unknown;
    try {
      out = handler.call(this, req, res);
    } catch (err) {
      fail(err, req, res);
      return undefined;
    }
    if (out && typeof (out as Promise<unknown>).then === 'function') {
      return (out as Promise<unknown>).then(undefined, (err: unknown) => fail(err, req, res));
    }
    return out;
  };
}
