/**
 * The outbox worker: delivers pending notifications on the Clock, one channel at a time in order, many
 * channels at once. A row stays pending until its send succeeded and was recorded (at-least-once across
 * crashes; the stable id lets receivers deduplicate). Failures back off exponentially with jitter, honour
 * Retry-After, and give up after `max_age` (status dead), telling the injected callback.
 */
import { scrub } from '../../config/mask.js';
import type { Clock } from '../../core/clock.js';
import { errorMessage } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { OutboxItem } from '../../domain/outbox.js';
import type { Store } from '../../store/index.js';
import { notificationFromItem } from '../message.js';
import type {
  AlertNotification,
  GroupNotification,
  InhibitedAlert,
  Notifier,
  SendOutcome,
} from '../types.js';
import { attempt, attemptSend } from './attempt.js';
import type { DeliveryPolicy } from './backoff.js';
import { disableChannel, disabledState } from './channel-state.js';
import { claimable, type GroupTiming, type GroupUnit, planGroups } from './groups.js';
import { ChannelLimiter, type RateLimit } from './limiter.js';
import { alertKey, planUnits, selectDue } from './plan.js';
import { recordOutcome } from './record.js';

/** A configured channel as the worker uses it. */
export interface ChannelRuntime {
  notifier: Notifier;
  /** From the channel's `rate_limit`, else the kind's default. */
  rateLimit?: RateLimit;
}

/** A channel that lost notifications (gave up, or a permanent error). */
export interface ChannelFailure {
  channel: string;
  status: 'failed' | 'dead';
  reason: string;
  /** How many notifications this failure concerns. */
  items: number;
  at: number;
}

/** Where the worker reports (pino-compatible). */
export interface NotifyLog {
  error(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
}

/** What the worker is built from. */
export interface OutboxWorkerOptions {
  store: Pick<Store, 'outbox' | 'state' | 'transaction'>;
  clock: Clock;
  channels: ReadonlyMap<string, ChannelRuntime>;
  policy: DeliveryPolicy;
  /** Longest sleep between scans (default 5 s); the sink wakes the worker sooner. */
  pollInterval?: number;
  /** Most pending rows read per scan (default 500). */
  scanLimit?: number;
  /** Only the leader delivers (default: always). Checked before every scan and every send. */
  isLeader?: () => boolean | Promise<boolean>;
  onChannelFailing?: (f: ChannelFailure) => void | Promise<void>;
  onChannelRecovered?: (channel: string) => void | Promise<void>;
  onChannelDisabled?: (channel: string, reason: string) => void | Promise<void>;
  log?: NotifyLog;
  /** Values scrubbed from every stored or logged error. */
  secrets?: readonly string[];
  random?: () => number;
  /** Called after a send returned, before it is recorded (crash tests stop here). */
  afterSend?: (items: OutboxItem[], outcome: SendOutcome) => void | Promise<void>;
  /** Timing of grouped rows and how many members a group message lists (default: 0s, 1m, 10). */
  grouping?: GroupTiming & { maxListed: number };
  /** Whether a group is held back by an evaluation pass still writing it. */
  held?: (groupKey: string) => boolean;
  /** The open alerts each of these alerts inhibits (root causes list them in their messages). */
  inhibited?: (alertIds: string[]) => Promise<Map<string, InhibitedAlert[]>>;
}

const DEFAULT_GROUPING = { waitMs: 0, intervalMs: 60_000, maxListed: 10 };

/** A send and its outcome, to be recorded. */
interface Unrecorded {
  channel: string;
  items: OutboxItem[];
  outcome: SendOutcome;
  durationMs: number;
  at: number;
}

/** Delivers the outbox. `start()` runs it in the background; `wake()` makes it look now. */
export class OutboxWorker {
  readonly #o: OutboxWorkerOptions;
  readonly #poll: number;
  readonly #limiters = new Map<string, ChannelLimiter>();
  readonly #busy = new Map<string, Promise<void>>();
  readonly #failing = new Set<string>();
  /** When each (channel, group) last had a message claimed; null: none known. */
  readonly #lastMessage = new Map<string, number | null>();
  /**
   * Sends whose outcome the store refused to record (disk full, read-only...), by item id: their rows
   * still read as pending, but they are not sent again; each scan tries to record them first. Without
   * this, a store that reads but cannot write had the worker send the same notification on every scan.
   * (After a restart they are sent again: at least once, with the same id for the receiver.)
   */
  readonly #unrecorded = new Map<string, Unrecorded>();
  #stop = new AbortController();
  #wakeCtl: AbortController | null = null;
  #loop: Promise<void> | null = null;
  #dirty = false;
  #sleeping = false;
  #idleWaiters: (() => void)[] = [];

  constructor(opts: OutboxWorkerOptions) {
    this.#o = opts;
    this.#poll = opts.pollInterval ?? 5000;
  }

  /** Starts the loop (no-op when running). */
  start(): void {
    if (this.#loop) return;
    this.#stop = new AbortController();
    this.#loop = this.#run();
  }

  /** Stops: in-flight sends are aborted and stay pending; resolves when everything has ended. */
  async stop(): Promise<void> {
    this.#stop.abort(new Error('notification worker stopped'));
    this.#wakeCtl?.abort();
    await this.#loop;
    await Promise.allSettled([...this.#busy.values()]);
    this.#loop = null;
    this.#releaseIdle(true);
  }

  /** Looks at the outbox now (the sink calls this once the rows it wrote have committed). */
  wake(): void {
    this.#dirty = true;
    this.#wakeCtl?.abort();
  }

  /** Resolves when nothing is being sent and nothing is due (for tests and `stop`-free checks). */
  idle(): Promise<void> {
    if (!this.#loop || this.#isIdle()) return Promise.resolve();
    return new Promise((r) => this.#idleWaiters.push(r));
  }

  #isIdle(): boolean {
    return this.#sleeping && !this.#dirty && this.#busy.size === 0;
  }

  #releaseIdle(force = false): void {
    if (!force && !this.#isIdle()) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }

  async #leader(): Promise<boolean> {
    try {
      return this.#o.isLeader ? await this.#o.isLeader() : true;
    } catch (err) {
      this.#o.log?.warn({ err: errorMessage(err) }, 'leadership check failed; not delivering');
      return false;
    }
  }

  async #run(): Promise<void> {
    const { clock } = this.#o;
    let spins = 0;
    while (!this.#stop.signal.aborted) {
      this.#dirty = false;
      let nextAt = clock.now() + this.#poll;
      try {
        nextAt = await this.#scan();
      } catch (err) {
        this.#o.log?.error({ err: this.#scrub(errorMessage(err)) }, 'notification outbox scan failed');
      }
      if (this.#stop.signal.aborted) break;
      if (this.#dirty) continue;
      const wait = Math.min(this.#poll, nextAt - clock.now());
      if (wait <= 0 && ++spins < 3) continue;
      spins = 0;
      this.#wakeCtl = new AbortController();
      this.#sleeping = true;
      this.#releaseIdle();
      try {
        await clock.sleep(Math.max(1, wait), AbortSignal.any([this.#stop.signal, this.#wakeCtl.signal]));
      } catch {
        // woken early, or stopping
      } finally {
        this.#sleeping = false;
      }
    }
  }

  /** Starts a delivery task for each idle channel with due items; returns when to look again. */
  async #scan(): Promise<number> {
    const { clock, store } = this.#o;
    const now = clock.now();
    let nextAt = now + this.#poll;
    if (!(await this.#leader())) return nextAt;
    await this.#recordLeftovers();
    const limit = this.#o.scanLimit ?? 500;
    const pending = await store.outbox.pending(limit);
    const byChannel = new Map<string, OutboxItem[]>();
    for (const item of pending) {
      if (this.#unrecorded.has(item.id)) continue; // sent; its record waits for the store
      const list = byChannel.get(item.channel) ?? [];
      list.push(item);
      byChannel.set(item.channel, list);
    }
    for (const [channel, items] of byChannel) {
      if (this.#busy.has(channel)) continue;
      const rt = this.#o.channels.get(channel);
      if (!rt) {
        await this.#failAll(channel, items, `channel "${channel}" is not configured`);
        continue;
      }
      const disabled = await disabledState(store.state, channel);
      if (disabled) {
        const why = `channel disabled: ${disabled.reason} (re-enable: prodmon notify enable ${channel})`;
        await this.#failAll(channel, items, why);
        continue;
      }
      const split = splitByPath(items);
      const { due, waitUntil } = selectDue(split.plain, now);
      if (waitUntil !== undefined) nextAt = Math.min(nextAt, waitUntil);
      const groups = await this.#planGroups(channel, split.grouped, split.blocked, now);
      if (groups.waitUntil !== undefined) nextAt = Math.min(nextAt, groups.waitUntil);
      if (due.length === 0 && groups.units.length === 0) continue;
      const limiter = this.#limiter(channel, rt);
      const free = limiter.available(now);
      if (free <= 0) {
        nextAt = Math.min(nextAt, limiter.nextFreeAt(now));
        continue;
      }
      const task = this.#deliver(channel, rt, due, groups.units, split.blocked)
        .catch((err) =>
          this.#o.log?.error({ channel, err: this.#scrub(errorMessage(err)) }, 'delivery failed'),
        )
        .finally(() => {
          this.#busy.delete(channel);
          this.wake();
        });
      this.#busy.set(channel, task);
    }
    return nextAt;
  }

  #limiter(channel: string, rt: ChannelRuntime): ChannelLimiter {
    const known = this.#limiters.get(channel);
    if (known) return known;
    const l = new ChannelLimiter(rt.rateLimit ?? rt.notifier.defaultRateLimit);
    this.#limiters.set(channel, l);
    return l;
  }

  get #grouping(): GroupTiming & { maxListed: number } {
    return this.#o.grouping ?? DEFAULT_GROUPING;
  }

  /** The group messages of a channel due now (learning when each group last had one, once). */
  async #planGroups(
    channel: string,
    rows: OutboxItem[],
    blocked: ReadonlySet<string>,
    now: number,
  ): Promise<{ units: GroupUnit[]; waitUntil?: number }> {
    if (rows.length === 0) return { units: [] };
    for (const key of new Set(rows.map((r) => r.groupKey ?? ''))) {
      const k = `${channel}\u0000${key}`;
      if (!this.#lastMessage.has(k))
        this.#lastMessage.set(k, await this.#o.store.outbox.lastGroupMessage(channel, key));
    }
    return planGroups(rows, now, {
      ...this.#grouping,
      lastMessage: (key) => this.#lastMessage.get(`${channel}\u0000${key}`) ?? null,
      held: (key) => this.#o.held?.(key) ?? false,
      blocked,
    });
  }

  /** Sends a channel's due group messages, then its other due items, in order; stops at a retryable failure. */
  async #deliver(
    channel: string,
    rt: ChannelRuntime,
    due: OutboxItem[],
    groups: GroupUnit[],
    blocked: ReadonlySet<string>,
  ): Promise<void> {
    const limiter = this.#limiter(channel, rt);
    for (const unit of groups) {
      if (this.#stop.signal.aborted || !(await this.#leader())) return;
      const now = this.#o.clock.now();
      if (limiter.available(now) <= 0) return;
      const items = await this.#claim(channel, unit, blocked, now);
      if (items.length === 0) continue;
      limiter.take(now);
      const n = await this.#groupNotification(channel, items);
      const outcome = await this.#send(channel, limiter, items, (signal) =>
        sendGrouped(rt.notifier, n, signal),
      );
      if (outcome === null) return;
      if (!outcome.ok && (outcome.retryable || outcome.disable)) return;
    }
    const batchMax = rt.notifier.sendBatch ? (rt.notifier.batchMax ?? 20) : 1;
    const failedAlerts = new Set<string>();
    for (const unit of planUnits(due, limiter.available(this.#o.clock.now()), batchMax)) {
      const items = unit.filter((i) => !failedAlerts.has(i.alertId ?? i.id));
      if (items.length === 0 || this.#stop.signal.aborted) continue;
      if (!(await this.#leader())) return;
      const now = this.#o.clock.now();
      if (limiter.available(now) <= 0) return;
      limiter.take(now);
      const outcome = await this.#send(channel, limiter, items, null);
      if (outcome === null) return;
      if (!outcome.ok) {
        for (const i of items) failedAlerts.add(i.alertId ?? i.id);
        if (outcome.retryable || outcome.disable) return;
      }
    }
  }

  /**
   * The rows of a group message: a claimed one's rows again, or, for a new message, every alert's
   * oldest pending row of the group, claimed now under the message's id (a lone row keeps its own id).
   */
  async #claim(
    channel: string,
    unit: GroupUnit,
    blocked: ReadonlySet<string>,
    now: number,
  ): Promise<OutboxItem[]> {
    const outbox = this.#o.store.outbox;
    if (unit.batchId) return outbox.pendingBatch(unit.batchId);
    const rows = await outbox.pendingGroup(channel, unit.key);
    // Checked after the read: a pass that started writing this group meanwhile holds it.
    if (this.#o.held?.(unit.key)) return [];
    const pick = claimable(rows, blocked);
    if (pick.length === 0) return [];
    const batchId = pick.length === 1 ? pick[0]!.id : newId(now, 'ng_');
    const claimed = await outbox.claim(
      pick.map((r) => r.id),
      batchId,
      now,
    );
    this.#lastMessage.set(`${channel}\u0000${unit.key}`, now);
    // All claimed (the usual case): the rows as read; else the ones this message did get.
    if (claimed === pick.length) return pick.map((r) => ({ ...r, batchId, updatedAt: now }));
    return outbox.pendingBatch(batchId);
  }

  /** What a group message carries: one member as itself, several as one group notification. */
  async #groupNotification(
    channel: string,
    items: OutboxItem[],
  ): Promise<AlertNotification | GroupNotification> {
    const members = items.map((i) => notificationFromItem(i) as AlertNotification);
    const first = members[0]!;
    const key = items[0]!.groupKey ?? first.alert.rule;
    const open = await this.#o.store.outbox.openInGroup(channel, key);
    const group = { key, rule: first.alert.rule, labels: {}, ...first.group, open };
    const inhibited = await this.#inhibited(members);
    for (const m of members) {
      const list = inhibited.get(m.alert.id);
      if (list?.length) m.inhibits = list;
    }
    if (members.length === 1) return { ...first, group };
    return {
      id: items[0]!.batchId ?? items[0]!.id,
      channel,
      event: 'group',
      at: Math.max(...members.map((m) => m.at)),
      link: groupLink(first.link),
      group,
      members,
      maxListed: this.#grouping.maxListed,
    };
  }

  async #inhibited(members: AlertNotification[]): Promise<Map<string, InhibitedAlert[]>> {
    if (!this.#o.inhibited) return new Map();
    try {
      return await this.#o.inhibited(members.map((m) => m.alert.id));
    } catch (err) {
      this.#o.log?.warn({ err: this.#scrub(errorMessage(err)) }, 'reading inhibited alerts failed');
      return new Map();
    }
  }

  /**
   * One attempt and its record: `send` (null: the items as they are, one or a batch); returns the
   * outcome, or null when the worker is stopping (the items stay pending, due now).
   */
  async #send(
    channel: string,
    limiter: ChannelLimiter,
    items: OutboxItem[],
    send: ((signal: AbortSignal) => Promise<SendOutcome>) | null,
  ): Promise<SendOutcome | null> {
    const rt = this.#o.channels.get(channel)!;
    const o = { clock: this.#o.clock, timeoutMs: this.#o.policy.attemptTimeout, stop: this.#stop.signal };
    const { outcome, durationMs, interrupted } = send
      ? await attempt(send, o)
      : await attemptSend(rt.notifier, items, o);
    if (interrupted) return null;
    await this.#o.afterSend?.(items, outcome);
    const sent: Unrecorded = { channel, items, outcome, durationMs, at: this.#o.clock.now() };
    let result: Awaited<ReturnType<typeof recordOutcome>>;
    try {
      result = await this.#record(sent);
    } catch (err) {
      for (const i of items) this.#unrecorded.set(i.id, sent);
      throw err;
    }
    await this.#after(channel, limiter, outcome, result);
    return outcome;
  }

  #record(sent: Unrecorded): ReturnType<typeof recordOutcome> {
    const { outcome } = sent;
    return recordOutcome(this.#o.store, sent.items, outcome, {
      now: sent.at,
      durationMs: sent.durationMs,
      policy: this.#o.policy,
      random: this.#o.random ?? Math.random,
      reason: outcome.ok ? null : this.#scrub(outcome.reason),
    });
  }

  /** Records the sends the store refused before (oldest first); stops at the first refusal. */
  async #recordLeftovers(): Promise<void> {
    for (const sent of new Set(this.#unrecorded.values())) {
      let result: Awaited<ReturnType<typeof recordOutcome>>;
      try {
        result = await this.#record(sent);
      } catch (err) {
        this.#o.log?.error(
          { err: this.#scrub(errorMessage(err)), items: this.#unrecorded.size },
          'recording sent notifications failed; they are not sent again meanwhile',
        );
        return;
      }
      for (const i of sent.items) this.#unrecorded.delete(i.id);
      const rt = this.#o.channels.get(sent.channel);
      if (rt) await this.#after(sent.channel, this.#limiter(sent.channel, rt), sent.outcome, result);
    }
  }

  async #after(
    channel: string,
    limiter: ChannelLimiter,
    outcome: SendOutcome,
    r: { dead: number; failed: number; retryAt: number | null },
  ): Promise<void> {
    const now = this.#o.clock.now();
    if (outcome.ok) {
      limiter.resume();
      if (this.#failing.delete(channel)) await this.#callback(() => this.#o.onChannelRecovered?.(channel));
      return;
    }
    const reason = this.#scrub(outcome.reason);
    if (r.retryAt !== null) limiter.pause(r.retryAt);
    if (outcome.disable) {
      await disableChannel(this.#o.store.state, channel, reason, now);
      this.#o.log?.error(
        { channel, reason },
        `notification channel "${channel}" disabled: its endpoint is gone`,
      );
      await this.#callback(() => this.#o.onChannelDisabled?.(channel, reason));
    }
    if (r.dead > 0) await this.#report({ channel, status: 'dead', reason, items: r.dead, at: now });
    if (r.failed > 0) await this.#report({ channel, status: 'failed', reason, items: r.failed, at: now });
  }

  async #failAll(channel: string, items: OutboxItem[], reason: string): Promise<void> {
    const now = this.#o.clock.now();
    await this.#o.store.transaction(async (tx) => {
      for (const i of items) {
        await tx.outbox.setState(i.id, {
          status: 'failed',
          attempts: i.attempts,
          nextAttemptAt: i.nextAttemptAt,
          lastError: reason,
          now,
        });
      }
    });
    await this.#report({ channel, status: 'failed', reason, items: items.length, at: now });
  }

  async #report(f: ChannelFailure): Promise<void> {
    this.#failing.add(f.channel);
    const what = f.status === 'dead' ? 'gave up on' : 'could not deliver';
    this.#o.log?.error(
      { channel: f.channel, status: f.status, items: f.items, reason: f.reason },
      `notification channel "${f.channel}" failing: ${what} ${f.items} notification(s)`,
    );
    await this.#callback(() => this.#o.onChannelFailing?.(f));
  }

  async #callback(fn: () => void | Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.#o.log?.error({ err: this.#scrub(errorMessage(err)) }, 'notification callback failed');
    }
  }

  #scrub(text: string): string {
    return scrub(text, this.#o.secrets ?? []);
  }
}

/**
 * A channel's pending rows by delivery path: grouped rows, and the others (one by one, or a digest).
 * Each alert goes by the path of its oldest pending row; its later rows on the other path wait (the
 * alerts in `blocked` have grouped rows waiting), so a resolution never overtakes its firing when
 * grouping is switched on or off.
 */
function splitByPath(items: readonly OutboxItem[]): {
  grouped: OutboxItem[];
  plain: OutboxItem[];
  blocked: Set<string>;
} {
  const first = new Map<string, boolean>();
  const grouped: OutboxItem[] = [];
  const plain: OutboxItem[] = [];
  const blocked = new Set<string>();
  for (const i of items) {
    const a = alertKey(i);
    const isGrouped = Boolean(i.groupKey);
    const path = first.get(a) ?? isGrouped;
    first.set(a, path);
    if (path !== isGrouped) {
      // A grouped row of an alert whose older rows go one by one waits; a group message must not take it.
      if (isGrouped) blocked.add(a);
      continue;
    }
    (isGrouped ? grouped : plain).push(i);
  }
  return { grouped, plain, blocked };
}

/** Sends a group message: a lone member as itself; several in the kind's grouped format. */
async function sendGrouped(
  notifier: Notifier,
  n: AlertNotification | GroupNotification,
  signal: AbortSignal,
): Promise<SendOutcome> {
  if (n.event !== 'group') return notifier.send(n, signal);
  if (notifier.sendGroup) return notifier.sendGroup(n, signal);
  if (notifier.sendBatch) return notifier.sendBatch(n.members, signal);
  for (const m of n.members) {
    const r = await notifier.send(m, signal);
    if (!r.ok) return r;
  }
  return { ok: true };
}

/** The dashboard's alert list, from a member's link to one alert. */
function groupLink(link: string | null): string | null {
  return link ? link.replace(/\/[^/]*$/, '') : null;
}
