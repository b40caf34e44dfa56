/** Building the checks a config names, plus the built-in host and self checks. */
import type { z } from 'zod';
import type { ResolvedConfig } from '../config/load.js';
import { checkKind } from './registry.js';
import type { CheckContext, CheckDefaults, CheckSpecBase, HealthCheck } from './types.js';

/**
 * The built-in checks (with `health.builtin_checks`, for kinds and names the config does not already use).
 * None is critical: a hot CPU, a filling disk or prodmon's own store must not make a load balancer pull
 * every replica at once; they degrade the status and raise alerts instead.
 */
export const BUILTIN_KINDS = ['disk', 'memory', 'cpu', 'event_loop', 'self'] as const;

/** The specs of the built-in checks this config gets. */
export function builtinSpecs(config: ResolvedConfig): (CheckSpecBase & Record<string, unknown>)[] {
  if (!config.health.builtin_checks) return [];
  const kinds = new Set(config.health.checks.map((c) => c.kind));
  const names = new Set(config.health.checks.map((c) => c.name));
  return BUILTIN_KINDS.filter((k) => !kinds.has(k) && !names.has(k)).map((kind) => ({
    name: kind,
    kind,
    timeout: 5000,
    critical: false,
    ...(kind === 'disk' ? { paths: [config.dataDir] } : {}),
  }));
}

/** The config-wide defaults of check options: `alerting.thresholds` and the data directory. */
export function checkDefaults(config: ResolvedConfig): CheckDefaults {
  const t = config.alerting.thresholds;
  return {
    dataDir: config.dataDir,
    cpu: t.cpu_usage,
    memory: t.memory_usage,
    disk: t.disk_usage,
    httpLatency: t.api_response_time.warning,
    databaseLatency: t.database_query_time.warning,
  };
}

/**
 * Every configured check (validated config), then the built-ins; each kind gets its own options, with
 * the defaults of its schema and the config-wide ones applied.
 */
export function buildChecks(config: ResolvedConfig, ctx: CheckContext): HealthCheck[] {
  const defaults = checkDefaults(config);
  const specs = [...config.health.checks, ...builtinSpecs(config)] as (CheckSpecBase &
    Record<string, unknown>)[];
  return specs.map((spec) => {
    const def = checkKind(spec.kind);
    if (!def) throw new Error(`unknown check kind "${spec.kind}"`); // config validation rules this out
    // Built-ins skip config validation: apply the kind's defaults the same way.
    const parsed = config.health.checks.includes(spec as never) ? spec : withDefaults(def.shape, spec);
    const spec0 = parsed as CheckSpecBase & Record<string, unknown>;
    return def.create(def.resolve ? def.resolve(spec0, defaults) : spec0, ctx);
  });
}

function withDefaults(shape: z.ZodRawShape, spec: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...spec };
  for (const [key, schema] of Object.entries(shape)) {
    const r = (schema as z.ZodType).safeParse(spec[key]);
    if (r.success) out[key] = r.data;
  }
  return out;
}
