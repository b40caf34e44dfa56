/**
 * `prodmon notify`: `test <channel>` sends a test message through a channel and prints the outcome;
 * `outbox` lists pending, failed and dead notifications (`--retry` re-queues failed and dead ones);
 * `enable <channel>` re-enables a channel disabled after its endpoint answered 410 Gone;
 * `secret` prints a new random webhook signing secret (`whsec_<base64>`, no config needed).
 * They work from the config and the store; no running server is needed.
 */
import Table from 'cli-table3';
import type { Command } from 'commander';
import type { ResolvedConfig } from '../config/load.js';
import { systemClock } from '../core/clock.js';
import { formatDuration } from '../core/duration.js';
import { ProdmonError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { OutboxItem, OutboxStatus } from '../domain/outbox.js';
import { dashboardBase, testNotification } from '../notifiers/message.js';
import { enableChannel } from '../notifiers/outbox/channel-state.js';
import { buildNotifier } from '../notifiers/pipeline.js';
import { newSecret } from '../notifiers/webhook/signature.js';
import { openStore, type Store, storeTarget } from '../store/index.js';
import {
  EXIT,
  type GlobalOptions,
  globalOptions,
  paint,
  printJson,
  runWithConfig,
  statusColor,
} from './common.js';

/** The most outbox items `notify outbox` lists. */
const MAX_OUTBOX_LIST = 10_000;

const STATUSES: OutboxStatus[] = ['pending', 'delivered', 'failed', 'dead'];

function channelSpec(config: ResolvedConfig, name: string) {
  const spec = config.notifications.channels.find((c) => c.name === name);
  if (!spec) {
    const known = config.notifications.channels.map((c) => c.name);
    throw new ProdmonError(
      'PRODMON_E_CONFIG',
      `no channel named "${name}" in notifications.channels${known.length ? ` (channels: ${known.join(', ')})` : ' (none configured)'}`,
      { exitCode: EXIT.usage },
    );
  }
  return spec;
}

async function withStore<T>(config: ResolvedConfig, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(storeTarget(config));
  try {
    await store.migrate(Date.now());
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Sends a test notification through `name`; resolves with the exit code. */
export async function notifyTest(config: ResolvedConfig, name: string, json: boolean): Promise<number> {
  const spec = channelSpec(config, name);
  const notifier = buildNotifier(spec, { clock: systemClock, config });
  const now = Date.now();
  const n = testNotification(name, now, dashboardBase(config), newId(now, 'nt_'));
  const started = performance.now();
  try {
    const outcome = await notifier.send(n, AbortSignal.timeout(config.notifications.outbox.attempt_timeout));
    const ms = Math.round(performance.now() - started);
    if (json) printJson({ channel: name, kind: spec.kind, durationMs: ms, ...outcome, error: undefined });
    else if (outcome.ok)
      process.stdout.write(
        `${paint('green', 'ok')}: test notification sent through "${name}" (${spec.kind}) in ${ms} ms\n`,
      );
    else {
      const kind = outcome.retryable ? 'temporary failure, would be retried' : 'permanent failure';
      process.stdout.write(
        `${paint('red', 'failed')}: "${name}" (${spec.kind}): ${outcome.reason} (${kind})\n`,
      );
    }
    return outcome.ok ? EXIT.ok : EXIT.failed;
  } finally {
    await notifier.close?.();
  }
}

/** Failed or dead items that a later delivered notification of the same alert and channel made moot. */
async function superseded(store: Store, item: OutboxItem): Promise<boolean> {
  if (!item.alertId) return false;
  const later = (await store.outbox.forAlert(item.alertId)).filter(
    (i) => i.channel === item.channel && i.createdAt > item.createdAt,
  );
  return later.some((i) => i.status === 'delivered');
}

/** Lists (and with `retry`, re-queues) outbox items; resolves with the exit code. */
export async function notifyOutbox(
  config: ResolvedConfig,
  o: { json?: boolean; retry?: boolean; status?: OutboxStatus[]; limit?: number },
): Promise<number> {
  return withStore(config, async (store) => {
    const statuses = o.status ?? ['pending', 'failed', 'dead'];
    const now = Date.now();
    let requeued = 0;
    let skipped = 0;
    if (o.retry) {
      for (const item of await store.outbox.list(
        statuses.filter((s) => s === 'failed' || s === 'dead'),
        10_000,
      )) {
        if (await superseded(store, item)) skipped++;
        else if (await store.outbox.requeue(item.id, now)) requeued++;
      }
    }
    const counts = await store.outbox.counts();
    const items = await store.outbox.list(statuses, o.limit ?? 50);
    if (o.json) {
      printJson({ counts, ...(o.retry ? { requeued, skipped } : {}), items });
      return EXIT.ok;
    }
    if (o.retry) {
      process.stdout.write(
        `re-queued ${requeued} notification(s)${skipped ? `; skipped ${skipped} made moot by a later delivered one` : ''}` +
          `${requeued ? '; a running monitor sends them within notifications.outbox.poll_interval' : ''}\n`,
      );
    }
    process.stdout.write(`${STATUSES.map((s) => `${s} ${counts[s]}`).join(', ')}\n`);
    if (items.length === 0) return EXIT.ok;
    const table = new Table({
      head: ['id', 'channel', 'event', 'alert', 'status', 'attempts', 'age', 'next / last error'],
      style: { head: [], border: [] },
    });
    for (const i of items) {
      const next =
        i.status === 'pending' ? `next in ${formatDuration(Math.max(0, i.nextAttemptAt - now))}` : '';
      table.push([
        i.id,
        i.channel,
        i.transition,
        i.alertId ?? '',
        paint(statusColor(i.status === 'dead' ? 'failed' : i.status), i.status),
        String(i.attempts),
        formatDuration(Math.max(0, now - i.createdAt)),
        [next, i.lastError ?? ''].filter(Boolean).join(' · ').slice(0, 80),
      ]);
    }
    process.stdout.write(`${table.toString()}\n`);
    return EXIT.ok;
  });
}

function parseStatuses(text: string | undefined): OutboxStatus[] | undefined {
  if (!text) return undefined;
  const list = text.split(',').map((s) => s.trim()) as OutboxStatus[];
  const bad = list.filter((s) => !STATUSES.includes(s));
  if (bad.length) {
    throw new ProdmonError(
      'PRODMON_E_CONFIG',
      `--status: unknown status ${bad.join(', ')} (use ${STATUSES.join(', ')})`,
      {
        exitCode: EXIT.usage,
      },
    );
  }
  return list;
}

/** Registers `prodmon notify ...`. */
export function registerNotify(program: Command): void {
  const notify = program.command('notify').description('notification channels and the delivery outbox');
  const run = (cmd: Command, body: (config: ResolvedConfig, opts: GlobalOptions) => Promise<number>) => {
    const opts = globalOptions(cmd);
    return runWithConfig(opts, (config) => body(config, opts));
  };
  notify
    .command('test <channel>')
    .description('send a test message through a channel; exit 1 if it fails')
    .option('--json', 'print JSON')
    .action((channel: string, _o, cmd: Command) =>
      run(cmd, (config, opts) => notifyTest(config, channel, Boolean(opts.json))),
    );
  notify
    .command('outbox')
    .description('list pending, failed and dead notifications')
    .option('--json', 'print JSON')
    .option('--retry', 're-queue failed and dead notifications')
    .option('--status <list>', 'statuses to list, comma-separated (default pending,failed,dead)')
    .option('--limit <n>', `most items to list (default 50, at most ${MAX_OUTBOX_LIST})`)
    .action((_o, cmd: Command) =>
      run(cmd, (config, opts) => {
        const o = opts as GlobalOptions & { retry?: boolean; status?: string; limit?: string };
        const limit = o.limit === undefined ? undefined : Number(o.limit);
        if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > MAX_OUTBOX_LIST)) {
          throw new ProdmonError(
            'PRODMON_E_CONFIG',
            `--limit: expected a whole number from 1 to ${MAX_OUTBOX_LIST}, got "${o.limit}"`,
            { exitCode: EXIT.usage },
          );
        }
        return notifyOutbox(config, { json: o.json, retry: o.retry, status: parseStatuses(o.status), limit });
      }),
    );
  notify
    .command('secret')
    .description('print a new random webhook signing secret (whsec_ + base64 of 32 random bytes)')
    .action(() => {
      process.stdout.write(`${newSecret()}\n`);
    });
  notify
    .command('enable <channel>')
    .description('re-enable a channel that was disabled after its endpoint answered 410 Gone')
    .action((channel: string, _o, cmd: Command) =>
      run(cmd, (config) =>
        withStore(config, async (store) => {
          channelSpec(config, channel);
          const was = await enableChannel(store.state, channel, Date.now());
          process.stdout.write(
            was ? `channel "${channel}" enabled\n` : `channel "${channel}" was not disabled\n`,
          );
          return EXIT.ok;
        }),
      ),
    );
}
