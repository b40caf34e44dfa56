/**
 * Whole pages and live sections: each page reads its data once, renders its sections with the digests
 * they were rendered from (so the live stream can tell the page which ones went stale).
 */
import { z } from 'zod';
import type { AlertFilter } from '../domain/alert.js';
import { ALERT_TYPES, type AlertStatus, type AlertType, SEVERITIES, type Severity } from '../domain/alert.js';
import { type RangeKey, rangeKey, SPARK_SPAN_MS } from './data.js';
import { html, raw, type SafeHtml } from './html.js';
import type { Dashboard } from './index.js';
import { activeAlertsSection, detailSection, type HistoryQuery, historySection } from './views/alerts.js';
import { deploymentsSection } from './views/deployments.js';
import { empty } from './views/format.js';
import { page, type Viewer } from './views/layout.js';
import { type LoginView, loginSection } from './views/login.js';
import { bannerSection, checksSection, performanceSection, rangePicker } from './views/overview.js';
import { silencesSection } from './views/silences.js';

/** Fixed notices shown after an action (chosen by key: no user text is reflected). */
export const NOTICES: Record<string, { kind: 'ok' | 'error'; text: string }> = {
  resolved: { kind: 'ok', text: 'Alert resolved.' },
  silenced: { kind: 'ok', text: 'Silence created.' },
  expired: { kind: 'ok', text: 'Silence ended.' },
  'signed-out': { kind: 'ok', text: 'You are signed out.' },
};

/** A live section's markup and the digest it was rendered from. */
export interface Fragment {
  html: string;
  digest: string;
}

const query = (params: Record<string, string | undefined>) => {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) u.set(k, v);
  const s = u.toString();
  return s ? `?${s}` : '';
};

/** How many markers the deployments page lists (the newest). */
export const DEPLOYMENTS_PAGE_SIZE = 100;

/** Live sections (any of banner, checks, alerts, history, deployments), rendered from one read. */
export async function renderSections(
  dash: Dashboard,
  viewer: Viewer,
  names: readonly string[],
  opts: { history?: HistoryQuery; back?: string } = {},
): Promise<Record<string, Fragment>> {
  const history = opts.history ?? historyQuery({});
  const [checks, alerts, silences] = await Promise.all([
    dash.data.latestChecks(),
    dash.data.activeAlerts(),
    dash.data.silences(),
  ]);
  const now = dash.clock.now();
  const pending = dash.data.pendingChecks();
  const digest = dash.data.digestOf(
    checks,
    alerts,
    silences.filter((s) => s.expiredAt === null && s.startsAt <= now && now < s.endsAt).map((s) => s.id),
    pending,
  );
  const out: Record<string, Fragment> = {};
  if (names.includes('banner')) {
    const status = dash.data.statusOf(checks, alerts, await dash.data.since(checks), pending);
    out.banner = { html: bannerSection(status, now, dash.paths).value, digest: digest.banner };
  }
  if (names.includes('checks')) {
    const [views, deploys] = await Promise.all([
      dash.data.checks(checks),
      dash.data.deployments({ since: now - SPARK_SPAN_MS, until: now + 1, limit: 50 }),
    ]);
    out.checks = {
      html: checksSection(views, now, pending, deploys, SPARK_SPAN_MS).value,
      digest: digest.checks,
    };
  }
  if (names.includes('deployments')) {
    const list = await dash.data.deployments({ limit: DEPLOYMENTS_PAGE_SIZE });
    out.deployments = {
      html: deploymentsSection(list, dash.paths, DEPLOYMENTS_PAGE_SIZE).value,
      digest: dash.data.deploymentsDigest(list),
    };
  }
  if (names.includes('alerts')) {
    out.alerts = {
      html: activeAlertsSection(alerts, viewer, dash.paths, opts.back ?? `${dash.paths.dashboard}/`).value,
      digest: digest.alerts,
    };
  }
  if (names.includes('history')) {
    const list = await dash.data.alerts(historyFilter(history));
    out.history = {
      html: historySection(list, history, dash.paths, dash.rules).value,
      digest: digest.history,
    };
  }
  return out;
}

function section(name: string, f: Fragment | undefined, attrs: SafeHtml = html``): SafeHtml {
  // f.html was rendered by the views (escaped there): it is markup, not text.
  return html`<div data-section="${name}" data-digest="${f?.digest ?? ''}"${attrs}>${raw(f?.html ?? '')}</div>`;
}

/** The overview page. */
export async function overviewPage(
  dash: Dashboard,
  viewer: Viewer,
  range: RangeKey,
  notice: string,
): Promise<SafeHtml> {
  const [frags, perf] = await Promise.all([
    renderSections(dash, viewer, ['banner', 'checks', 'alerts']),
    dash.data.performance(range),
  ]);
  dash.data.warm(dash.onError);
  const markers = await dash.data.chartMarkers(perf.charts.from, perf.until);
  const d = dash.paths.dashboard;
  const picker = rangePicker(
    range,
    (k) => `${d}/${query({ range: k === '1h' ? undefined : k })}#performance`,
  );
  const body = html`<h1 class="skip">Overview</h1>
${section('banner', frags.banner, html` role="region" aria-label="Overall status"`)}
<section class="card" id="active-alerts" aria-labelledby="alerts-h"><div class="section-head"><h2 id="alerts-h">Active alerts</h2><a href="${d}/alerts">Alert history</a></div>
${section('alerts', frags.alerts)}</section>
<section class="card" id="checks" aria-labelledby="checks-h"><h2 id="checks-h">Health checks</h2>
${section('checks', frags.checks)}</section>
<section class="card" id="performance" aria-labelledby="perf-h">${performanceSection(perf, picker, markers, `${d}/deployments`)}</section>`;
  return page(
    {
      title: 'Overview',
      paths: dash.paths,
      assets: dash.assets,
      viewer,
      nav: 'overview',
      charts: true,
      live: {
        fragments: `${d}/fragments`,
        charts: `${dash.paths.api}/performance/charts${query({ range })}`,
      },
      notice: NOTICES[notice] ?? null,
    },
    body,
  );
}

/**
 * The history filters of a page's query string. A page never refuses its link: a value that is not one
 * of a filter's is dropped (the filter is off), a page number out of 1 to 10,000 is brought within.
 */
const lenient = <T extends string>(values: readonly T[]) =>
  z
    .enum(values as readonly [T, ...T[]])
    .optional()
    .catch(undefined);
const historyParams = z.object({
  status: lenient<AlertStatus>(['pending', 'firing', 'resolved']),
  severity: lenient(SEVERITIES),
  type: lenient(ALERT_TYPES),
  rule: z
    .string()
    .transform((s) => s.slice(0, 200) || undefined)
    .optional()
    .catch(undefined),
  page: z
    .string()
    .transform((s) => Math.max(1, Math.min(10_000, Number.parseInt(s, 10) || 1)))
    .optional()
    .catch(undefined),
});

/** History filters from a query string (unknown values are ignored). */
export function historyQuery(q: Record<string, unknown>): HistoryQuery {
  const p = historyParams.parse(q);
  return {
    status: p.status,
    severity: p.severity,
    type: p.type,
    rule: p.rule,
    page: p.page ?? 1,
    pageSize: 50,
  };
}

/** The store filter of a history query. */
export function historyFilter(q: HistoryQuery): AlertFilter {
  return {
    status: q.status ? [q.status] : undefined,
    severity: q.severity ? [q.severity as Severity] : undefined,
    type: q.type ? [q.type as AlertType] : undefined,
    rule: q.rule,
    limit: q.pageSize,
    offset: (q.page - 1) * q.pageSize,
  };
}

/** The alerts page: the active ones, then the history with filters. */
export async function alertsPage(
  dash: Dashboard,
  viewer: Viewer,
  q: HistoryQuery,
  notice: string,
): Promise<SafeHtml> {
  const frags = await renderSections(dash, viewer, ['alerts', 'history'], {
    history: q,
    back: `${dash.paths.dashboard}/alerts`,
  });
  const d = dash.paths.dashboard;
  const filters = query({
    status: q.status,
    severity: q.severity,
    type: q.type,
    rule: q.rule,
    page: q.page > 1 ? String(q.page) : undefined,
  });
  const body = html`<h1>Alerts</h1>
<section class="card" id="active-alerts" aria-labelledby="alerts-h"><h2 id="alerts-h">Active</h2>${section('alerts', frags.alerts)}</section>
<section class="card" aria-labelledby="history-h"><h2 id="history-h">History</h2>
${section('history', frags.history)}</section>`;
  return page(
    {
      title: 'Alerts',
      paths: dash.paths,
      assets: dash.assets,
      viewer,
      nav: 'alerts',
      live: { fragments: `${d}/fragments?view=alerts${filters ? `&${filters.slice(1)}` : ''}` },
      notice: NOTICES[notice] ?? null,
    },
    body,
  );
}

/** One alert's page, or null when there is no such alert. */
export async function alertPage(
  dash: Dashboard,
  viewer: Viewer,
  id: string,
  notice: string,
): Promise<SafeHtml | null> {
  const detail = await dash.data.alertDetail(id);
  if (!detail) return null;
  return page(
    {
      title: `Alert ${detail.alert.rule}`,
      paths: dash.paths,
      assets: dash.assets,
      viewer,
      nav: 'alerts',
      notice: NOTICES[notice] ?? null,
    },
    detailSection(detail, viewer, dash.paths),
  );
}

/** The silences page. */
export async function silencesPage(dash: Dashboard, viewer: Viewer, notice: string): Promise<SafeHtml> {
  const list = await dash.data.silences();
  return page(
    {
      title: 'Silences',
      paths: dash.paths,
      assets: dash.assets,
      viewer,
      nav: 'silences',
      notice: NOTICES[notice] ?? null,
    },
    html`<h1>Silences</h1>${silencesSection(list, viewer, dash.paths, dash.rules, dash.clock.now())}`,
  );
}

/** The deployments page: the newest markers, live. */
export async function deploymentsPage(dash: Dashboard, viewer: Viewer): Promise<SafeHtml> {
  const frags = await renderSections(dash, viewer, ['deployments']);
  const d = dash.paths.dashboard;
  return page(
    {
      title: 'Deployments',
      paths: dash.paths,
      assets: dash.assets,
      viewer,
      nav: 'deployments',
      live: { fragments: `${d}/fragments?view=deployments` },
    },
    html`<h1>Deployments</h1>
<section class="card" aria-labelledby="deployments-h"><h2 id="deployments-h">Deploy markers</h2>
<p class="small muted">Newest first. The overview's charts draw each as a dashed line; an alert that starts firing soon after one names it.</p>
${section('deployments', frags.deployments)}</section>`,
  );
}

/** The sign-in page. */
export function loginPage(dash: Dashboard, v: Omit<LoginView, 'action'>): SafeHtml {
  return page(
    { title: 'Sign in', paths: dash.paths, assets: dash.assets, viewer: null },
    loginSection({ ...v, action: `${dash.paths.dashboard}/login` }),
  );
}

/** A page that says what went wrong, with a way back. */
export function messagePage(
  dash: Dashboard,
  viewer: Viewer | null,
  title: string,
  text: string,
  back?: string,
): SafeHtml {
  return page(
    { title, paths: dash.paths, assets: dash.assets, viewer },
    html`<h1>${title}</h1>${empty(text)}${back ? html`<p><a href="${back}">Back</a></p>` : ''}`,
  );
}

export { rangeKey };
