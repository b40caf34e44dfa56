/** The deployments page: the deploy markers recorded, newest first (the charts draw them as lines). */

import { deployTitle } from '../../core/format.js';
import type { Deployment } from '../../domain/deployment.js';
import { html, type SafeHtml } from '../html.js';
import { empty, time } from './format.js';
import type { Paths } from './layout.js';

/** The list of markers (`shown` of them; `limit`: the most a page shows). */
export function deploymentsSection(list: readonly Deployment[], p: Paths, limit: number): SafeHtml {
  if (list.length === 0) {
    return empty(html`No deploy recorded yet. Record each deploy from your pipeline with
<code>prodmon deploy mark --version v1.4.2 --url https://prodmon.example --token "$PRODMON_TOKEN"</code> (a token of role
<code>deploy</code>), or <code>POST ${p.api}/deployments</code> with <code>{"version": "v1.4.2"}</code>; the charts then
draw a line at each, and alerts firing soon after name it.`);
  }
  return html`<div class="table-wrap"><table class="stack">
<thead><tr><th scope="col">Deployed</th><th scope="col">Version</th><th scope="col">Instance</th><th scope="col">By</th><th scope="col">Note</th></tr></thead>
<tbody>${list.map(
    (
      d,
    ) => html`<tr data-deployment="${d.id}" data-version="${d.version}" title="${deployTitle({ ...d, atMs: d.at })}">
<td>${time(d.at)}</td>
<td data-label="Version"><strong class="mono">${d.version}</strong></td>
<td data-label="Instance">${d.instance ?? html`<span class="muted">all</span>`}</td>
<td data-label="By">${d.by}</td>
<td class="small">${d.note ?? ''}</td>
</tr>`,
  )}</tbody></table></div>
${list.length >= limit ? html`<p class="small muted">The ${limit} newest are shown; <code>GET ${p.api}/deployments?since=...&amp;until=...</code> lists any period.</p>` : ''}`;
}
