/**
 * prodmon's HTTP routes on one Fastify instance, served standalone (`listen`) or mounted into a user's
 * app (`handler`). The route modules are given by the caller (app.ts), each bound to its own
 * dependencies: this module knows none of them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import { Readable } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { SecurityEvent } from '../alerting/sources.js';
import type { Clock } from '../core/clock.js';
import { ProdmonError } from '../core/errors.js';
import { closeUnread, hasBody, type TokenAuth } from './auth.js';
import { securityEvents } from './auth-log.js';
import { JSON_BODY_LIMIT } from './limits.js';

/** A route module bound to its dependencies: registers its routes on the (prefixed) instance. */
export type Routes = (app: FastifyInstance) => void | Promise<void>;

/** What the HTTP layer is built from. */
export interface HttpDeps {
  /** `server.prefix`: every route is under it. */
  prefix: string;
  clock: Clock;
  auth: TokenAuth;
  /** A refused request (counted by the `security` rules; `log`: its line is within the log budget). */
  onSecurityEvent(event: SecurityEvent, log: boolean): void;
  /** A request failed with an unexpected error (answered 500). */
  onError(err: unknown): void;
  /** The route modules, in order. */
  routes: readonly Routes[];
}

/** The top-level path segments prodmon answers (under the configured prefix). */
export const OWNED_ROOTS = ['health', 'production', 'metrics'];

/**
 * Whether a request URL is one of prodmon's paths under `prefix` (a root itself, or below it; the
 * query string aside). Read on every request through `monitor.handler`: no string is built.
 */
export function ownedPaths(prefix: string): (url: string | undefined) => boolean {
  const roots = OWNED_ROOTS.map((r) => `${prefix}/${r}`);
  return (url) => {
    const u = url ?? '/';
    for (const root of roots) {
      if (!u.startsWith(root)) continue;
      const after = u.charCodeAt(root.length); // NaN at the end
      if (Number.isNaN(after) || after === 47 /* / */ || after === 63 /* ? */) return true;
    }
    return false;
  };
}

const STATUS_OF: Partial<Record<ProdmonError['code'], number>> = {
  PRODMON_E_BAD_REQUEST: 400,
  PRODMON_E_UNAUTHORIZED: 401,
  PRODMON_E_FORBIDDEN: 403,
  PRODMON_E_NOT_FOUND: 404,
  PRODMON_E_CONFLICT: 409,
};

/** Fastify with every route module, plus the raw handler for embedding. */
export interface HttpServer {
  app: FastifyInstance;
  /** A `node:http` request handler; `next` is called for paths prodmon does not own. */
  handler(req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): void;
}

function notFound(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply.code(404).send({
    error: { code: 'PRODMON_E_NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` },
  });
}

/** Builds the HTTP layer (routes registered, not listening). */
export async function buildHttp(deps: HttpDeps): Promise<HttpServer> {
  let fastifyHandler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const app = Fastify({
    logger: false,
    bodyLimit: JSON_BODY_LIMIT,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    serverFactory(handler) {
      fastifyHandler = handler;
      return createServer(handler);
    },
  });

  // Mounted after a host app's body parser, the request stream is already read: parse from its body.
  app.addHook('preParsing', async (request, reply, payload) => {
    const raw = request.raw as IncomingMessage & { body?: unknown };
    if (raw.readableEnded && raw.body !== undefined) {
      const text =
        typeof raw.body === 'string' || Buffer.isBuffer(raw.body) ? raw.body : JSON.stringify(raw.body);
      const body = Buffer.from(text);
      // A parsed form re-encoded as JSON differs in length from what came over the wire: tell Fastify the wire length.
      const wire = Number(request.headers['content-length']);
      return Object.assign(Readable.from([body]), {
        receivedEncodedLength: Number.isFinite(wire) && wire > 0 ? wire : body.length,
      });
    }
    // No such route: answered without reading the body sent along (the connection is closed after).
    if (request.is404 && hasBody(request)) {
      notFound(request, closeUnread(reply));
      return;
    }
    return payload;
  });

  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof ProdmonError) {
      return reply.code(STATUS_OF[err.code] ?? 500).send({ error: { code: err.code, message: err.message } });
    }
    const fe = err as { statusCode?: number; code?: string; message?: string };
    if (fe.statusCode && fe.statusCode < 500) {
      return reply.code(fe.statusCode).send({
        error: { code: 'PRODMON_E_BAD_REQUEST', message: fe.message ?? 'bad request' },
      });
    }
    deps.onError(err);
    return reply.code(500).send({ error: { code: 'PRODMON_E_INTERNAL', message: 'internal error' } });
  });
  app.setNotFoundHandler(notFound);

  // Refused requests on every route are security events (counted; their log lines bounded).
  deps.auth.events ??= securityEvents(deps.clock, (event, log) => deps.onSecurityEvent(event, log));

  const { prefix } = deps;
  await app.register(
    async (scoped) => {
      for (const routes of deps.routes) await routes(scoped);
    },
    { prefix },
  );
  await app.ready();

  const owned = ownedPaths(prefix);
  return {
    app,
    handler(req, res, next) {
      if (next && !owned(req.url)) return next();
      fastifyHandler!(req, res);
    },
  };
}
