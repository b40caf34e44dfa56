/**
 * The deployment gate over HTTP, for pipelines (`prodmon baseline ... --url`): `GET` and `POST
 * /production/api/baselines` (list, save), `GET` and `DELETE /production/api/baselines/:name` (show,
 * delete), `POST /production/api/baselines/compare` (the comparison's JSON; its `exitCode` is what the
 * CLI exits with). Reading and comparing need role `read`; saving and deleting need `admin`. Bodies are
 * validated by the same schemas as the CLI's flags: a 400 names the field.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DeploymentLookup } from '../../baseline/repository.js';
import { jsonLabel, parseCompareRequest, parseName, parseSaveRequest } from '../../baseline/request.js';
import {
  baselineView,
  compareBaseline,
  deleteBaseline,
  listBaselines,
  requireBaseline,
  saveBaseline,
} from '../../baseline/service.js';
import type { Clock } from '../../core/clock.js';
import { ProdmonError } from '../../core/errors.js';
import type { Recorder } from '../../metrics/recorder.js';
import type { Store } from '../../store/index.js';
import { requireRole, type TokenAuth } from '../auth.js';
import { secure } from '../headers.js';
import { JSON_BODY_LIMIT } from '../limits.js';

/** What the baseline routes use. */
export interface BaselineRouteDeps {
  auth: TokenAuth;
  clock: Clock;
  store: Store;
  /** The monitor's recorder: its unflushed minutes count in windows that end now. */
  recorder: Recorder;
  /** The deploy markers (`before_deploy`); absent: refused with a 400. */
  deployments?: DeploymentLookup | null;
  /** `metrics.flush_interval`: how long after a minute ends other instances' rows may still arrive. */
  settleMs: number;
}

type Req = FastifyRequest<{ Params: { name: string } }>;

/** A body that is not JSON is a 400 saying what was expected. */
function jsonErrors(shape: string) {
  return (err: FastifyError, _req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof ProdmonError) throw err;
    if (
      err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
      err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
      err instanceof SyntaxError
    ) {
      return reply.code(400).send({
        error: { code: 'PRODMON_E_BAD_REQUEST', message: `malformed JSON body; expected ${shape}` },
      });
    }
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return reply.code(415).send({
        error: {
          code: 'PRODMON_E_BAD_REQUEST',
          message: `send JSON with "content-type: application/json": ${shape}`,
        },
      });
    }
    throw err;
  };
}

const SAVE_SHAPE = '{"name": "<name>", "since": "30m"} (or "from"/"to", "instance", "route", "force")';
const COMPARE_SHAPE = '{"baseline": "<name>"} or {"before_deploy": "<version>"}, with "since", "max_p95"...';

/** Registers the baseline routes. */
export function baselineRoutes(app: FastifyInstance, deps: BaselineRouteDeps): void {
  const api = '/production/api/baselines';
  const read = requireRole(deps.auth, 'read');
  // Admin only: a role made for deploy pipelines would be accepted here too.
  const admin = requireRole(deps.auth, 'admin');
  const gate = {
    store: deps.store,
    recorder: deps.recorder,
    clock: deps.clock,
    deployments: deps.deployments,
    settleMs: deps.settleMs,
  };

  app.get(api, read, async (_req, reply) =>
    secure(reply).send({ baselines: await listBaselines(deps.store) }),
  );

  app.post(
    api,
    { ...admin, bodyLimit: JSON_BODY_LIMIT, errorHandler: jsonErrors(SAVE_SHAPE) },
    async (req, reply) => {
      const request = parseSaveRequest(req.body ?? {}, jsonLabel, deps.clock.now());
      const baseline = await saveBaseline(gate, request, req.principal!.name, jsonLabel);
      return secure(reply).code(201).send({ baseline });
    },
  );

  app.post(
    `${api}/compare`,
    { ...read, bodyLimit: JSON_BODY_LIMIT, errorHandler: jsonErrors(COMPARE_SHAPE) },
    async (req, reply) => {
      const request = parseCompareRequest(req.body ?? {}, jsonLabel, deps.clock.now());
      return secure(reply).send(await compareBaseline(gate, request, jsonLabel));
    },
  );

  app.get(`${api}/:name`, read, async (req: Req, reply) => {
    const name = parseName(req.params.name, jsonLabel);
    return secure(reply).send({ baseline: baselineView(await requireBaseline(deps.store, name)) });
  });

  app.delete(`${api}/:name`, admin, async (req: Req, reply) => {
    const name = parseName(req.params.name, jsonLabel);
    await deleteBaseline(gate, name, req.principal!.name);
    return secure(reply).send({ deleted: name });
  });
}
