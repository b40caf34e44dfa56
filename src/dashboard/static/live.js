// @ts-check
/**
 * Live updates: one EventSource to the monitor. `state` (on connect) and `change` events name the
 * sections whose content differs from what the page shows; `tick` asks charts to refresh. After a
 * restart of prodmon the stream is re-opened with a growing delay, and the page catches up.
 */
import { meta, signIn } from './dom.js';

/**
 * @typedef {object} LiveOptions
 * @property {string} url event-stream URL
 * @property {(sections: string[]) => void} onSections sections to re-fetch
 * @property {() => void} onTick charts should refresh
 * @property {(sections: string[]) => void} [onChanged] every section that changed, shown on the page or
 *   not (`deployments`: the charts' markers)
 * @property {(state: 'live' | 'reconnecting' | 'offline') => void} onState
 */

/**
 * The digest a section was rendered with.
 * @param {string} name
 */
function sectionDigest(name) {
  return document.querySelector(`[data-section="${name}"]`)?.getAttribute('data-digest') ?? null;
}

/** @param {LiveOptions} opts */
export function startLive(opts) {
  /** @type {EventSource | null} */
  let es = null;
  let delay = 1000;
  let everOpen = false;

  /** @param {MessageEvent} e */
  const parse = (e) => {
    try {
      return JSON.parse(e.data);
    } catch {
      return null;
    }
  };

  const connect = () => {
    es = new EventSource(opts.url, { withCredentials: true });
    es.addEventListener('open', () => {
      delay = 1000;
      opts.onState('live');
      if (everOpen) opts.onTick();
      everOpen = true;
    });
    es.addEventListener('state', (e) => {
      const data = parse(/** @type {MessageEvent} */ (e));
      if (!data?.digest) return;
      const stale = Object.keys(data.digest).filter((k) => {
        const shown = sectionDigest(k);
        return shown !== null && shown !== data.digest[k];
      });
      if (stale.length > 0) opts.onSections(stale);
    });
    es.addEventListener('change', (e) => {
      const data = parse(/** @type {MessageEvent} */ (e));
      if (!Array.isArray(data?.sections)) return;
      opts.onChanged?.(data.sections);
      opts.onSections(data.sections.filter((/** @type {string} */ s) => sectionDigest(s) !== null));
    });
    es.addEventListener('tick', () => opts.onTick());
    es.addEventListener('error', () => {
      if (!es) return;
      if (es.readyState === EventSource.CLOSED) {
        es.close();
        es = null;
        opts.onState('offline');
        setTimeout(retry, delay);
        delay = Math.min(delay * 2, 30_000);
      } else {
        opts.onState('reconnecting');
      }
    });
  };

  // The stream failed for good (prodmon restarting, full, signed out): check the session, then retry.
  const retry = async () => {
    try {
      const res = await fetch(meta('prodmon-session-url'), { credentials: 'same-origin' });
      if (res.status === 401) return signIn();
      if (!res.ok) throw new Error(String(res.status));
    } catch {
      setTimeout(retry, delay);
      delay = Math.min(delay * 2, 30_000);
      return;
    }
    connect();
  };

  connect();
  addEventListener('pagehide', () => {
    es?.close();
    es = null;
  });
  addEventListener('pageshow', (e) => {
    if (e.persisted && !es) connect();
  });
}
