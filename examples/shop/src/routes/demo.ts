/** `/_demo/fault`: switch the demo's faults at run time; needs the demo's admin token. */
import { createHash, timingSafeEqual } from 'node:crypto';
import { type Request, Router } from 'express';
import { z } from 'zod';
import { ShopError } from '../errors.js';
import { FAULT_NAMES, type Faults } from '../faults.js';
import type { Telemetry } from '../telemetry.js';
import { parse } from './validate.js';

const body = z.object({ fault: z.enum(FAULT_NAMES), on: z.boolean() });
const digest = (s: string) => createHash('sha256').update(s).digest();

/** The control routes; every request must carry `Authorization: Bearer <token>`. */
export function demoRouter(faults: Faults, token: string, telemetry: Telemetry): Router {
  const expected = digest(token);
  const r = Router();
  r.use((req: Request, _res, next) => {
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!m || !timingSafeEqual(digest(m[1]!), expected)) {
      telemetry.security({ type: 'api_auth_failure', ip: req.ip, reason: m ? 'invalid token' : 'no token' });
      next(new ShopError(401, 'unauthorized', 'the demo token is required (Authorization: Bearer <token>)'));
      return;
    }
    next();
  });
  r.get('/fault', (_req, res) => {
    res.json({ active: faults.active(), available: FAULT_NAMES });
  });
  r.post('/fault', (req, res) => {
    const b = parse(body, req.body ?? {});
    faults.set(b.fault, b.on);
    telemetry.logger.app.warn({ fault: b.fault, on: b.on }, `demo fault ${b.fault} ${b.on ? 'on' : 'off'}`);
    res.json({ active: faults.active() });
  });
  return r;
}
