/** Alert views: active alerts with their actions, history with filters, one alert's detail. */

import { type InhibitSource, inhibitorOf } from '../../alerting/inhibit.js';
import { deployText } from '../../alerting/message.js';
import { MAX_RESOLUTION_REASON } from '../../alerting/resolve.js';
import { MAX_SILENCE_COMMENT } from '../../alerting/silences.js';
import { deployOf } from '../../deployments/annotate.js';
import { ALERT_TYPES, type AlertStatus, SEVERITIES } from '../../domain/alert.js';
import { formatLogLine } from '../../logging/format.js';
import type { AlertDetail, AlertView } from '../data.js';
import { html, type SafeHtml } from '../html.js';
import { badge, dur, empty, labels, num, time } from './format.js';
import type { Paths, Viewer } from './layout.js';

/** Durations offered when silencing. */
export const SILENCE_DURATIONS = ['1h', '4h', '8h', '24h', '7d'] as const;

/** The page of one alert. */
export const alertLink = (p: Paths, id: string) => `${p.dashboard}/alerts/${encodeURIComponent(id)}`;

/** Resolve and silence forms of an alert (admins only); `back` is where to return. */
export function alertActions(a: AlertView, viewer: Viewer, p: Paths, back: string): SafeHtml {
  if (viewer.role !== 'admin' || a.status === 'resolved') return html``;
  const csrf = html`<input type="hidden" name="_csrf" value="${viewer.csrf}"><input type="hidden" name="back" value="${back}">`;
  const keys = Object.keys(a.labels).sort();
  return html`<div class="actions">
<details class="action"><summary class="button" data-action="resolve">Resolve</summary>
<form method="post" action="${alertLink(p, a.id)}/resolve">${csrf}
<label>Reason (required)<textarea name="reason" required maxlength="${MAX_RESOLUTION_REASON}" placeholder="What was done, or why it is not a problem"></textarea></label>
<button type="submit" class="primary">Resolve alert</button></form></details>
<details class="action"><summary class="button" data-action="silence">Silence</summary>
<form method="post" action="${p.dashboard}/silences">${csrf}
<input type="hidden" name="rule" value="${a.rule}">
<span class="small">Mute notifications of rule <code>${a.rule}</code>${keys.length ? ' for these labels:' : ''}</span>
${keys.map(
  (k) =>
    html`<label class="small"><span><input type="checkbox" name="label" value="${`${k}=${a.labels[k]}`}" checked> <code>${k}=${a.labels[k] ?? ''}</code></span></label>`,
)}
<label>For<select name="duration">${SILENCE_DURATIONS.map((d) => html`<option value="${d}"${d === '4h' ? html` selected` : ''}>${d}</option>`)}</select></label>
<label>Comment (required)<input name="comment" required maxlength="${MAX_SILENCE_COMMENT}" placeholder="Why"></label>
<button type="submit" class="primary">Silence</button></form></details>
</div>`;
}

function valueCell(a: AlertView): SafeHtml {
  if (a.value === null && a.threshold === null) return html`<span class="muted">–</span>`;
  return html`<span class="mono">${num(a.value)}</span> <span class="muted">/ ${num(a.threshold)}</span>`;
}

/** The table of open alerts. */
export function activeAlertsSection(
  alerts: readonly AlertView[],
  viewer: Viewer,
  p: Paths,
  back: string,
): SafeHtml {
  if (alerts.length === 0) {
    return empty(html`No active alerts. Rules are the six built-in thresholds (<code>alerting.thresholds</code>), the
health checks and your own <code>alerting.rules</code>; who is told is set under <code>notifications.channels</code>.`);
  }
  return html`<div class="table-wrap"><table class="stack">
<thead><tr><th scope="col">Severity</th><th scope="col">Alert</th><th scope="col" class="num">Value / threshold</th><th scope="col">For</th><th scope="col">State</th>${
    viewer.role === 'admin' ? html`<th scope="col">Actions</th>` : ''
  }</tr></thead>
<tbody>${alerts.map(
    (a) => html`<tr data-alert-id="${a.id}">
<td>${badge(a.severity)}</td>
<td><a class="alert-msg" href="${alertLink(p, a.id)}">${a.message}</a>${deployNote(a)}<div class="small muted">${a.rule} · ${a.type}</div>${labels(a.labels)}</td>
<td class="num" data-label="Value / threshold">${valueCell(a)}</td>
<td data-label="For">${dur(a.durationMs)}<div class="small muted">since ${time(a.firingAt ?? a.createdAt)}</div></td>
<td data-label="State">${badge(a.status)}${a.silenced ? html` ${badge('silenced')}` : ''}${inhibited(a) ? html` ${badge('silenced', 'inhibited')}` : ''}</td>
${viewer.role === 'admin' ? html`<td>${alertActions(a, viewer, p, back)}</td>` : ''}
</tr>`,
  )}</tbody></table></div>`;
}

/** Filters of the history page, as given in the query string. */
export interface HistoryQuery {
  status?: AlertStatus;
  severity?: string;
  type?: string;
  rule?: string;
  page: number;
  pageSize: number;
}

function option(value: string, current: string | undefined, text = value): SafeHtml {
  return html`<option value="${value}"${value === (current ?? '') ? html` selected` : ''}>${text}</option>`;
}

/** The alert history: filters, table, pager. */
export function historySection(
  list: { items: readonly AlertView[]; total: number },
  q: HistoryQuery,
  p: Paths,
  rules: readonly string[],
): SafeHtml {
  const params = (page: number) => {
    const u = new URLSearchParams();
    for (const k of ['status', 'severity', 'type', 'rule'] as const) if (q[k]) u.set(k, String(q[k]));
    if (page > 1) u.set('page', String(page));
    const s = u.toString();
    return `${p.dashboard}/alerts${s ? `?${s}` : ''}`;
  };
  const pages = Math.max(1, Math.ceil(list.total / q.pageSize));
  return html`<form class="filters" method="get" action="${p.dashboard}/alerts" aria-label="Filter alerts">
<label>Status<select name="status">${option('', q.status, 'any')}${['pending', 'firing', 'resolved'].map((s) => option(s, q.status))}</select></label>
<label>Severity<select name="severity">${option('', q.severity, 'any')}${SEVERITIES.map((s) => option(s, q.severity))}</select></label>
<label>Type<select name="type">${option('', q.type, 'any')}${ALERT_TYPES.map((s) => option(s, q.type))}</select></label>
<label>Rule<input name="rule" list="rule-names" value="${q.rule ?? ''}" placeholder="any"></label>
<datalist id="rule-names">${rules.map((r) => html`<option value="${r}"></option>`)}</datalist>
<button type="submit">Filter</button> <a href="${p.dashboard}/alerts">Clear</a>
</form>
${
  list.items.length === 0
    ? empty('No alert matches these filters.')
    : html`<div class="table-wrap"><table class="stack">
<thead><tr><th scope="col">Created</th><th scope="col">Severity</th><th scope="col">Alert</th><th scope="col">State</th><th scope="col">Lasted</th><th scope="col">Resolution</th></tr></thead>
<tbody>${list.items.map(
        (a) => html`<tr data-alert-id="${a.id}"><td>${time(a.createdAt)}</td><td>${badge(a.severity)}</td>
<td><a class="alert-msg" href="${alertLink(p, a.id)}">${a.message}</a>${deployNote(a)}<div class="small muted">${a.rule} · ${a.type}</div>${labels(a.labels)}</td>
<td data-label="State">${badge(a.status)}</td><td data-label="Lasted">${dur(a.durationMs)}</td>
<td class="small">${a.resolution ? html`${a.resolution.kind} by ${a.resolution.by}${a.resolution.reason ? html`: <span class="resolution-reason">${a.resolution.reason}</span>` : ''}` : ''}</td></tr>`,
      )}</tbody></table></div>`
}
<div class="pager"><span class="muted">${list.total} alert${list.total === 1 ? '' : 's'} · page ${q.page} of ${pages}</span>
${q.page > 1 ? html`<a href="${params(q.page - 1)}" rel="prev">Newer</a>` : ''}
${q.page < pages ? html`<a href="${params(q.page + 1)}" rel="next">Older</a>` : ''}</div>`;
}

/** `firing 3 min after deploy v1.4.2` under an alert's message ('' when it follows no deploy). */
function deployNote(a: AlertView): SafeHtml | string {
  const text = deployText(a);
  return text
    ? html`<div class="small deploy-note" data-deploy="${deployOf(a.metadata)?.version ?? ''}">${text}</div>`
    : '';
}

/** The "Deploy" fact: which deploy the alert started firing after, and when that was. */
function deployFact(a: AlertView, p: Paths): SafeHtml | string {
  const d = deployOf(a.metadata);
  if (!d) return '';
  return html`
<dt>Deploy</dt><dd><span class="deploy-note" data-deploy="${d.version}">${deployText(a)}</span><div class="small muted">deployed ${time(d.at)}${d.instance ? ` to ${d.instance}` : ''} · <a href="${p.dashboard}/deployments">deployments</a></div></dd>`;
}

/** Who inhibits an open alert (a firing root cause), or null. */
function inhibited(a: AlertView): InhibitSource | null {
  return a.status === 'resolved' ? null : inhibitorOf(a.metadata);
}

/** The "Inhibited by" fact: the root cause, linked, and the inhibit rule. */
function inhibitedBy(a: AlertView, p: Paths): SafeHtml | string {
  const by = inhibited(a);
  if (!by) return '';
  return html`
<dt>Inhibited by</dt><dd><a href="${alertLink(p, by.id)}"><code>${by.rule}</code></a> ${labels(by.labels)}<div class="small muted">not notified while it fires (${by.by})</div></dd>`;
}

/** One alert: facts, actions, timeline, notifications, audit, error-log lines. */
export function detailSection(d: AlertDetail, viewer: Viewer, p: Paths): SafeHtml {
  const a = d.alert;
  return html`<div class="section-head"><h1 class="alert-msg">${a.message}</h1>${alertActions(a, viewer, p, alertLink(p, a.id))}</div>
<div class="grid">
<section class="card" aria-labelledby="facts-h"><h2 id="facts-h">Alert</h2><dl class="facts">
<dt>State</dt><dd>${badge(a.status)} ${a.silenced ? badge('silenced') : ''} ${inhibited(a) ? badge('silenced', 'inhibited') : ''}</dd>${inhibitedBy(a, p)}
<dt>Severity</dt><dd>${badge(a.severity)}</dd>
<dt>Rule</dt><dd><code>${a.rule}</code> · ${a.type}</dd>
<dt>Labels</dt><dd>${labels(a.labels)}</dd>
<dt>Value / threshold</dt><dd>${valueCell(a)}</dd>
<dt>Created</dt><dd>${time(a.createdAt)}</dd>
<dt>Firing since</dt><dd>${time(a.firingAt)}</dd>${deployFact(a, p)}
<dt>Resolved</dt><dd>${a.resolution ? html`${time(a.resolvedAt)} · ${a.resolution.kind} by ${a.resolution.by}${a.resolution.reason ? html` — <span class="resolution-reason">${a.resolution.reason}</span>` : ''}` : '–'}</dd>
<dt>Duration</dt><dd>${dur(a.durationMs)}</dd>
<dt>Id</dt><dd><code>${a.id}</code></dd>
</dl></section>
<section class="card" aria-labelledby="timeline-h"><h2 id="timeline-h">Timeline</h2>${
    d.events.length === 0
      ? empty('No transitions recorded.')
      : html`<ol class="timeline">${d.events.map(
          (e) =>
            html`<li>${time(e.at)} <strong>${e.kind}</strong> ${badge(e.severity)} ${e.value !== null ? html`<span class="mono">${num(e.value)}</span>` : ''}${e.threshold !== null ? html` <span class="muted">/ ${num(e.threshold)}</span>` : ''}${
              e.actor ? html` <span class="muted">by ${e.actor}</span>` : ''
            }${typeof e.detail.reason === 'string' && e.detail.reason ? html`<div class="small">${e.detail.reason}</div>` : ''}</li>`,
        )}</ol>`
  }</section>
</div>
<section class="card" aria-labelledby="notif-h"><h2 id="notif-h">Notifications</h2>${
    d.notifications.length === 0
      ? empty(
          html`No notification was sent for this alert. Channels are configured under <code>notifications.channels</code>; silences and maintenance windows hold notifications back.`,
        )
      : html`<div class="table-wrap"><table><thead><tr><th scope="col">Created</th><th scope="col">Channel</th><th scope="col">Transition</th><th scope="col">State</th><th scope="col" class="num">Attempts</th><th scope="col">Last error</th></tr></thead><tbody>${d.notifications.map(
          (n) =>
            html`<tr><td>${time(n.createdAt)}</td><td>${n.channel}</td><td>${n.transition}</td><td>${badge(n.status)}${n.deliveredAt ? html` <span class="small">${time(n.deliveredAt)}</span>` : ''}</td><td class="num">${
              n.deliveries.length
                ? html`<details><summary>${n.attempts}</summary><ul class="small">${n.deliveries.map((dl) => html`<li>${time(dl.at)} ${dl.ok ? 'ok' : 'failed'}${dl.statusCode ? ` (${dl.statusCode})` : ''} in ${dur(dl.durationMs)}${dl.error ? ` — ${dl.error}` : ''}</li>`)}</ul></details>`
                : n.attempts
            }</td><td class="error small">${n.lastError ?? ''}</td></tr>`,
        )}</tbody></table></div>`
  }</section>
${
  d.audit.length
    ? html`<section class="card" aria-labelledby="audit-h"><h2 id="audit-h">Audit</h2><ul>${d.audit.map((e) => html`<li>${time(e.at)} <strong>${e.action}</strong> by ${e.actor}</li>`)}</ul></section>`
    : ''
}
<section class="card" aria-labelledby="logs-h"><h2 id="logs-h">Error log around this alert</h2>
<p class="small muted">From ${time(d.logs.from)} to ${time(d.logs.to)}.</p>${
    !d.logs.available
      ? empty('Error logs are not available in this monitor (the logger is not writing files).')
      : d.logs.lines.length === 0
        ? empty('No error-log lines in this period.')
        : html`<pre class="log">${d.logs.lines.map((l) => `${formatLogLine(l)}\n`).join('')}</pre>`
  }</section>`;
}
