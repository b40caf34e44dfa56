/**
 * The `store` probe of the `self` check: what the store's watch reports (round trip, file identity and
 * integrity, failures seen by any operation), and while the store is failing, the `system` alert sent
 * without it (the direct path). Once the store works again, `self` stays unhealthy until the alert
 * engine has taken that alert over, so its resolution reaches whoever was told.
 */
import { thresholdOf } from '../../alerting/evaluate.js';
import { severityOf } from '../../alerting/plan.js';
import { type AlertRule, fingerprint } from '../../alerting/rules.js';
import { renderTemplate } from '../../alerting/template.js';
import type { DirectAlertSpec, DirectAlerts } from '../../notifiers/direct.js';
import type { StoreReport, StoreWatch } from '../../store/watch.js';
import type { SelfProbe, SelfProbeResult } from '../types.js';

/**
 * What the alert engine raises when the `self` check named `check.name` is unhealthy with `error`: the
 * first rule on that check's status (the built-in `health_check` unless replaced or disabled), its
 * critical level. Null when no rule covers it.
 */
export function selfAlertSpec(
  rules: readonly AlertRule[],
  check: { name: string; critical: boolean },
  error: string,
): DirectAlertSpec | null {
  const rule = rules.find(
    (r) =>
      r.source.kind === 'check' &&
      r.source.field === 'status' &&
      (r.source.check === '*' || r.source.check === check.name) &&
      !r.source.exceptKinds?.includes('self'),
  );
  if (!rule) return null;
  const labels = { check: check.name };
  const extras = { checkCritical: check.critical, status: 'unhealthy', error, reason: `: ${error}` };
  const severity = severityOf(rule, 'critical', extras);
  const message = renderTemplate(rule.message, {
    ...extras,
    value: 2,
    threshold: thresholdOf(rule.condition, 'critical'),
    labels,
    rule: rule.name,
    severity,
    level: 'critical',
    window: rule.windowMs,
  });
  return { rule: rule.name, fingerprint: fingerprint(rule.name, labels), severity, labels, message };
}

/** A watch report as a self probe's result (its error in the detail, where the `self` check reads it). */
export function probeResult(r: StoreReport): SelfProbeResult {
  return { status: r.status, detail: { ...r.detail, ...(r.error ? { error: r.error } : {}) } };
}

/** The `store` self probe; see the module comment. */
export function storeProbe(o: {
  watch: StoreWatch;
  /** The direct path (absent: the alert goes through the store like any other). */
  direct?: DirectAlerts;
  /** The alert to send directly, for the `self` check's error. */
  spec?: (error: string) => DirectAlertSpec | null;
}): SelfProbe {
  return async () => {
    const r = await o.watch.probe();
    const result = probeResult(r);
    if (o.direct) {
      if (r.failing) {
        const error = r.error ?? 'the store is failing';
        o.direct.failing(o.spec?.(`store: unhealthy (${error})`) ?? null, error);
      } else {
        const hold = o.direct.recovered();
        if (hold.holding) return { status: 'unhealthy', detail: { ...r.detail, error: hold.detail } };
      }
    }
    return result;
  };
}
