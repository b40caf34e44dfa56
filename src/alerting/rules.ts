/**
 * Alert rules as the engine uses them, built once from the validated config: the six built-in
 * thresholds, health checks, security counters, and the user's rules (one named like a built-in
 * replaces it).
 */
import { type AlertingConfig, type BuiltinMetric, CHECK_METRIC } from '../config/sections/alerting.js';
import type { AlertType, Severity } from '../domain/alert.js';
import type { Labels } from '../domain/labels.js';
import { labelsKey } from '../domain/labels.js';
import { METRIC } from '../metrics/names.js';
import type { Aggregation } from '../metrics/rollup.js';
import { Inhibition } from './inhibit.js';

/** The two levels of a threshold rule. */
export type Level = 'warning' | 'critical';

/** Where a rule's values come from. */
export type RuleSource =
  | { kind: 'metric'; metric: string; aggregation: Aggregation; labels: Labels; groupBy: string[] }
  | { kind: 'check'; check: string; field: 'status' | 'latency'; exceptKinds?: string[] }
  | { kind: 'security'; kinds: string[]; groupBy: 'source' | 'ip' | 'user' | 'none' };

/** When a value breaches, and when a breach clears. */
export interface Condition {
  direction: 'above' | 'below';
  warning?: number;
  critical?: number;
  /** A firing alert holds while the value is beyond this (default: the lowest threshold). */
  clear?: number;
  /** Compare with >= / <= instead of > / < (health check status levels). */
  inclusive: boolean;
  /** How long each level must hold before firing at it. */
  forMs: Record<Level, number>;
  /** How long a cleared condition keeps the alert firing. */
  keepFiringForMs: number;
}

/** A rule, ready to evaluate. */
export interface AlertRule {
  name: string;
  builtin: boolean;
  source: RuleSource;
  windowMs: number;
  condition: Condition;
  /** No data for this long resolves the alert (reason `stale`). */
  staleAfterMs: number;
  type: AlertType;
  /** Severity per level; an unset critical severity of a check rule follows the check's `critical`. */
  severity: { warning: Severity; critical?: Severity };
  /** Logic-less message template. */
  message: string;
}

type ForInput = number | { warning?: number; critical?: number } | undefined;
type SeverityInput = { warning?: Severity; critical?: Severity } | undefined;

function forMs(input: ForInput, cfg: AlertingConfig, criticalDefault = 0): Record<Level, number> {
  if (typeof input === 'number') return { warning: input, critical: input };
  return { warning: input?.warning ?? cfg.warning_for, critical: input?.critical ?? criticalDefault };
}

const BUILTIN: Record<
  BuiltinMetric,
  { source: RuleSource; type: AlertType; aggregation: Aggregation; message: string }
> = {
  api_response_time: {
    source: {
      kind: 'metric',
      metric: METRIC.httpRequest,
      aggregation: 'p95',
      labels: {},
      groupBy: ['route'],
    },
    type: 'performance',
    aggregation: 'p95',
    message: 'p95 response time of {{labels.route}} is {{value}} ms (threshold {{threshold}} ms)',
  },
  database_query_time: {
    source: { kind: 'metric', metric: METRIC.dbQuery, aggregation: 'p95', labels: {}, groupBy: [] },
    type: 'performance',
    aggregation: 'p95',
    message: 'p95 database query time is {{value}} ms (threshold {{threshold}} ms)',
  },
  memory_usage: {
    source: { kind: 'metric', metric: METRIC.memory, aggregation: 'avg', labels: {}, groupBy: [] },
    type: 'system',
    aggregation: 'avg',
    message: 'memory usage is {{value}} % (threshold {{threshold}} %)',
  },
  cpu_usage: {
    source: {
      kind: 'metric',
      metric: METRIC.cpu,
      aggregation: 'avg',
      labels: { scope: 'host' },
      groupBy: [],
    },
    type: 'system',
    aggregation: 'avg',
    message: 'host CPU usage is {{value}} % (threshold {{threshold}} %)',
  },
  error_rate: {
    source: { kind: 'metric', metric: METRIC.httpRequest, aggregation: 'rate', labels: {}, groupBy: [] },
    type: 'error',
    aggregation: 'rate',
    message: '{{value}} failed requests per minute (threshold {{threshold}})',
  },
  disk_usage: {
    source: { kind: 'metric', metric: METRIC.disk, aggregation: 'max', labels: {}, groupBy: ['path'] },
    type: 'system',
    aggregation: 'max',
    message: 'disk {{labels.path}} is {{value}} % full (threshold {{threshold}} %)',
  },
};

/** The built-in host check kinds whose facts a threshold rule already alerts on. */
const HOST_CHECK_OF: Record<string, string> = {
  memory_usage: 'memory',
  cpu_usage: 'cpu',
  disk_usage: 'disk',
};

/** Name of the built-in rule that turns health checks into alerts. */
export const HEALTH_RULE = 'health_check';

function severity(input: SeverityInput, warning: Severity, critical?: Severity): AlertRule['severity'] {
  return { warning: input?.warning ?? warning, critical: input?.critical ?? critical };
}

function fromUserRule(r: AlertingConfig['rules'][number], cfg: AlertingConfig): AlertRule {
  const check = CHECK_METRIC.exec(r.metric);
  const status = check?.[2] === 'status';
  const source: RuleSource = check
    ? { kind: 'check', check: check[1]!, field: check[2] as 'status' | 'latency' }
    : { kind: 'metric', metric: r.metric, aggregation: r.aggregation, labels: r.labels, groupBy: r.group_by };
  return {
    name: r.name,
    builtin: false,
    source,
    windowMs: r.window ?? cfg.window,
    condition: {
      direction: status ? 'above' : r.direction,
      warning: status ? (r.warning ?? 1) : r.warning,
      critical: status ? (r.critical ?? 2) : r.critical,
      clear: r.clear,
      inclusive: status,
      forMs: forMs(r.for, cfg),
      keepFiringForMs: r.keep_firing_for ?? 0,
    },
    staleAfterMs: cfg.auto_resolve_after,
    type: check && r.type === 'performance' && status ? 'system' : r.type,
    severity: severity(r.severity, 'medium', status ? undefined : 'critical'),
    message:
      r.message ??
      (status
        ? 'health check {{labels.check}} is {{status}}{{reason}}'
        : `{{rule}}: ${check ? 'latency of check {{labels.check}}' : `${r.aggregation} of ${r.metric}`} is {{value}} (threshold {{threshold}})`),
  };
}

/** Every enabled rule of the config, built-ins first. */
export function buildRules(cfg: AlertingConfig): AlertRule[] {
  const user = new Map(cfg.rules.map((r) => [r.name, r]));
  const rules: AlertRule[] = [];
  for (const name of Object.keys(BUILTIN) as BuiltinMetric[]) {
    if (user.has(name)) continue;
    const t = cfg.thresholds[name];
    if (!t.enabled) continue;
    const b = BUILTIN[name];
    rules.push({
      name,
      builtin: true,
      source: b.source,
      windowMs: t.window ?? cfg.window,
      condition: {
        direction: 'above',
        warning: t.warning,
        critical: t.critical,
        clear: t.clear,
        inclusive: false,
        forMs: forMs(t.for, cfg),
        keepFiringForMs: t.keep_firing_for ?? 0,
      },
      staleAfterMs: cfg.auto_resolve_after,
      type: b.type,
      severity: severity(t.severity, 'medium', 'critical'),
      message: t.message ?? b.message,
    });
  }
  const hc = cfg.health_checks;
  if (hc.enabled && !user.has(HEALTH_RULE)) {
    // The host checks say what the threshold rules already alert on: one alert per fact, not two.
    const covered = rules.map((r) => HOST_CHECK_OF[r.name]).filter((k): k is string => k !== undefined);
    rules.push({
      name: HEALTH_RULE,
      builtin: true,
      source: {
        kind: 'check',
        check: '*',
        field: 'status',
        ...(covered.length ? { exceptKinds: covered } : {}),
      },
      windowMs: 0,
      condition: {
        direction: 'above',
        warning: 1,
        critical: 2,
        inclusive: true,
        forMs: forMs(hc.for, cfg),
        keepFiringForMs: 0,
      },
      staleAfterMs: cfg.auto_resolve_after,
      type: 'system',
      severity: severity(hc.severity, 'medium'),
      message: hc.message ?? 'health check {{labels.check}} is {{status}}{{reason}}',
    });
  }
  rules.push(...securityRules(cfg).filter((r) => !user.has(r.name)));
  for (const r of cfg.rules) if (r.enabled) rules.push(fromUserRule(r, cfg));
  return new Inhibition(cfg.inhibit_rules).order(rules);
}

function securityRules(cfg: AlertingConfig): AlertRule[] {
  const s = cfg.security;
  const specs = [
    {
      name: 'failed_logins',
      ...s.failed_logins,
      message: '{{value}} failed logins from {{labels.source}} within {{window}}',
    },
    {
      name: 'rate_limited',
      ...s.rate_limited,
      message: '{{value}} rate-limited requests from {{labels.source}} within {{window}}',
    },
    ...s.rules.map((r) => ({
      ...r,
      message: r.message ?? '{{rule}}: {{value}} security events within {{window}}',
    })),
  ];
  return specs
    .filter((r) => r.enabled)
    .map((r) => {
      const sev = 'severity' in r ? (r.severity as SeverityInput) : undefined;
      const forInput = 'for' in r ? (r.for as ForInput) : undefined;
      return {
        name: r.name,
        builtin: r.name === 'failed_logins' || r.name === 'rate_limited',
        source: { kind: 'security', kinds: r.kinds, groupBy: r.group_by },
        windowMs: r.window,
        condition: {
          direction: 'above',
          warning: r.warning,
          critical: r.critical,
          inclusive: false,
          forMs: forMs(forInput ?? 0, cfg),
          keepFiringForMs: 0,
        },
        staleAfterMs: cfg.auto_resolve_after,
        type: 'security',
        severity: severity(sev, 'high', 'critical'),
        message: r.message.replace(
          '{{labels.source}}',
          r.group_by === 'none' ? 'all sources' : `{{labels.${r.group_by}}}`,
        ),
      } satisfies AlertRule;
    });
}

/** The metric names a rule reads (for evaluation on fresh data). */
export function ruleMetric(rule: AlertRule): string | null {
  return rule.source.kind === 'metric' ? rule.source.metric : null;
}

/** Stable key of (rule, labels): one open alert per fingerprint. */
export function fingerprint(rule: string, labels: Labels): string {
  return `${rule}{${labelsKey(labels)}}`;
}
