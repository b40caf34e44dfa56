/**
 * Health in the IETF draft "Health Check Response Format for HTTP APIs" (draft-inadarei-api-health-check),
 * served as `application/health+json` when a client asks for it in `Accept`:
 *
 * - `status`: `healthy` -> `pass`, `degraded` -> `warn`, `unhealthy` -> `fail`; draining -> `fail` with
 *   `output: "draining"`;
 * - `checks`, keyed `<check name>:<measurement>`, each an array of
 *   `{ componentId?, componentType, observedValue, observedUnit, status, time, output? }`:
 *   `responseTime` (ms) for every check, plus `utilization` (%) for `cpu`, `memory` and `disk` (one entry
 *   per path, `componentId` = the path) and `delay` (the p99 event loop delay, ms) for `event_loop`.
 *   `output` is the check's error and, as the draft says, left out when the status is `pass`.
 *
 * The anonymous `/health/` answer carries `status` only (and `output` while draining); the detailed one,
 * behind a token, also `version`, `releaseId`, `serviceId`, `description`, `checks` and `notes`.
 */
import type { HealthStatus } from '../domain/health.js';
import { VERSION } from '../version.js';
import type { HealthReport } from './service.js';

/** The media type of the format. */
export const HEALTH_JSON = 'application/health+json';

/** A status in the draft's words. */
export type HealthJsonStatus = 'pass' | 'warn' | 'fail';

/** prodmon's statuses in the draft's words. */
export const HEALTH_JSON_STATUS: Readonly<Record<HealthStatus, HealthJsonStatus>> = {
  healthy: 'pass',
  degraded: 'warn',
  unhealthy: 'fail',
};

/** One entry of `checks` (the draft's "check" object). */
export interface HealthJsonCheck {
  componentId?: string;
  componentType: string;
  observedValue: number | null;
  observedUnit: string;
  status: HealthJsonStatus;
  /** When the value was observed (ISO 8601). */
  time: string;
  output?: string;
}

/** A health+json document. */
export interface HealthJsonBody {
  status: HealthJsonStatus;
  version?: string;
  releaseId?: string;
  serviceId?: string;
  description?: string;
  output?: string;
  notes?: string[];
  checks?: Record<string, HealthJsonCheck[]>;
}

const QUALITY = /;\s*q\s*=\s*([0-9.]+)/i;

/** The q-value `Accept` gives `type` (exact, `type/*` or `*\/*`, the most specific wins), 0 when absent. */
function quality(ranges: string[], type: string): number {
  const [major] = type.split('/');
  let best = -1;
  let q = 0;
  for (const range of ranges) {
    const media = range.split(';')[0]!.trim().toLowerCase();
    const specificity = media === type ? 3 : media === `${major}/*` ? 2 : media === '*/*' ? 1 : 0;
    if (specificity === 0 || specificity < best) continue;
    const m = QUALITY.exec(range);
    const value = m ? Number(m[1]) : 1;
    if (specificity > best || value > q) q = Number.isFinite(value) ? value : 0;
    best = specificity;
  }
  return q;
}

/**
 * Whether an `Accept` header asks for `application/health+json`: it names the type with a q-value above
 * 0 and at least as high as plain `application/json`'s. Without the type named, JSON stays the answer.
 */
export function wantsHealthJson(accept: string | string[] | undefined): boolean {
  const text = Array.isArray(accept) ? accept.join(',') : accept;
  if (!text?.toLowerCase().includes(HEALTH_JSON)) return false;
  const ranges = text.split(',');
  const q = quality(ranges, HEALTH_JSON);
  return q > 0 && q >= quality(ranges, 'application/json');
}

/** An answer of the anonymous `/health/` route. */
export interface HealthAnswer {
  code: number;
  contentType: string;
  body: string;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const HJ_TYPE = `${HEALTH_JSON}; charset=utf-8`;
const OVERALL: Record<HealthStatus | 'draining', { json: string; healthJson: string }> = {
  healthy: { json: '{"status":"healthy"}', healthJson: '{"status":"pass"}' },
  degraded: { json: '{"status":"degraded"}', healthJson: '{"status":"warn"}' },
  unhealthy: { json: '{"status":"unhealthy"}', healthJson: '{"status":"fail"}' },
  draining: { json: '{"status":"draining"}', healthJson: '{"status":"fail","output":"draining"}' },
};

/**
 * The answer of `/health/`: 503 when unhealthy or draining, else 200; the body in prodmon's JSON or, when
 * `healthJson`, in the draft's format. Bodies are prebuilt strings: this is the load balancers' hot path.
 */
export function overallAnswer(status: HealthStatus | 'draining', healthJson: boolean): HealthAnswer {
  const b = OVERALL[status];
  return {
    code: status === 'unhealthy' || status === 'draining' ? 503 : 200,
    contentType: healthJson ? HJ_TYPE : JSON_TYPE,
    body: healthJson ? b.healthJson : b.json,
  };
}

/** The content type of a health+json answer. */
export const HEALTH_JSON_CONTENT_TYPE = HJ_TYPE;

const COMPONENT_TYPE: Record<string, string> = {
  postgres: 'datastore',
  mysql: 'datastore',
  sqlite: 'datastore',
  redis: 'datastore',
  cpu: 'system',
  memory: 'system',
  disk: 'system',
  event_loop: 'system',
};

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The detailed report in the draft's format (`draining`: the process is shutting down). */
export function detailedHealthJson(
  report: HealthReport,
  o: { draining: boolean; instanceId: string },
): HealthJsonBody {
  const checks: Record<string, HealthJsonCheck[]> = {};
  for (const r of report.checks) {
    const status = HEALTH_JSON_STATUS[r.status];
    const base = {
      componentType: COMPONENT_TYPE[r.kind] ?? 'component',
      status,
      time: new Date(r.checkedAt).toISOString(),
      ...(status !== 'pass' && r.error ? { output: r.error } : {}),
    };
    checks[`${r.name}:responseTime`] = [{ ...base, observedValue: r.responseTimeMs, observedUnit: 'ms' }];
    const d = r.details;
    if (r.kind === 'cpu' || r.kind === 'memory') {
      checks[`${r.name}:utilization`] = [{ ...base, observedValue: num(d.usedPercent), observedUnit: '%' }];
    } else if (r.kind === 'event_loop') {
      checks[`${r.name}:delay`] = [{ ...base, observedValue: num(d.p99Ms), observedUnit: 'ms' }];
    } else if (r.kind === 'disk' && Array.isArray(d.paths)) {
      checks[`${r.name}:utilization`] = (d.paths as Record<string, unknown>[]).map((p) => {
        const pathStatus = HEALTH_JSON_STATUS[(p.status as HealthStatus) ?? r.status] ?? status;
        return {
          ...base,
          componentId: String(p.path),
          observedValue: num(p.usedPercent),
          observedUnit: '%',
          status: pathStatus,
          ...(pathStatus === 'pass' ? { output: undefined } : {}),
        };
      });
    }
  }
  const notes = report.pending.length > 0 ? [`no result yet: ${report.pending.join(', ')}`] : undefined;
  return {
    status: o.draining ? 'fail' : HEALTH_JSON_STATUS[report.status],
    version: VERSION.split('.')[0]!,
    releaseId: VERSION,
    serviceId: o.instanceId,
    description: 'prodmon health checks',
    ...(o.draining ? { output: 'draining' } : {}),
    ...(notes ? { notes } : {}),
    checks,
  };
}
