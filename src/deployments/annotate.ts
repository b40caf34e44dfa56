/**
 * Which deploy an alert follows: an alert that starts firing within `deployments.alert_window` after a
 * deploy marker keeps that marker in its metadata (`deploy`), set once when it starts firing. Every
 * reader (notifications, the dashboard, the CLI, the API) shows it from there, in the words of
 * `deployText` (src/alerting/message.ts).
 *
 * A marker of the whole service (no instance) applies to every alert; a marker of one instance only to
 * alerts whose `instance` label names that instance.
 */
import type { Deployment } from '../domain/deployment.js';
import type { Labels } from '../domain/labels.js';

/** The key of an alert's metadata naming the deploy it fired after. */
export const DEPLOY_KEY = 'deploy';

/** The deploy an alert fired after, as its metadata keeps it. */
export interface DeployRef {
  id: string;
  version: string;
  instance: string | null;
  /** When it was deployed, ms. */
  at: number;
}

/** The label of an alert naming its instance (instance-scoped markers apply only to alerts that have it). */
export const INSTANCE_LABEL = 'instance';

/** The default of `deployments.alert_window`. */
export const DEFAULT_ALERT_WINDOW_MS = 30 * 60_000;

/** Whether a marker applies to an alert with these labels. */
export function appliesTo(d: Pick<Deployment, 'instance'>, labels: Labels): boolean {
  return d.instance === null || labels[INSTANCE_LABEL] === d.instance;
}

/**
 * The newest marker that applies to an alert with `labels` starting to fire at `at`: deployed at or
 * before `at`, at most `windowMs` before it. `markers` may come in any order.
 */
export function deployBefore(
  markers: readonly Deployment[],
  labels: Labels,
  at: number,
  windowMs: number,
): DeployRef | null {
  let best: Deployment | null = null;
  for (const d of markers) {
    if (d.at > at || at - d.at > windowMs || !appliesTo(d, labels)) continue;
    if (!best || d.at > best.at || (d.at === best.at && d.id > best.id)) best = d;
  }
  return best ? { id: best.id, version: best.version, instance: best.instance, at: best.at } : null;
}

/** The deploy an alert's metadata names (null: none, or a value that is not one). */
export function deployOf(metadata: Record<string, unknown>): DeployRef | null {
  const d = metadata[DEPLOY_KEY] as Partial<DeployRef> | null | undefined;
  if (!d || typeof d !== 'object' || typeof d.version !== 'string' || typeof d.at !== 'number') return null;
  return {
    id: typeof d.id === 'string' ? d.id : '',
    version: d.version,
    instance: typeof d.instance === 'string' ? d.instance : null,
    at: d.at,
  };
}

/** Markers the alert engine looks up: those of the last window, read at most once per `maxAgeMs`. */
export class RecentDeploys {
  #cached: { at: number; markers: Deployment[] } | null = null;

  constructor(
    private readonly read: (since: number, until: number) => Promise<Deployment[]>,
    readonly windowMs: number,
    private readonly maxAgeMs = 1000,
  ) {}

  /** The markers of [now - window, now] (re-read when `force` or the cached read is too old). */
  async at(now: number, force = false): Promise<readonly Deployment[]> {
    if (this.windowMs <= 0) return [];
    const c = this.#cached;
    if (!force && c && c.at <= now && now - c.at < this.maxAgeMs) return c.markers;
    const markers = await this.read(now - this.windowMs, now + 1);
    this.#cached = { at: now, markers };
    return markers;
  }

  /** The lookup of a rule's groups at `now` over `markers` (see {@link deployBefore}). */
  lookup(markers: readonly Deployment[], now: number): (labels: Labels) => DeployRef | null {
    return (labels) => (markers.length === 0 ? null : deployBefore(markers, labels, now, this.windowMs));
  }
}
