import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HOSTILE, notifierFor, sampleAlert, T0 } from '../../../test/support/notify-fixtures.js';
import { type SmtpReceiver, startSmtpReceiver } from '../../../test/support/receivers.js';
import { STORE_FIXTURES } from '../../../test/support/stores.js';
import type { HealthCheckResult } from '../../domain/health.js';
import type { Store } from '../../store/index.js';
import { buildDailySummary, enqueueDailySummary, sendDailySummary } from './daily.js';

const H = 3_600_000;
const NOW = T0 + 24 * H; // 2026-01-02 12:00 UTC
const check = (name: string, at: number, ok: boolean): HealthCheckResult => ({
  name,
  kind: 'tcp',
  status: ok ? 'healthy' : 'unhealthy',
  responseTimeMs: 1,
  details: {},
  error: ok ? null : `connection refused to ${name}`,
  critical: true,
  checkedAt: at,
});
/** The metrics engine's answer: the day before was faster and cleaner. */
const perf = async ({ since }: { since: number; until: number }) =>
  since >= T0 ? { count: 12_000, p95: 240, errorRate: 0.012 } : { count: 10_000, p95: 200, errorRate: 0.01 };

describe('daily summary', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let smtp: SmtpReceiver;
  before(async () => {
    ({ store, cleanup } = await STORE_FIXTURES[0]!.open());
    smtp = await startSmtpReceiver();
    const alert = (id: string, over: Parameters<typeof sampleAlert>[0]) =>
      store.alerts.insert({ ...sampleAlert({ id, fingerprint: id, ...over }), state: {} });
    // The day before: one alert resolved after 10 min.
    await alert('al_old', {
      createdAt: T0 - 6 * H,
      firingAt: T0 - 6 * H,
      status: 'resolved',
      resolvedAt: T0 - 6 * H + 600_000,
    });
    // The day: a critical resolved after 30 min, a high resolved after 10 min, a medium still open.
    await alert('al_c', {
      severity: 'critical',
      rule: 'error_rate',
      createdAt: T0 + H,
      firingAt: T0 + H,
      status: 'resolved',
      resolvedAt: T0 + H + 1_800_000,
    });
    await alert('al_h', {
      createdAt: T0 + 2 * H,
      firingAt: T0 + 2 * H,
      status: 'resolved',
      resolvedAt: T0 + 2 * H + 600_000,
    });
    await alert('al_m', {
      severity: 'medium',
      message: HOSTILE,
      createdAt: T0 + 3 * H,
      firingAt: T0 + 3 * H,
    });
    await store.checks.insert([
      check('db', T0 + H, true),
      check('db', T0 + 2 * H, false),
      check('db', T0 + 3 * H, false),
      check('cache', T0 + H, true),
    ]);
    await store.checks.insert([check('db', T0 - H, false)]); // the day before: not counted
  });
  after(async () => {
    await smtp.close();
    await cleanup();
  });

  test('counts the day: alerts by severity, MTTR vs the day before, check failures, performance', async () => {
    const s = await buildDailySummary({ store, now: NOW, performanceSummary: perf });
    assert.equal(s.day, '2026-01-02');
    assert.deepEqual([s.alerts.total, s.alerts.open, s.alerts.resolved], [3, 1, 2]);
    assert.deepEqual(s.alerts.bySeverity, { critical: 1, high: 1, medium: 1, low: 0 });
    assert.equal(s.alerts.mttrMs, 1_200_000);
    assert.equal(s.alerts.previousMttrMs, 600_000);
    assert.deepEqual(
      s.alerts.items.map((a) => a.id),
      ['al_c', 'al_h', 'al_m'],
    );
    assert.deepEqual(s.checks.failures, [
      { name: 'db', failures: 2, lastError: 'connection refused to db', lastAt: T0 + 3 * H },
    ]);
    assert.equal(s.checks.runs, 4);
    assert.deepEqual(s.performance.current, { count: 12_000, p95: 240, errorRate: 0.012 });
    assert.deepEqual(s.performance.previous, { count: 10_000, p95: 200, errorRate: 0.01 });
  });

  test('e-mails it to the e-mail channels only, readable, with HTML escaped', async () => {
    const mail = notifierFor({
      name: 'ops-mail',
      kind: 'email',
      to: ['ops@shop.example'],
      smtp: { host: '127.0.0.1', port: smtp.port, starttls: 'off' },
    });
    const hook = notifierFor({ name: 'hook', kind: 'webhook', url: 'http://127.0.0.1:1/never' });
    const { results } = await sendDailySummary({
      store,
      channels: [mail, hook],
      now: NOW,
      performanceSummary: perf,
      link: 'https://prodmon.example/production/dashboard/',
    });
    assert.deepEqual(results, [{ channel: 'ops-mail', outcome: { ok: true } }]);
    const [m] = await smtp.waitFor(1);
    assert.equal(m!.subject, '[prodmon] Daily summary 2026-01-02: 3 alert(s), p95 240 ms');
    const text = m!.text ?? '';
    assert.match(text, /Alerts: +3 \(1 critical, 1 high, 1 medium, 0 low\); 1 still open; 2 resolved/);
    assert.match(text, /MTTR: +20m \(day before: 10m\)/);
    assert.match(text, /p95 latency: +240 ms \+20% \(day before: 200 ms\)/);
    assert.match(text, /Error rate: +1\.2% \+20% \(day before: 1%\)/);
    assert.match(text, /- db: 2 failure\(s\), last at 2026-01-01 15:00:00 UTC: connection refused to db/);
    assert.match(text, /- \[critical\] error_rate \(resolved\)/);
    assert.doesNotMatch(String(m!.html), /<script>|<b>bold/);
    assert.match(String(m!.html), /&lt;script&gt;/);
  });

  test('through the outbox, running the job twice the same day writes it once', async () => {
    const channels = [
      { name: 'ops-mail', kind: 'email' },
      { name: 'hook', kind: 'webhook' },
    ];
    const first = await enqueueDailySummary({ store, outbox: store.outbox, channels, now: NOW });
    const again = await enqueueDailySummary({ store, outbox: store.outbox, channels, now: NOW + 60_000 });
    assert.deepEqual(first.keys, ['summary:2026-01-02:ops-mail']);
    assert.deepEqual(again.keys, []);
    const rows = (await store.outbox.pending()).filter((i) => i.transition === 'summary');
    assert.equal(rows.length, 1);
    assert.equal((rows[0]!.payload.summary as { day: string }).day, '2026-01-02');
  });
});
