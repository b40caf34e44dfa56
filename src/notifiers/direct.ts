/**
 * Telling people that prodmon's store is failing, without the store. The regular path (alert engine ->
 * outbox -> worker) writes to the store first, so it is blind exactly then. When the `self` check finds
 * the store failing, this sends a `system` alert straight through the configured channels' notifiers,
 * once, and keeps a record of who was told, in memory and in a side file beside the data (it survives a
 * restart, not the data directory's loss).
 *
 * When the store works again the record is reconciled with the regular path, so nobody is paged twice:
 * - the alert engine opens its alert about the `self` check with the direct alert's id (`adoptId`), so
 *   its resolution later resolves the same incident at the receivers (PagerDuty's dedup key...);
 * - the engine's own `firing` (or `escalated`) notification of that alert is not sent again to a
 *   channel that was told directly: the wrapped notifier reports it delivered without sending;
 * - if the engine does not take the alert over within `holdMs` (the rule is disabled, the alert was
 *   already open, this instance no longer leads), the direct path sends the resolution itself.
 *
 * Silences and maintenance windows live in the store: the direct alert cannot honour them.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { Alert, Severity } from '../domain/alert.js';
import type { Labels } from '../domain/labels.js';
import { attemptNotifications } from './outbox/attempt.js';
import type { ChannelRuntime } from './outbox/worker.js';
import { type RouteChannel, route } from './routing.js';
import { outboxKey } from './sink.js';
import type { AlertNotification, Notification, Notifier, SendOutcome } from './types.js';

/** The alert to send: what the alert engine would raise for the `self` check being unhealthy. */
export interface DirectAlertSpec {
  rule: string;
  fingerprint: string;
  severity: Severity;
  labels: Labels;
  message: string;
}

/** One failure of the store, from its detection until the regular path took over. */
export interface DirectEpisode {
  alertId: string;
  spec: DirectAlertSpec;
  /** What failed (the first reason seen). */
  reason: string;
  startedAt: number;
  /** Channels told directly, and when. */
  told: Record<string, number>;
  /** Channels a direct send failed on: attempts and the last error. */
  failed: Record<string, { attempts: number; error: string; retryable: boolean }>;
  /** The alert engine opened (and fired) its alert with `alertId`. */
  adopted: boolean;
  /** When the store was first seen working again. */
  recoveredAt: number | null;
  /** When the episode ended (the engine took over, or the direct path resolved it). */
  closedAt: number | null;
  /** Channels whose regular notification of the alert was not sent again. */
  deduplicated: string[];
}

/** Where the direct path logs (pino-compatible). */
export interface DirectLog {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/** What the direct path needs. */
export interface DirectAlertsOptions {
  clock: Clock;
  /** The channels' notifiers, as built from the config (not the wrapped ones). */
  channels: ReadonlyMap<string, ChannelRuntime>;
  /** `notifications.channels`, for routing. */
  routes: readonly RouteChannel[];
  /** Link to an alert on the dashboard. */
  link: (alertId: string) => string | null;
  /** Longest wait for one send. */
  attemptTimeoutMs: number;
  /** How long, once the store works again, to wait for the alert engine to take the alert over. */
  holdMs: number;
  /** The side file (null: memory only). */
  file: string | null;
  /** Whether this instance sends (only the leader does). */
  mayNotify: () => boolean;
  log?: DirectLog;
}

/** Direct sends tried per channel while the store stays down. */
const MAX_ATTEMPTS = 3;
/** Ended episodes are forgotten after this long (their records only suppress a second page). */
const KEEP_MS = 7 * 86_400_000;

/** The direct path; see the module comment. */
export class DirectAlerts {
  readonly #o: DirectAlertsOptions;
  #episodes: DirectEpisode[] = [];
  readonly #sending = new Map<string, Promise<void>>();
  readonly #stop = new AbortController();
  /** Told once per failure that no rule covers `self` (not at every refresh). */
  #saidNoRule = false;

  constructor(o: DirectAlertsOptions) {
    this.#o = o;
    this.#episodes = this.#load();
  }

  /** The episode in progress, if any. */
  get current(): DirectEpisode | undefined {
    return this.#episodes.find((e) => e.closedAt === null);
  }

  /** Every episode remembered (the current one last). */
  get episodes(): readonly DirectEpisode[] {
    return this.#episodes;
  }

  /**
   * The store is failing: the first call of an episode sends the alert to every channel routing takes;
   * later calls retry the channels whose send failed (at most {@link MAX_ATTEMPTS} each).
   */
  failing(spec: DirectAlertSpec | null, reason: string): void {
    if (!this.#o.mayNotify()) return;
    let ep = this.current;
    if (!ep) {
      if (!spec) {
        if (!this.#saidNoRule)
          this.#o.log?.error(
            { reason },
            'the store is failing and no alert rule covers the self check: nobody is told',
          );
        this.#saidNoRule = true;
        return;
      }
      const now = this.#o.clock.now();
      ep = {
        alertId: newId(now, 'al_'),
        spec,
        reason,
        startedAt: now,
        told: {},
        failed: {},
        adopted: false,
        recoveredAt: null,
        closedAt: null,
        deduplicated: [],
      };
      this.#episodes.push(ep);
      this.#save();
      const targets = route(
        { kind: 'firing', alert: { ...spec, type: 'system' } },
        this.#o.routes,
        new Set(),
      );
      this.#o.log?.error(
        { reason, alert: ep.alertId, channels: targets },
        `the store is failing: alert sent directly to ${targets.length} channel(s)`,
      );
      for (const ch of targets) this.#send(ep, ch, 'firing');
      return;
    }
    ep.recoveredAt = null;
    for (const [ch, f] of Object.entries(ep.failed))
      if (f.retryable && f.attempts < MAX_ATTEMPTS) this.#send(ep, ch, 'firing');
  }

  /**
   * The store works: whether `self` must stay unhealthy a while longer, until the alert engine has
   * taken the alert over (then the episode ends). Past `holdMs`, the direct path resolves it itself.
   */
  recovered(): { holding: boolean; detail?: string } {
    this.#saidNoRule = false;
    const ep = this.current;
    if (!ep) return { holding: false };
    const now = this.#o.clock.now();
    if (ep.recoveredAt === null) {
      ep.recoveredAt = now;
      this.#save();
    }
    if (ep.adopted || Object.keys(ep.told).length === 0 || !this.#o.mayNotify()) {
      this.#close(ep, now);
      return { holding: false };
    }
    if (now - ep.recoveredAt >= this.#o.holdMs) {
      this.#o.log?.warn(
        { alert: ep.alertId },
        'the alert engine did not take the store alert over: the direct path resolves it',
      );
      for (const ch of Object.keys(ep.told)) this.#send(ep, ch, 'resolved');
      this.#close(ep, now);
      return { holding: false };
    }
    return {
      holding: true,
      detail: `${ep.reason} (told directly at ${new Date(ep.startedAt).toISOString()}); the store works again, the alert engine is taking the alert over`,
    };
  }

  /** The id the alert engine gives a new alert of `fingerprint` (the direct alert's, during an episode). */
  adoptId(fingerprint: string): string | undefined {
    const ep = this.current;
    return ep && !ep.adopted && ep.spec.fingerprint === fingerprint ? ep.alertId : undefined;
  }

  /** Told of every committed alert change: the engine fired the adopted alert. */
  noteChange(alert: Pick<Alert, 'id' | 'status'>): void {
    const ep = this.current;
    if (ep && !ep.adopted && alert.id === ep.alertId && alert.status === 'firing') {
      ep.adopted = true;
      this.#save();
    }
  }

  /**
   * The channels with their notifiers wrapped: a regular `firing` or `escalated` notification of an alert
   * already told directly on that channel is reported delivered without being sent again.
   */
  wrap(channels: ReadonlyMap<string, ChannelRuntime>): Map<string, ChannelRuntime> {
    const out = new Map<string, ChannelRuntime>();
    for (const [name, rt] of channels) out.set(name, { ...rt, notifier: this.#wrapNotifier(rt.notifier) });
    return out;
  }

  /** Resolves when no direct send is in flight. */
  async idle(): Promise<void> {
    while (this.#sending.size > 0) await Promise.allSettled([...this.#sending.values()]);
  }

  /** Aborts sends in flight. */
  async stop(): Promise<void> {
    this.#stop.abort(new Error('prodmon is stopping'));
    await this.idle();
  }

  #wrapNotifier(inner: Notifier): Notifier {
    const wrapped: Notifier = {
      kind: inner.kind,
      name: inner.name,
      defaultRateLimit: inner.defaultRateLimit,
      batchMax: inner.batchMax,
      send: async (n, signal) => ((await this.#alreadyTold(n)) ? { ok: true } : inner.send(n, signal)),
      close: inner.close ? () => inner.close!() : undefined,
    };
    if (inner.sendBatch) {
      const batch = inner.sendBatch.bind(inner);
      wrapped.sendBatch = async (ns, signal): Promise<SendOutcome> => {
        const rest: Notification[] = [];
        for (const n of ns) if (!(await this.#alreadyTold(n))) rest.push(n);
        if (rest.length === 0) return { ok: true };
        return rest.length === 1 ? inner.send(rest[0]!, signal) : batch(rest, signal);
      };
    }
    return wrapped;
  }

  /** Whether `n` repeats what a channel was told directly (then it is recorded as such). */
  async #alreadyTold(n: Notification): Promise<boolean> {
    if (n.event !== 'firing' && n.event !== 'escalated' && n.event !== 'resolved') return false;
    const ep = this.#episodes.find((e) => e.alertId === n.alert.id);
    if (!ep) return false;
    if (n.event === 'resolved') {
      if (ep.closedAt !== null) this.#forget(ep);
      return false;
    }
    await this.#sending.get(`${ep.alertId}:${n.channel}`); // a direct send to this channel in flight
    if (ep.told[n.channel] === undefined || ep.deduplicated.includes(n.channel)) return false;
    ep.deduplicated.push(n.channel);
    this.#save();
    this.#o.log?.info(
      { alert: ep.alertId, channel: n.channel, event: n.event, toldAt: ep.told[n.channel] },
      `not sent again: "${n.channel}" was told of this alert directly while the store was failing`,
    );
    return true;
  }

  #send(ep: DirectEpisode, channel: string, event: 'firing' | 'resolved'): void {
    const key = `${ep.alertId}:${channel}`;
    const rt = this.#o.channels.get(channel);
    if (!rt || this.#sending.has(key)) return;
    const now = this.#o.clock.now();
    const n = this.#notification(ep, channel, event, now);
    const task = (async () => {
      const { outcome } = await attemptNotifications(rt.notifier, [n], {
        clock: this.#o.clock,
        timeoutMs: this.#o.attemptTimeoutMs,
        stop: this.#stop.signal,
      });
      if (event === 'resolved') {
        if (!outcome.ok)
          this.#o.log?.error(
            { alert: ep.alertId, channel, reason: outcome.reason },
            `the direct resolution of the store alert could not be sent to "${channel}"`,
          );
        return;
      }
      if (outcome.ok) {
        ep.told[channel] = this.#o.clock.now();
        delete ep.failed[channel];
      } else {
        const prev = ep.failed[channel];
        ep.failed[channel] = {
          attempts: (prev?.attempts ?? 0) + 1,
          error: outcome.reason,
          retryable: outcome.retryable,
        };
        this.#o.log?.error(
          { alert: ep.alertId, channel, reason: outcome.reason, attempts: ep.failed[channel]!.attempts },
          `the store alert could not be sent directly to "${channel}"`,
        );
      }
      this.#save();
    })().finally(() => this.#sending.delete(key));
    this.#sending.set(key, task);
  }

  #notification(
    ep: DirectEpisode,
    channel: string,
    event: 'firing' | 'resolved',
    now: number,
  ): AlertNotification {
    const transitionId = `${ep.alertId}-direct-${event}`;
    const resolved = event === 'resolved';
    return {
      id: outboxKey(transitionId, channel),
      channel,
      event,
      transitionId,
      at: now,
      link: this.#o.link(ep.alertId),
      alert: {
        id: ep.alertId,
        rule: ep.spec.rule,
        fingerprint: ep.spec.fingerprint,
        type: 'system',
        severity: ep.spec.severity,
        status: resolved ? 'resolved' : 'firing',
        message: ep.spec.message,
        value: 2,
        threshold: 2,
        labels: { ...ep.spec.labels },
        metadata: { delivery: 'direct', reason: 'prodmon could not use its store' },
        createdAt: ep.startedAt,
        firingAt: ep.startedAt,
        resolvedAt: resolved ? now : null,
        resolution: resolved
          ? { kind: 'auto', by: 'prodmon', at: now, reason: 'the store works again' }
          : null,
      },
    };
  }

  #close(ep: DirectEpisode, now: number): void {
    ep.closedAt = now;
    this.#o.log?.info(
      { alert: ep.alertId, adopted: ep.adopted, told: Object.keys(ep.told) },
      ep.adopted
        ? 'the store works again; the alert engine has taken the store alert over'
        : 'the store works again; the store alert episode is over',
    );
    this.#episodes = this.#episodes.filter((e) => e === ep || now - e.startedAt < KEEP_MS);
    this.#save();
  }

  #forget(ep: DirectEpisode): void {
    this.#episodes = this.#episodes.filter((e) => e !== ep);
    this.#save();
  }

  #load(): DirectEpisode[] {
    const file = this.#o.file;
    if (!file) return [];
    try {
      const data = JSON.parse(readFileSync(file, 'utf8')) as { episodes?: DirectEpisode[] };
      return Array.isArray(data.episodes) ? data.episodes : [];
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        this.#o.log?.warn(
          { file, err: errorMessage(err) },
          'the store alert record could not be read; starting afresh',
        );
      return [];
    }
  }

  #save(): void {
    const file = this.#o.file;
    if (!file) return;
    try {
      mkdirSync(dirname(file), { recursive: true });
      const tmp = `${file}.tmp`;
      writeFileSync(tmp, `${JSON.stringify({ version: 1, episodes: this.#episodes }, null, 2)}\n`);
      renameSync(tmp, file);
    } catch (err) {
      this.#o.log?.warn(
        { file, err: errorMessage(err) },
        'the store alert record could not be written (kept in memory)',
      );
    }
  }
}
