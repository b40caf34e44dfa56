/** The API's 404 and error answers: `{ error: { code, message, ... } }`, never a stack or a secret. */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ShopError } from '../errors.js';
import type { ShopLogger } from '../telemetry.js';

/** 404 for paths no route answers. */
export const notFoundHandler: RequestHandler = (req, res) => {
  res.status(404).json({ error: { code: 'not_found', message: `no route ${req.method} ${req.path}` } });
};

/** Maps errors to answers; logs server-side failures to the error log. */
export function errorHandler(logger: ShopLogger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) return next(err);
    if (err instanceof ShopError) {
      if (err.status >= 500)
        logger.error.error({ code: err.code, method: req.method, path: req.path }, err.message);
      res.status(err.status).json({ error: { code: err.code, message: err.message, ...err.details } });
      return;
    }
    // body-parser's errors carry a status and a type (bad JSON, too large, wrong charset).
    const e = err as { status?: number; type?: string; message?: string };
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      res
        .status(e.status)
        .json({ error: { code: e.type ?? 'bad_request', message: e.message ?? 'bad request' } });
      return;
    }
    const info =
      err instanceof Error
        ? { name: err.name, message: err.message, stack: err.stack }
        : { message: String(err) };
    logger.error.error({ err: info, method: req.method, path: req.path }, 'request failed');
    res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
  };
}
