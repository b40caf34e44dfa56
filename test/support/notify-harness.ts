/**
 * The notification pipeline on a FakeClock over a real SQLite store: accept transitions the way the
 * alert engine does (inside a transaction), move time, and wait until the worker has nothing to do.
 */
import { join } from 'node:path';
import { parseConfig, type ResolvedConfig } from '../../src/config/load.js';
import { FakeClock } from '../../src/core/clock.js';
import type { AlertTransition } from '../../src/domain/transition.js';
import type { ChannelFailure } from '../../src/notifiers/outbox/worker.js';
import { NotificationPipeline, type PipelineOptions } from '../../src/notifiers/pipeline.js';
import { openStore, type Store } from '../../src/store/index.js';
import { T0 } from './notify-fixtures.js';
import { tempDir } from './services.js';

/** A running pipeline with what it reported. */
export interface Harness {
  config: ResolvedConfig;
  clock: FakeClock;
  store: Store;
  pipeline: NotificationPipeline;
  failures: ChannelFailure[];
  recovered: string[];
  disabled: { channel: string; reason: string }[];
  errors: { obj: Record<string, unknown>; msg: string }[];
  leader: { value: boolean };
  /** Accepts a transition in its own transaction (as the engine does), then waits for the worker unless told not to. */
  accept(t: AlertTransition, opts?: { settle?: boolean }): Promise<void>;
  /** Moves time by `ms` in steps of `step`, letting the worker finish its work after each. */
  advance(ms: number, step?: number): Promise<void>;
  /** Waits until the worker is idle. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a pipeline for these channels (and `notifications.outbox` and `grouping` overrides). */
export async function startHarness(
  channels: Record<string, unknown>[],
  outbox: Record<string, unknown> = {},
  opts: {
    start?: boolean;
    dir?: string;
    grouping?: Record<string, unknown>;
    afterSend?: PipelineOptions['afterSend'];
  } = {},
): Promise<Harness> {
  const dir = opts.dir ? { path: opts.dir, cleanup: () => {} } : tempDir();
  const grouping = opts.grouping ? { grouping: opts.grouping } : {};
  const config = parseConfig(
    { server: { public_url: 'https://prodmon.example' }, notifications: { channels, outbox, ...grouping } },
    { dataDir: dir.path, env: {} },
  );
  const clock = new FakeClock(T0);
  const store = await openStore({ driver: 'sqlite', path: join(dir.path, 'prodmon.db') });
  await store.migrate(T0);
  const h = {
    failures: [] as ChannelFailure[],
    recovered: [] as string[],
    disabled: [] as { channel: string; reason: string }[],
    errors: [] as { obj: Record<string, unknown>; msg: string }[],
    leader: { value: true },
  };
  const pipeline = new NotificationPipeline({
    config,
    store,
    clock,
    random: () => 0.5,
    ...(opts.afterSend ? { afterSend: opts.afterSend } : {}),
    isLeader: () => h.leader.value,
    onChannelFailing: (f) => void h.failures.push(f),
    onChannelRecovered: (c) => void h.recovered.push(c),
    onChannelDisabled: (channel, reason) => void h.disabled.push({ channel, reason }),
    log: {
      error: (obj, msg) => void h.errors.push({ obj, msg }),
      warn: (obj, msg) => void h.errors.push({ obj, msg }),
    },
  });
  if (opts.start !== false) pipeline.start();
  const settle = () => pipeline.worker.idle();
  return {
    ...h,
    config,
    clock,
    store,
    pipeline,
    async accept(t, o = {}) {
      await store.transaction((tx) => pipeline.sink.accept(tx, t, clock.now()));
      if (o.settle !== false) await settle();
    },
    async advance(ms, step = 1000) {
      for (let done = 0; done < ms; done += step) {
        await clock.advance(Math.min(step, ms - done));
        await settle();
      }
    },
    settle,
    async close() {
      await pipeline.stop();
      await store.close();
      dir.cleanup();
    },
  };
}
