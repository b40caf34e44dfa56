/** The silences page: what is muted, until when, by whom; new silences and ending them (admins). */
import { MAX_SILENCE_COMMENT, silenceActive } from '../../alerting/silences.js';
import { ALERT_TYPES } from '../../domain/alert.js';
import type { Silence } from '../../domain/silence.js';
import { html, type SafeHtml } from '../html.js';
import { SILENCE_DURATIONS } from './alerts.js';
import { badge, empty, labels, time } from './format.js';
import type { Paths, Viewer } from './layout.js';

function state(s: Silence, now: number): string {
  if (silenceActive(s, now)) return 'active';
  return s.startsAt > now && s.expiredAt === null ? 'pending' : 'expired';
}

function matchers(s: Silence): SafeHtml {
  const m = s.matchers;
  const parts: SafeHtml[] = [];
  if (m.rule) parts.push(html`rule <code>${m.rule}</code>`);
  if (m.type) parts.push(html`type ${m.type}`);
  if (m.labels && Object.keys(m.labels).length) parts.push(labels(m.labels));
  return parts.length
    ? html`${parts.map((p, i) => html`${i ? ' · ' : ''}${p}`)}`
    : html`<em>every alert</em>`;
}

/** The list and the form. */
export function silencesSection(
  list: readonly Silence[],
  viewer: Viewer,
  p: Paths,
  rules: readonly string[],
  now: number,
): SafeHtml {
  const csrf = html`<input type="hidden" name="_csrf" value="${viewer.csrf}"><input type="hidden" name="back" value="${p.dashboard}/silences">`;
  const form =
    viewer.role === 'admin'
      ? html`<section class="card" aria-labelledby="new-silence-h"><h2 id="new-silence-h">New silence</h2>
<form class="filters" method="post" action="${p.dashboard}/silences">${csrf}
<label>Rule<input name="rule" list="silence-rules" placeholder="any rule"></label>
<datalist id="silence-rules">${rules.map((r) => html`<option value="${r}"></option>`)}</datalist>
<label>Labels<input name="labels" placeholder="route=/checkout, method=POST"></label>
<label>Type<select name="type"><option value="">any</option>${ALERT_TYPES.map((t) => html`<option value="${t}">${t}</option>`)}</select></label>
<label>For<select name="duration">${SILENCE_DURATIONS.map((d) => html`<option value="${d}"${d === '4h' ? html` selected` : ''}>${d}</option>`)}</select></label>
<label>Comment (required)<input name="comment" required maxlength="${MAX_SILENCE_COMMENT}"></label>
<button type="submit" class="primary">Create silence</button>
</form><p class="small muted">Silenced alerts are still recorded and shown; only their notifications wait until the silence ends.</p></section>`
      : '';
  const table =
    list.length === 0
      ? empty(
          html`No silences. Silence an alert from its row or detail page to hold its notifications back for a while.`,
        )
      : html`<div class="table-wrap"><table><thead><tr><th scope="col">State</th><th scope="col">Matches</th><th scope="col">From</th><th scope="col">Until</th><th scope="col">By</th><th scope="col">Comment</th>${
          viewer.role === 'admin' ? html`<th scope="col">Actions</th>` : ''
        }</tr></thead><tbody>${list.map((s) => {
          const st = state(s, now);
          return html`<tr data-silence-id="${s.id}"><td>${badge(st === 'active' ? 'silenced' : 'neutral', st)}</td><td>${matchers(s)}</td><td>${time(s.startsAt)}</td><td>${time(s.expiredAt ?? s.endsAt)}</td><td>${s.createdBy}</td><td>${s.comment}</td>${
            viewer.role === 'admin'
              ? html`<td>${
                  st === 'expired'
                    ? ''
                    : html`<form method="post" action="${p.dashboard}/silences/${encodeURIComponent(s.id)}/expire">${csrf}<button type="submit">End now</button></form>`
                }</td>`
              : ''
          }</tr>`;
        })}</tbody></table></div>`;
  return html`${form}<section class="card" aria-labelledby="silences-h"><h2 id="silences-h">Silences</h2>${table}</section>`;
}
