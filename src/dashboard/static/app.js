// @ts-check
/**
 * The dashboard page's entry module: local times, charts, live sections. The page is complete without
 * it (server-rendered, forms work); this only makes it live.
 */
import { initCharts } from './charts.js';
import { all, getJson, localizeTimes, meta } from './dom.js';
import { startLive } from './live.js';

localizeTimes(document);

const chartSource = /** @type {HTMLScriptElement | null} */ (document.getElementById('chart-data'));
const redraw = chartSource ? initCharts(chartSource) : null;

async function refreshCharts() {
  const url = meta('prodmon-charts-url');
  if (!redraw || !url) return;
  const data = await getJson(url).catch(() => null);
  if (data) redraw(data);
}

/** @param {string} name */
const section = (name) =>
  /** @type {HTMLElement | null} */ (document.querySelector(`[data-section="${name}"]`));

/**
 * Whether the user is working inside a section (focus in it, or a form opened): not replaced then.
 * @param {HTMLElement} el
 */
function busy(el) {
  const active = document.activeElement;
  return (
    (active !== null && active !== document.body && el.contains(active)) ||
    el.querySelector('details[open]') !== null
  );
}

/** Sections left alone while the user worked in them, refreshed once they are done. */
const deferred = new Set();

/** @param {string[]} names */
async function refreshSections(names) {
  const wanted = names.filter((n) => {
    const el = section(n);
    if (!el) return false;
    if (busy(el)) deferred.add(n);
    return !busy(el);
  });
  const base = meta('prodmon-fragments-url');
  if (wanted.length === 0 || !base) return;
  const sep = base.includes('?') ? '&' : '?';
  const data = await getJson(`${base}${sep}sections=${wanted.map(encodeURIComponent).join(',')}`).catch(
    () => null,
  );
  for (const [name, frag] of Object.entries(data?.sections ?? {})) {
    const el = section(name);
    if (!el) continue;
    if (busy(el)) {
      deferred.add(name);
      continue;
    }
    el.innerHTML = frag.html;
    el.setAttribute('data-digest', frag.digest);
    localizeTimes(el);
    el.classList.remove('updated');
    void el.offsetWidth;
    el.classList.add('updated');
    if (name === 'banner') {
      const state = el.querySelector('[data-status] .state')?.textContent;
      if (state) document.title = `${state} · ${document.title.replace(/^[^·]+ · (?=.+ · )/, '')}`;
    }
  }
}

function retryDeferred() {
  if (deferred.size === 0) return;
  setTimeout(() => {
    const names = [...deferred];
    deferred.clear();
    refreshSections(names);
  }, 300);
}
document.addEventListener('focusout', retryDeferred);
document.addEventListener(
  'toggle',
  (e) => {
    const d = /** @type {HTMLDetailsElement} */ (e.target);
    if (!(d instanceof HTMLDetailsElement)) return;
    if (d.open)
      /** @type {HTMLElement | null} */ (
        d.querySelector('textarea, select, input:not([type=hidden])')
      )?.focus();
    else retryDeferred();
  },
  true,
);

const indicator = document.getElementById('live-state');
const streamUrl = meta('prodmon-events-url');
if (streamUrl && 'EventSource' in window) {
  startLive({
    url: streamUrl,
    onSections: refreshSections,
    onTick: refreshCharts,
    // A deploy was recorded: the charts draw its marker now, not at the next tick.
    onChanged(sections) {
      if (sections.includes('deployments')) refreshCharts();
    },
    onState(state) {
      if (!indicator) return;
      indicator.dataset.state = state;
      indicator.textContent =
        state === 'live' ? 'Live' : state === 'reconnecting' ? 'Reconnecting…' : 'Offline, retrying…';
    },
  });
}

// Close an opened form with Escape, back to its button.
document.addEventListener('keydown', (e) => {
  if (e.key !== 'Escape') return;
  for (const d of all('details[open]')) {
    if (d.contains(document.activeElement)) {
      /** @type {HTMLDetailsElement} */ (d).open = false;
      d.querySelector('summary')?.focus();
    }
  }
});
