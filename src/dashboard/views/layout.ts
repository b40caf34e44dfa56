/** The page shell: head (no inline script or style), header with navigation and sign-out, main. */
import type { AssetStore } from '../assets.js';
import { html, type SafeHtml } from '../html.js';

/** Who is looking (null on the sign-in page). */
export interface Viewer {
  name: string;
  role: 'admin' | 'read';
  csrf: string;
}

/** Where things are, for links. */
export interface Paths {
  /** `{prefix}/production/dashboard` */
  dashboard: string;
  /** `{prefix}/production/api` */
  api: string;
}

/** What the shell needs besides the body. */
export interface PageOptions {
  title: string;
  paths: Paths;
  assets: AssetStore;
  viewer: Viewer | null;
  nav?: 'overview' | 'alerts' | 'silences' | 'deployments';
  /** Live parts: fragments and event-stream URLs (and the charts' data URL). */
  live?: { fragments: string; charts?: string };
  charts?: boolean;
  notice?: { kind: 'ok' | 'error'; text: string } | null;
}

/** A full HTML document. */
export function page(o: PageOptions, body: SafeHtml): SafeHtml {
  const a = (name: string) => o.assets.url(`${o.paths.dashboard}/assets`, name);
  const navLink = (key: NonNullable<PageOptions['nav']>, href: string, text: string) =>
    html`<a href="${href}"${o.nav === key ? html` aria-current="page"` : ''}>${text}</a>`;
  const d = o.paths.dashboard;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${o.title} · prodmon</title>
<link rel="icon" href="${a('favicon.svg')}" type="image/svg+xml">
${o.charts ? html`<link rel="stylesheet" href="${a('uPlot.min.css')}">` : ''}
<link rel="stylesheet" href="${a('style.css')}">
${
  o.viewer
    ? html`<meta name="csrf-token" content="${o.viewer.csrf}">
<meta name="prodmon-login" content="${d}/login">
<meta name="prodmon-session-url" content="${o.paths.api}/session">`
    : ''
}
${
  o.live && o.viewer
    ? html`<meta name="prodmon-events-url" content="${o.paths.api}/events">
<meta name="prodmon-fragments-url" content="${o.live.fragments}">
${o.live.charts ? html`<meta name="prodmon-charts-url" content="${o.live.charts}">` : ''}`
    : ''
}
${o.charts ? html`<script defer src="${a('uPlot.min.js')}"></script>` : ''}
${
  o.viewer
    ? html`<link rel="modulepreload" href="${d}/assets/dom.js">
<link rel="modulepreload" href="${d}/assets/format.js">
<link rel="modulepreload" href="${d}/assets/charts.js">
<link rel="modulepreload" href="${d}/assets/live.js">
<script type="module" src="${a('app.js')}"></script>`
    : ''
}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
<a class="brand" href="${d}/">prodmon</a>
${
  o.viewer
    ? html`<nav aria-label="Main">
${navLink('overview', `${d}/`, 'Overview')}
${navLink('alerts', `${d}/alerts`, 'Alerts')}
${navLink('silences', `${d}/silences`, 'Silences')}
${navLink('deployments', `${d}/deployments`, 'Deployments')}
</nav>
<div class="who">
${o.live ? html`<span id="live-state" class="live" role="status" aria-live="polite" data-state="offline">Connecting…</span>` : ''}
<span>${o.viewer.name} <span class="badge neutral">${o.viewer.role === 'admin' ? 'admin' : 'read-only'}</span></span>
<form method="post" action="${d}/logout"><input type="hidden" name="_csrf" value="${o.viewer.csrf}"><button type="submit">Sign out</button></form>
</div>`
    : ''
}
</header>
<main id="main">
${o.notice ? html`<div class="notice ${o.notice.kind === 'ok' ? 'ok' : 'error'}" role="${o.notice.kind === 'ok' ? 'status' : 'alert'}">${o.notice.text}</div>` : ''}
${body}
</main>
</body>
</html>
`;
}
