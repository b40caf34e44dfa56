/** What mutes alerts at a moment: silences from the store and the config's maintenance windows. */
import type { Alert } from '../domain/alert.js';
import type { Labels } from '../domain/labels.js';
import type { Silence } from '../domain/silence.js';
import type { Store } from '../store/index.js';
import type { MaintenanceCalendar, OpenWindow } from './maintenance.js';
import { silenceMatches } from './silences.js';

/** Silences and maintenance windows in force at `at`. */
export interface Mutes {
  at: number;
  silences: Silence[];
  windows: OpenWindow[];
}

/** An alert as silences and windows match it. */
export type MuteTarget = { rule: string; labels: Labels; type: Alert['type'] };

/** Loads (at most once per `maxAgeMs`) and applies silences and maintenance windows. */
export class Muting {
  #cached: Mutes | null = null;

  constructor(
    private readonly store: Store,
    readonly calendar: MaintenanceCalendar,
    private readonly maxAgeMs = 1000,
  ) {}

  /** What is in force at `now` (silences re-read when `force` or the cached read is too old). */
  async at(now: number, force = false): Promise<Mutes> {
    const c = this.#cached;
    if (!force && c && c.at <= now && now - c.at < this.maxAgeMs)
      return { ...c, windows: this.calendar.openAt(now) };
    const silences = await this.store.silences.active(now);
    this.#cached = { at: now, silences, windows: this.calendar.openAt(now) };
    return this.#cached;
  }

  /** Ids of the silences and `maintenance:<name>` of the windows muting `t` (empty: not muted). */
  mutedBy(t: MuteTarget, m: Mutes, now: number): string[] {
    const out: string[] = [];
    for (const s of m.silences)
      if (s.startsAt <= now && now < s.endsAt && silenceMatches(s.matchers, t)) out.push(s.id);
    if (m.windows.length)
      out.push(...this.calendar.matching(t, now, m.windows).map((n) => `maintenance:${n}`));
    return out;
  }

  /** The earliest end of a silence or window in force (a muted alert may need telling then). */
  nextEnd(m: Mutes, now: number): number | null {
    let best = this.calendar.nextEnd(now);
    for (const s of m.silences) if (s.endsAt > now && (best === null || s.endsAt < best)) best = s.endsAt;
    return best;
  }
}
