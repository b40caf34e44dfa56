/**
 * The daily summary: the day's alerts, MTTR, p95 latency and error rate against the day before, and
 * health check failures. `sendDailySummary` is what the jobs scheduler and `prodmon report --email` call.
 */
import type { Severity } from '../../domain/alert.js';
import type { Repos } from '../../store/index.js';
import type { Notifier, SendOutcome, SummaryNotification } from '../types.js';
import type { DailySummary, SummaryAlert, SummaryCheckFailures, SummaryPerformance } from './types.js';

const DAY = 86_400_000;
const RANK: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3 };

/** Overall performance of a period (the metrics engine's `performanceSummary`). */
export type PerformanceSummaryFn = (period: {
  since: number;
  until: number;
}) => Promise<SummaryPerformance | null>;

/** What the summary is built from. */
export interface SummaryInput {
  store: Pick<Repos, 'alerts' | 'checks'>;
  now: number;
  /** Length of the period (default 24 h); the period before is compared. */
  periodMs?: number;
  performanceSummary?: PerformanceSummaryFn;
}

const meanResolution = (alerts: { firingAt: number | null; resolvedAt: number | null }[]) => {
  const ds = alerts
    .filter((a) => a.firingAt !== null && a.resolvedAt !== null)
    .map((a) => a.resolvedAt! - a.firingAt!);
  return ds.length ? ds.reduce((x, y) => x + y, 0) / ds.length : null;
};

/** Builds the summary of the period ending at `now`. */
export async function buildDailySummary(input: SummaryInput): Promise<DailySummary> {
  const period = input.periodMs ?? DAY;
  const until = input.now;
  const since = until - period;
  const prevSince = since - period;
  // Alerts resolved in either period may have started up to a week earlier.
  const { items: recent } = await input.store.alerts.list({ since: prevSince - 7 * DAY, until, limit: 5000 });
  const started = recent.filter((a) => a.createdAt >= since);
  const bySeverity: Record<Severity, number> = { critical: 0, high: 0, medium: 0, low: 0 };
  for (const a of started) bySeverity[a.severity]++;
  const resolvedIn = (from: number, to: number) =>
    recent.filter((a) => a.resolvedAt !== null && a.resolvedAt >= from && a.resolvedAt < to);
  const items: SummaryAlert[] = started
    .slice()
    .sort((a, b) => RANK[a.severity] - RANK[b.severity] || a.createdAt - b.createdAt)
    .slice(0, 50)
    .map((a) => ({
      id: a.id,
      rule: a.rule,
      severity: a.severity,
      status: a.status,
      message: a.message,
      firingAt: a.firingAt,
      resolvedAt: a.resolvedAt,
    }));
  const checks = await input.store.checks.history({ since, until, limit: 100_000 });
  const failures = new Map<string, SummaryCheckFailures>();
  for (const c of checks) {
    if (c.status === 'healthy') continue;
    const f = failures.get(c.name) ?? { name: c.name, failures: 0, lastError: c.error, lastAt: c.checkedAt };
    f.failures++;
    if (c.checkedAt >= f.lastAt) Object.assign(f, { lastAt: c.checkedAt, lastError: c.error });
    failures.set(c.name, f);
  }
  const perf = input.performanceSummary;
  return {
    day: new Date(until - 1).toISOString().slice(0, 10),
    since,
    until,
    alerts: {
      total: started.length,
      bySeverity,
      open: started.filter((a) => a.status !== 'resolved').length,
      resolved: resolvedIn(since, until).length,
      mttrMs: meanResolution(resolvedIn(since, until)),
      previousMttrMs: meanResolution(resolvedIn(prevSince, since)),
      items,
    },
    performance: {
      current: perf ? await perf({ since, until }) : null,
      previous: perf ? await perf({ since: prevSince, until: since }) : null,
    },
    checks: {
      runs: checks.length,
      failures: [...failures.values()].sort(
        (a, b) => b.failures - a.failures || a.name.localeCompare(b.name),
      ),
    },
  };
}

/** What to send the summary through. */
export interface SendSummaryInput extends SummaryInput {
  /** The channels to send to; only `email` channels take the summary (others are skipped). */
  channels: readonly Notifier[];
  /** Dashboard link for the e-mail. */
  link?: string | null;
  signal?: AbortSignal;
  /** Unique id of this summary (message id); default `summary-<day>`. */
  id?: string;
}

/** Builds the summary and e-mails it to each e-mail channel now; returns the summary and each outcome. */
export async function sendDailySummary(
  input: SendSummaryInput,
): Promise<{ summary: DailySummary; results: { channel: string; outcome: SendOutcome }[] }> {
  const summary = await buildDailySummary(input);
  const signal = input.signal ?? new AbortController().signal;
  const results: { channel: string; outcome: SendOutcome }[] = [];
  for (const ch of input.channels.filter((c) => c.kind === 'email')) {
    const n: SummaryNotification = {
      id: `${input.id ?? `summary-${summary.day}`}-${ch.name}`,
      channel: ch.name,
      event: 'summary',
      at: input.now,
      link: input.link ?? null,
      summary,
    };
    results.push({ channel: ch.name, outcome: await ch.send(n, signal) });
  }
  return { summary, results };
}

/**
 * Writes the summary to the outbox for each e-mail channel instead (durable, retried, sent by the leader),
 * keyed `summary:<day>:<channel>`, so running the job twice the same day sends it once.
 */
export async function enqueueDailySummary(
  input: SummaryInput & {
    outbox: Repos['outbox'];
    channels: readonly { name: string; kind: string }[];
    link?: string | null;
  },
): Promise<{ summary: DailySummary; keys: string[] }> {
  const summary = await buildDailySummary(input);
  const keys: string[] = [];
  for (const ch of input.channels.filter((c) => c.kind === 'email')) {
    const key = `summary:${summary.day}:${ch.name}`;
    const payload = { version: 1, event: 'summary', at: input.now, link: input.link ?? null, summary };
    if (
      await input.outbox.enqueue({
        key,
        alertId: null,
        transition: 'summary',
        channel: ch.name,
        payload,
        now: input.now,
      })
    ) {
      keys.push(key);
    }
  }
  return { summary, keys };
}
