/**
 * The Fastify plugin: records every request under `request.routeOptions.url` (`/products/:id`), 404s
 * under one label, errors thrown by handlers as failures. Registered with `skip-override`, so its hooks
 * apply to the whole instance without fastify-plugin.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type RequestTracker, UNMATCHED } from './track.js';

interface FastifyLike {
  addHook(name: string, fn: (...args: never[]) => unknown): unknown;
}
interface RequestLike {
  raw: IncomingMessage;
  routeOptions?: { url?: string };
  is404?: boolean;
}
interface ReplyLike {
  raw: ServerResponse;
}

/** A Fastify plugin function, usable with `fastify.register(plugin)`. */
export type FastifyPlugin = ((instance: FastifyLike, opts: unknown, done: (err?: Error) => void) => void) & {
  [k: symbol]: unknown;
};

/** `await fastify.register(monitor.fastifyPlugin)`. */
export function fastifyPlugin(tracker: RequestTracker): FastifyPlugin {
  const plugin = ((instance: FastifyLike, _opts: unknown, done: (err?: Error) => void) => {
    instance.addHook('onRequest', ((request: RequestLike, reply: ReplyLike, next: () => void) => {
      const url = request.is404 ? undefined : request.routeOptions?.url;
      tracker.track(request.raw, reply.raw, url || UNMATCHED);
      next();
    }) as never);
    instance.addHook('onError', ((
      _request: RequestLike,
      reply: ReplyLike,
      error: unknown,
      next: () => void,
    ) => {
      tracker.markError(reply.raw, error);
      next();
    }) as never);
    done();
  }) as FastifyPlugin;
  plugin[Symbol.for('skip-override')] = true;
  plugin[Symbol.for('fastify.display-name')] = 'prodmon';
  return plugin;
}
