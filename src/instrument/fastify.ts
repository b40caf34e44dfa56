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

/** The route context Fastify keeps on each request (under a private symbol): its config names the route. */
interface RouteContextLike {
  config?: { url?: string };
}

/**
 * The route template of a request, or undefined for a 404. `request.routeOptions` would say the same,
 * but its getter builds a 12-field object on every read (with `is404`: a small cost, but paid on every
 * request for nothing); the context it
 * reads from sits on the request under Fastify's `Symbol('fastify.context')`, found on the first
 * request (`is404` reads the same `config.url`).
 * When a Fastify version keeps it elsewhere, the public getters are used.
 */
export function routeReader(): (request: RequestLike) => string | undefined {
  let key: symbol | null | undefined; // undefined: not looked for yet; null: not there
  return (request) => {
    if (key === undefined) {
      key = Object.getOwnPropertySymbols(request).find((s) => s.description === 'fastify.context') ?? null;
    }
    const ctx =
      key === null ? undefined : ((request as unknown as Record<symbol, unknown>)[key] as RouteContextLike);
    if (ctx && typeof ctx === 'object' && 'config' in ctx) return ctx.config?.url;
    return request.is404 ? undefined : request.routeOptions?.url;
  };
}

/** `await fastify.register(monitor.fastifyPlugin)`. */
export function fastifyPlugin(tracker: RequestTracker): FastifyPlugin {
  const plugin = ((instance: FastifyLike, _opts: unknown, done: (err?: Error) => void) => {
    const routeOf = routeReader();
    instance.addHook('onRequest', ((request: RequestLike, reply: ReplyLike, next: () => void) => {
      tracker.track(request.raw, reply.raw, routeOf(request) || UNMATCHED);
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
