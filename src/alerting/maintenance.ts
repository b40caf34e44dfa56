/**
 * Maintenance windows from the config (`alerting.maintenance`): one-off (start + end or duration) or
 * recurring (a cron `schedule` of each start, in a time zone, plus a `duration`). While a window is
 * open, the alerts it matches are recorded but not notified.
 */
import { Cron } from 'croner';
import type { MaintenanceConfig } from '../config/sections/alerting.js';
import type { AlertType } from '../domain/alert.js';
import type { Labels } from '../domain/labels.js';

/** A window that is open at some moment. */
export interface OpenWindow {
  name: string;
  start: number;
  end: number;
  comment: string;
}

/** A window's state at a moment, for listings. */
export interface WindowStatus {
  name: string;
  schedule: string | null;
  timezone: string;
  active: boolean;
  /** The open occurrence, or the next one (null when none is left). */
  start: number | null;
  end: number | null;
  rules: string[];
  labels: Labels;
  types: AlertType[];
  comment: string;
}

interface Window {
  spec: MaintenanceConfig;
  cron: Cron | null;
  durationMs: number;
  start: number | null;
  end: number | null;
}

/** What a window or silence is matched against. */
export interface MuteTarget {
  rule: string;
  labels: Labels;
  type: AlertType;
}

/** Whether `have` includes every pair of `want`. */
export function labelsMatch(want: Labels | undefined, have: Labels): boolean {
  if (!want) return true;
  for (const [k, v] of Object.entries(want)) if (have[k] !== v) return false;
  return true;
}

/** The configured maintenance windows. */
export class MaintenanceCalendar {
  readonly #windows: Window[];

  constructor(specs: readonly MaintenanceConfig[]) {
    this.#windows = specs.map((spec) => {
      if (spec.schedule) {
        const cron = new Cron(spec.schedule, { timezone: spec.timezone ?? 'UTC', paused: true });
        return { spec, cron, durationMs: spec.duration ?? 0, start: null, end: null };
      }
      const start = Date.parse(spec.start!);
      const end = spec.end ? Date.parse(spec.end) : start + (spec.duration ?? 0);
      return { spec, cron: null, durationMs: end - start, start, end };
    });
  }

  /** How many windows are configured. */
  get size(): number {
    return this.#windows.length;
  }

  #occurrence(w: Window, now: number): { start: number; end: number } | null {
    if (!w.cron) return w.start !== null && w.end !== null ? { start: w.start, end: w.end } : null;
    const prev = w.cron.previousRuns(1, new Date(now + 1))[0];
    if (prev && prev.getTime() + w.durationMs > now)
      return { start: prev.getTime(), end: prev.getTime() + w.durationMs };
    const next = w.cron.nextRun(new Date(now));
    return next ? { start: next.getTime(), end: next.getTime() + w.durationMs } : null;
  }

  /** Windows open at `now`. */
  openAt(now: number): OpenWindow[] {
    const out: OpenWindow[] = [];
    for (const w of this.#windows) {
      const o = this.#occurrence(w, now);
      if (o && o.start <= now && now < o.end) out.push({ name: w.spec.name, ...o, comment: w.spec.comment });
    }
    return out;
  }

  /** Names of the windows open at `now` that match `target`. */
  matching(target: MuteTarget, now: number, open = this.openAt(now)): string[] {
    const out: string[] = [];
    for (const o of open) {
      const spec = this.#windows.find((w) => w.spec.name === o.name)!.spec;
      if (spec.rules.length && !spec.rules.includes(target.rule)) continue;
      if (spec.types.length && !spec.types.includes(target.type)) continue;
      if (!labelsMatch(spec.labels, target.labels)) continue;
      out.push(o.name);
    }
    return out;
  }

  /** Every window with its open or next occurrence. */
  status(now: number): WindowStatus[] {
    return this.#windows.map((w) => {
      const o = this.#occurrence(w, now);
      return {
        name: w.spec.name,
        schedule: w.spec.schedule ?? null,
        timezone: w.spec.timezone ?? 'UTC',
        active: o !== null && o.start <= now && now < o.end,
        start: o && o.end > now ? o.start : null,
        end: o && o.end > now ? o.end : null,
        rules: w.spec.rules,
        labels: w.spec.labels,
        types: w.spec.types,
        comment: w.spec.comment,
      };
    });
  }

  /** The earliest end of a window open at `now` (when muted alerts may need a notification), or null. */
  nextEnd(now: number): number | null {
    let best: number | null = null;
    for (const o of this.openAt(now)) if (best === null || o.end < best) best = o.end;
    return best;
  }
}
