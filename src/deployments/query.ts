/**
 * The marker list's filters from text (query strings, CLI options), validated by one zod schema; a
 * 400 (exit code 2 in the CLI) names the parameter.
 */
import { z } from 'zod';
import { intText, parseParams, text, timeText } from '../alerting/query.js';
import { type DeploymentQuery, MAX_DEPLOYMENT_LIST, MAX_INSTANCE_LENGTH } from '../domain/deployment.js';

/** How many markers a list returns when no `limit` is given. */
export const DEFAULT_DEPLOYMENT_LIST = 100;

/** The schema of the list parameters at `now` (times may be durations back from it: `since=7d`). */
function querySchema(now: number) {
  return z.object({
    since: timeText('since', now),
    until: timeText('until', now),
    // An empty value is no filter, as for the alert list's parameters.
    instance: z.preprocess(
      (v) => (v === '' ? undefined : v),
      text('instance')
        .regex(new RegExp(`^[\\w.:@/-]{1,${MAX_INSTANCE_LENGTH}}$`), {
          error: `"instance" must be 1-${MAX_INSTANCE_LENGTH} characters of letters, digits and _.:@/-`,
        })
        .optional(),
    ),
    limit: intText('limit', 1, MAX_DEPLOYMENT_LIST, DEFAULT_DEPLOYMENT_LIST),
  });
}

/** The filter of `GET /production/api/deployments` and `prodmon deploy list`. */
export function deploymentQuery(q: Record<string, unknown>, now: number): DeploymentQuery {
  const p = parseParams(querySchema(now), q);
  return {
    ...(p.since !== undefined ? { since: p.since } : {}),
    ...(p.until !== undefined ? { until: p.until } : {}),
    ...(p.instance ? { instance: p.instance } : {}),
    limit: p.limit,
  };
}
