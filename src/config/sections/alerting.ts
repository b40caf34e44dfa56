/**
 * `alerting`: the six built-in threshold rules, extra rules, health-check and security alerts,
 * maintenance windows, and the timing of evaluation, dedup and resolution.
 */
import { Cron } from 'croner';
import { z } from 'zod';
import { ALERT_TYPES, SEVERITIES } from '../../domain/alert.js';
import { AGGREGATIONS } from '../../metrics/rollup.js';
import { anyDuration, count, duration, nearestKey, nonEmpty, obj } from '../zod-helpers.js';

/** The specification's thresholds (warning / critical), on by default. */
export const DEFAULT_THRESHOLDS = {
  api_response_time: { warning: 500, critical: 2000 },
  database_query_time: { warning: 100, critical: 500 },
  memory_usage: { warning: 80, critical: 95 },
  cpu_usage: { warning: 80, critical: 95 },
  error_rate: { warning: 1, critical: 5 },
  disk_usage: { warning: 85, critical: 95 },
} as const;
export type BuiltinMetric = keyof typeof DEFAULT_THRESHOLDS;

/** Bounds of a rule's window: its value is read from that many minutes of rollups at each evaluation. */
const WINDOW = { min: '10s', max: '7d' };
/** Bounds of `for` and `keep_firing_for`. */
const FOR = { max: '1d' };
/** Longest maintenance window (a one-off or each recurrence): a forgotten window hides every alert it covers. */
export const MAX_MAINTENANCE = '90d';

/** `for: 2m` (both levels) or `for: { warning: 2m, critical: 0s }`. */
const forDuration = () =>
  z.union([
    anyDuration(FOR),
    obj({ warning: anyDuration(FOR).optional(), critical: anyDuration(FOR).optional() }),
  ]);

const severityMap = () =>
  obj({ warning: z.enum(SEVERITIES).optional(), critical: z.enum(SEVERITIES).optional() });

/** Knobs every threshold rule shares (built-in or not); unset ones take the section's defaults. */
const tuning = {
  window: anyDuration(WINDOW).optional(),
  /** How long the condition must hold before firing (default 2m for warning, 0 for critical). */
  for: forDuration().optional(),
  /** Clear only once the value is back past this (hysteresis; default: the lowest threshold). */
  clear: z.number().optional(),
  /** Keep firing this long after the condition cleared (flap protection). */
  keep_firing_for: anyDuration(FOR).optional(),
  severity: severityMap().optional(),
  /** Logic-less template: `{{value}}`, `{{threshold}}`, `{{labels.route}}`, `{{rule}}`, `{{severity}}`. */
  message: z.string().optional(),
};

const threshold = (name: BuiltinMetric) =>
  obj({
    warning: z.number().default(DEFAULT_THRESHOLDS[name].warning),
    critical: z.number().default(DEFAULT_THRESHOLDS[name].critical),
    enabled: z.boolean().default(true),
    ...tuning,
  }).prefault({});

/** `check:<name|*>:status` or `check:<name|*>:latency`. */
export const CHECK_METRIC = /^check:([^:]+):(status|latency)$/;

const rule = obj({
  name: nonEmpty(),
  /** A recorded metric (`http_request_duration_ms`...) or `check:<name|*>:status|latency`. */
  metric: nonEmpty(),
  labels: z.record(z.string(), z.string()).default({}),
  /** Evaluate per distinct value of these labels (one alert each). */
  group_by: z.array(z.string()).default([]),
  aggregation: z.enum(AGGREGATIONS).default('p95'),
  /** `above` fires when value > threshold, `below` when value < threshold. */
  direction: z.enum(['above', 'below']).default('above'),
  warning: z.number().optional(),
  critical: z.number().optional(),
  type: z.enum(ALERT_TYPES).default('performance'),
  enabled: z.boolean().default(true),
  ...tuning,
}).superRefine((r, ctx) => {
  const status = CHECK_METRIC.exec(r.metric)?.[2] === 'status';
  if (!status && r.warning === undefined && r.critical === undefined) {
    ctx.addIssue({ code: 'custom', message: 'needs a warning or a critical threshold (or both)' });
  }
  if (r.warning !== undefined && r.critical !== undefined) {
    const wrong = r.direction === 'above' ? r.critical < r.warning : r.critical > r.warning;
    if (wrong) {
      ctx.addIssue({
        code: 'custom',
        path: ['critical'],
        message: `must be ${r.direction === 'above' ? 'at least' : 'at most'} the warning threshold (${r.warning}) for direction "${r.direction}"`,
      });
    }
  }
  const lowest = r.warning ?? r.critical;
  if (r.clear !== undefined && lowest !== undefined) {
    const wrong = r.direction === 'above' ? r.clear > lowest : r.clear < lowest;
    if (wrong) {
      ctx.addIssue({
        code: 'custom',
        path: ['clear'],
        message: `must be ${r.direction === 'above' ? 'at most' : 'at least'} the ${r.warning !== undefined ? 'warning' : 'critical'} threshold (${lowest}): it is where a firing alert clears`,
      });
    }
  }
});

const maintenance = obj({
  name: nonEmpty(),
  /** Cron expression of each window's start (recurring, with `duration`), or `start`/`end` for a one-off. */
  schedule: z.string().optional(),
  duration: anyDuration({ max: MAX_MAINTENANCE }).optional(),
  /** ISO date-time of a one-off window (with `end` or `duration`). */
  start: z.string().optional(),
  end: z.string().optional(),
  /** IANA time zone of `schedule` (default UTC). */
  timezone: z.string().optional(),
  rules: z.array(z.string()).default([]),
  labels: z.record(z.string(), z.string()).default({}),
  types: z.array(z.enum(ALERT_TYPES)).default([]),
  comment: z.string().default(''),
}).superRefine((m, ctx) => {
  if (m.timezone !== undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: m.timezone });
    } catch {
      ctx.addIssue({
        code: 'custom',
        path: ['timezone'],
        message: `unknown time zone "${m.timezone}" (expected an IANA name such as "Europe/Berlin")`,
      });
    }
  }
  if (m.schedule !== undefined) {
    if (m.start !== undefined || m.end !== undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'use either schedule + duration (recurring) or start + end (one-off), not both',
      });
    }
    if (m.duration === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['duration'],
        message: 'a recurring window (schedule) needs a duration',
      });
    try {
      new Cron(m.schedule, { paused: true });
    } catch (err) {
      ctx.addIssue({
        code: 'custom',
        path: ['schedule'],
        message: `invalid cron expression "${m.schedule}": ${(err as Error).message}`,
      });
    }
    return;
  }
  if (m.start === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: 'needs a schedule (cron) + duration, or a start + end (or duration)',
    });
    return;
  }
  for (const key of ['start', 'end'] as const) {
    const v = m[key];
    if (v !== undefined && Number.isNaN(Date.parse(v))) {
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: `expected an ISO date-time such as "2026-03-01T02:00:00Z", got "${v}"`,
      });
    }
  }
  if (m.end === undefined && m.duration === undefined) {
    ctx.addIssue({ code: 'custom', path: ['end'], message: 'a one-off window needs an end or a duration' });
  }
});

const securityGroup = z.enum(['source', 'ip', 'user', 'none']);

const securityRule = obj({
  name: nonEmpty(),
  /** Event kinds counted (`failed_login`, `rate_limit`, ...). */
  kinds: z.array(nonEmpty()).min(1),
  /** One alert per value of this event field (`source` falls back to `ip`). */
  group_by: securityGroup.default('source'),
  window: duration('5m', WINDOW),
  warning: z.number().optional(),
  critical: z.number().optional(),
  for: forDuration().optional(),
  severity: severityMap().optional(),
  message: z.string().optional(),
  enabled: z.boolean().default(true),
}).refine((r) => r.warning !== undefined || r.critical !== undefined, {
  error: 'needs a warning or a critical threshold (or both)',
});

const builtinSecurity = (kinds: string[], warning: number, critical: number) =>
  obj({
    kinds: z.array(nonEmpty()).min(1).default(kinds),
    group_by: securityGroup.default('source'),
    window: duration('5m', WINDOW),
    warning: z.number().default(warning),
    critical: z.number().default(critical),
    enabled: z.boolean().default(true),
  }).prefault({});

/** Which alerts an inhibition side matches: every given matcher must match (none: every alert). */
const alertMatchers = () =>
  obj({
    /** Rule names (any of). */
    rules: z.array(nonEmpty()).min(1).optional(),
    /** Alert types (any of). */
    types: z.array(z.enum(ALERT_TYPES)).min(1).optional(),
    /** Severities (any of). */
    severities: z.array(z.enum(SEVERITIES)).min(1).optional(),
    /** Label values (all of). */
    labels: z.record(z.string(), z.string()).optional(),
  }).prefault({});

/** While a firing alert matches `source`, the alerts matching `target` (with the same `equal` labels) are not notified. */
const inhibitRule = obj({
  /** Shown in the history of inhibited alerts (default: `inhibit_rules[<index>]`). */
  name: nonEmpty().optional(),
  source: alertMatchers(),
  target: alertMatchers(),
  /** Label names whose values must be the same on the source and the target (a label missing on both is equal). */
  equal: z.array(nonEmpty()).default([]),
}).superRefine((r, ctx) => {
  const empty = (m: typeof r.source) => Object.values(m).every((v) => v === undefined);
  if (empty(r.source))
    ctx.addIssue({
      code: 'custom',
      path: ['source'],
      message:
        'needs a matcher (rules, types, severities or labels): an empty source would match every alert',
    });
  if (empty(r.target))
    ctx.addIssue({
      code: 'custom',
      path: ['target'],
      message:
        'needs a matcher (rules, types, severities or labels): an empty target would match every alert',
    });
});

/** Rules every config has (enabled or not): the thresholds, health checks, security counters. */
const BUILTIN_RULES = [...Object.keys(DEFAULT_THRESHOLDS), 'health_check', 'failed_logins', 'rate_limited'];

/** An inhibit rule naming a rule that does not exist would never match: a typo is an error. */
function knownInhibitRules(
  a: {
    rules: { name: string }[];
    security: { rules: { name: string }[] };
    inhibit_rules: { source: { rules?: string[] }; target: { rules?: string[] } }[];
  },
  ctx: z.RefinementCtx,
): void {
  const known = [...BUILTIN_RULES, ...a.rules.map((r) => r.name), ...a.security.rules.map((r) => r.name)];
  a.inhibit_rules.forEach((r, i) => {
    for (const side of ['source', 'target'] as const) {
      (r[side].rules ?? []).forEach((name, j) => {
        if (known.includes(name)) return;
        const near = nearestKey(name, known);
        ctx.addIssue({
          code: 'custom',
          path: ['inhibit_rules', i, side, 'rules', j],
          message: `unknown rule "${name}"${near ? ` (did you mean "${near}"?)` : ` (rules: ${known.join(', ')})`}`,
        });
      });
    }
  });
}

export const alertingSection = obj({
  evaluation_interval: duration('60s', { min: '1s', max: '1h' }),
  /**
   * Fresh data (recorded or pushed), health check results and security events are evaluated at once
   * after a quiet period; what arrives within this window after an evaluation is evaluated together at
   * its end (one evaluation per window under a steady stream). For metric data the window also grows
   * to 20 times the CPU time those evaluations take (so they take at most about 5 % of the CPU).
   */
  coalesce_window: duration('25ms', { min: '10ms', max: '10s' }),
  /** The same alert at the same severity is not notified again within this. */
  cooldown: duration('15m', { max: '7d' }),
  /** A reminder while an alert stays firing. */
  repeat_interval: duration('4h', { min: '1m', max: '30d' }),
  /** An alert whose data stopped arriving resolves (reason `stale`) after this. */
  auto_resolve_after: duration('30m', { min: '1m', max: '30d' }),
  /** Default window of threshold rules. */
  window: duration('5m', WINDOW),
  /** Default `for` of warning-level conditions (critical ones fire at once). */
  warning_for: duration('2m', FOR),
  thresholds: obj({
    api_response_time: threshold('api_response_time'),
    database_query_time: threshold('database_query_time'),
    memory_usage: threshold('memory_usage'),
    cpu_usage: threshold('cpu_usage'),
    error_rate: threshold('error_rate'),
    disk_usage: threshold('disk_usage'),
  }).prefault({}),
  /** Health checks as alerts: unhealthy -> critical (high for non-critical checks), degraded -> medium. */
  health_checks: obj({
    enabled: z.boolean().default(true),
    for: forDuration().optional(),
    severity: severityMap().optional(),
    message: z.string().optional(),
  }).prefault({}),
  /** Extra rules; one named like a built-in replaces it. */
  rules: z
    .array(rule)
    .default([])
    .superRefine((rules, ctx) => {
      const seen = new Set<string>();
      rules.forEach((r, i) => {
        if (seen.has(r.name))
          ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate rule name "${r.name}"` });
        seen.add(r.name);
      });
    }),
  maintenance: z.array(maintenance).default([]),
  /**
   * Most open alerts one rule keeps (one per label set); beyond it, one summary alert per rule counts
   * the rest (labels `overflow: "true"`), and resolves once the rule is back under the cap.
   */
  max_alerts_per_rule: count(100, 1, 100_000),
  /** Root causes: while a source alert fires, the target alerts it names are recorded but not notified. */
  inhibit_rules: z.array(inhibitRule).default([]),
  /** Security alerts fed by `monitor.security(event)`. */
  security: obj({
    failed_logins: builtinSecurity(['failed_login', 'api_auth_failure'], 10, 50),
    rate_limited: builtinSecurity(['rate_limit'], 100, 1000),
    rules: z.array(securityRule).default([]),
    /** Distinct sources tracked per rule (beyond this, the quietest are forgotten). */
    max_sources: count(10_000, 1, 1_000_000),
  }).prefault({}),
})
  .superRefine(knownInhibitRules)
  .prefault({});

/** The `alerting` section after validation (durations in ms). */
export type AlertingConfig = z.output<typeof alertingSection>;
/** One entry of `alerting.rules`. */
export type RuleConfig = AlertingConfig['rules'][number];
/** One entry of `alerting.inhibit_rules`. */
export type InhibitRuleConfig = AlertingConfig['inhibit_rules'][number];
/** One entry of `alerting.maintenance`. */
export type MaintenanceConfig = AlertingConfig['maintenance'][number];
