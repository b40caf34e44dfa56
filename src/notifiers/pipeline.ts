/**
 * The notification pipeline as the app wires it: channels built from `notifications.channels`, the sink
 * the alert engine hands transitions to, and the outbox worker that delivers them.
 */
import type { ResolvedConfig } from '../config/load.js';
import type { Clock } from '../core/clock.js';
import { ProdmonError } from '../core/errors.js';
import type { Store } from '../store/index.js';
import { inhibitedBy } from './inhibited.js';
import { alertLink, dashboardBase } from './message.js';
import { GroupHolds } from './outbox/holds.js';
import {
  type ChannelFailure,
  type ChannelRuntime,
  type NotifyLog,
  OutboxWorker,
  type OutboxWorkerOptions,
} from './outbox/worker.js';
import { notifierKind } from './registry.js';
import type { RouteChannel } from './routing.js';
import { NotificationSink } from './sink.js';
import type { Notifier } from './types.js';

/** A channel entry as config validation leaves it. */
export type ChannelConfig = ResolvedConfig['notifications']['channels'][number];

/** Builds the notifier of one configured channel. */
export function buildNotifier(spec: ChannelConfig, ctx: { clock: Clock; config: ResolvedConfig }): Notifier {
  const def = notifierKind(spec.kind);
  if (!def)
    throw new ProdmonError('PRODMON_E_CONFIG', `unknown channel kind "${spec.kind}"`, { exitCode: 2 });
  return def.create(spec as never, {
    clock: ctx.clock,
    attemptTimeout: ctx.config.notifications.outbox.attempt_timeout,
    dashboardUrl: dashboardBase(ctx.config),
  });
}

/** Every configured channel, by name. */
export function buildChannels(config: ResolvedConfig, clock: Clock): Map<string, ChannelRuntime> {
  const out = new Map<string, ChannelRuntime>();
  for (const spec of config.notifications.channels) {
    out.set(spec.name, {
      notifier: buildNotifier(spec, { clock, config }),
      ...(spec.rate_limit ? { rateLimit: { max: spec.rate_limit.max, per: spec.rate_limit.per } } : {}),
    });
  }
  return out;
}

/** What the pipeline needs from the app. */
export interface PipelineOptions {
  config: ResolvedConfig;
  /** With `alerts`, a root cause's message lists the alerts it inhibits. */
  store: Pick<Store, 'outbox' | 'state' | 'transaction'> & Partial<Pick<Store, 'alerts'>>;
  clock: Clock;
  log?: NotifyLog;
  /** Only the leader delivers (default: always). */
  isLeader?: () => boolean | Promise<boolean>;
  /** A channel lost notifications: the app raises a `system` alert (label `notification_channel`). */
  onChannelFailing?: (f: ChannelFailure) => void | Promise<void>;
  onChannelRecovered?: (channel: string) => void | Promise<void>;
  /** A channel's endpoint answered 410 Gone and the channel was disabled. */
  onChannelDisabled?: (channel: string, reason: string) => void | Promise<void>;
  /** Channels to use instead of building them from the config (tests). */
  channels?: Map<string, ChannelRuntime>;
  random?: () => number;
  /** Called after a send returned, before it is recorded (crash tests stop the process here). */
  afterSend?: OutboxWorkerOptions['afterSend'];
}

/** The sink, the worker and the channels, started and stopped together. */
export class NotificationPipeline {
  readonly sink: NotificationSink;
  readonly worker: OutboxWorker;
  readonly channels: Map<string, ChannelRuntime>;

  constructor(o: PipelineOptions) {
    const out = o.config.notifications.outbox;
    const grouping = o.config.notifications.grouping;
    const holds = new GroupHolds(() => this.worker.wake());
    this.channels = o.channels ?? buildChannels(o.config, o.clock);
    this.worker = new OutboxWorker({
      store: o.store,
      clock: o.clock,
      channels: this.channels,
      policy: {
        minBackoff: out.min_backoff,
        maxBackoff: out.max_backoff,
        maxAge: out.max_age,
        attemptTimeout: out.attempt_timeout,
      },
      pollInterval: out.poll_interval,
      isLeader: o.isLeader,
      onChannelFailing: o.onChannelFailing,
      onChannelRecovered: o.onChannelRecovered,
      onChannelDisabled: o.onChannelDisabled,
      log: o.log,
      secrets: o.config.secrets,
      random: o.random,
      afterSend: o.afterSend,
      grouping: {
        waitMs: grouping.group_wait,
        intervalMs: grouping.group_interval,
        maxListed: grouping.max_listed,
      },
      held: (key) => holds.isHeld(key),
      ...(o.store.alerts && o.config.alerting.inhibit_rules.length > 0
        ? { inhibited: inhibitedBy(o.store.alerts) }
        : {}),
    });
    this.sink = new NotificationSink({
      channels: o.config.notifications.channels as RouteChannel[],
      link: (id) => alertLink(o.config, id),
      onEnqueued: () => this.worker.wake(),
      grouping: grouping.enabled ? { groupBy: grouping.group_by } : null,
      holds,
    });
  }

  /** Starts delivering. */
  start(): void {
    this.worker.start();
  }

  /** Stops delivering (pending notifications stay in the outbox) and closes the channels. */
  async stop(): Promise<void> {
    await this.worker.stop();
    await Promise.allSettled([...this.channels.values()].map((c) => c.notifier.close?.()));
  }
}
