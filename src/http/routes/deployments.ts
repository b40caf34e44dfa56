/**
 * Deploy markers over HTTP: `POST /production/api/deployments` records one (role `deploy` or `admin`:
 * what a CI/CD pipeline's token needs), `GET /production/api/deployments` lists them (role `read`).
 * Recording is the one deploy action (src/deployments/mark.ts): validated, stored with its audit row,
 * logged to the security stream.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AlertingLogger } from '../../alerting/sources.js';
import type { Clock } from '../../core/clock.js';
import { MARK_SHAPE, markDeployment, markRequestFromBody } from '../../deployments/mark.js';
import { deploymentQuery } from '../../deployments/query.js';
import type { DeploymentRepository } from '../../deployments/repository.js';
import type { Repos } from '../../store/index.js';
import { requireRole, type TokenAuth } from '../auth.js';
import { secure } from '../headers.js';
import { JSON_BODY_LIMIT } from '../limits.js';
import { jsonErrors } from './alerts.js';

/** What the deployment routes use. */
export interface DeploymentRouteDeps {
  auth: TokenAuth;
  clock: Clock;
  store: { deployments: DeploymentRepository; transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T> };
  /** The security stream gets one line per marker. */
  logger: AlertingLogger;
  /** A marker was recorded (the dashboard's live stream redraws its charts). */
  onChange?: () => void;
}

type Req = FastifyRequest<{ Querystring: Record<string, string> }>;

/** Registers the deployment routes. */
export function deploymentRoutes(app: FastifyInstance, deps: DeploymentRouteDeps): void {
  const path = '/production/api/deployments';
  const read = requireRole(deps.auth, 'read');
  const record = {
    ...requireRole(deps.auth, 'deploy'),
    bodyLimit: JSON_BODY_LIMIT,
    errorHandler: jsonErrors(MARK_SHAPE),
  };

  app.post(path, record, async (req, reply) => {
    const deployment = await markDeployment(deps, markRequestFromBody(req.body, req.principal!.name));
    return secure(reply).code(201).send({ deployment });
  });

  app.get(path, read, async (req: Req, reply) => {
    const q = deploymentQuery(req.query, deps.clock.now());
    return secure(reply).send({ deployments: await deps.store.deployments.list(q), limit: q.limit });
  });
}
