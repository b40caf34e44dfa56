/** Inhibited alerts through the HTTP API of a real monitor: listed as active, marked with their root cause. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { tempDir } from '../../../test/support/services.js';
import { type App, createApp } from '../../app.js';
import { FakeClock } from '../../core/clock.js';
import type { Alert } from '../../domain/alert.js';
import { METRIC } from '../../metrics/names.js';

const READ = 'read-token-0123456789abcdef';
const dir = tempDir();
const clock = new FakeClock(Date.UTC(2026, 2, 2, 10, 0, 0));
let m: App;

before(async () => {
  m = createApp(
    {
      data_dir: dir.path,
      logs: { stdout: false },
      health: { builtin_checks: false },
      alerting: {
        thresholds: {
          cpu_usage: { enabled: false },
          memory_usage: { enabled: false },
          disk_usage: { enabled: false },
        },
        rules: [{ name: 'db_slow', metric: METRIC.httpRequest, labels: { route: '/db' }, critical: 1000 }],
        inhibit_rules: [
          {
            name: 'db first',
            source: { rules: ['db_slow'] },
            target: { rules: ['api_response_time'], labels: { route: '/slow' } },
          },
        ],
      },
      auth: { tokens: [{ name: 'viewer', token: READ, role: 'read' }] },
    },
    { env: {}, fileLogs: false, clock },
  );
  await m.start();
  await clock.advance(10_000);
  for (const route of ['/db', '/slow'])
    for (let i = 0; i < 20; i++)
      m.metrics.record(METRIC.httpRequest, { route, method: 'GET', status_class: '2xx' }, 2600);
  await m.alerting.evaluateNow();
});
after(async () => {
  await m.stop({ drainDelayMs: 0 });
  dir.cleanup();
});

test('GET /production/alerts/ marks an inhibited alert with what inhibits it', async () => {
  const res = await m.http.inject({
    method: 'GET',
    url: '/production/alerts/',
    headers: { authorization: `Bearer ${READ}` },
  });
  assert.equal(res.statusCode, 200);
  const active = (res.json() as { active: (Alert & { inhibitedBy: unknown })[] }).active;
  const of = (rule: string, route: string) => active.find((a) => a.rule === rule && a.labels.route === route);
  const db = of('db_slow', '/db')!;
  const slow = of('api_response_time', '/slow')!;
  assert.deepEqual(
    [db.status, db.inhibitedBy, slow.status, of('api_response_time', '/db')?.inhibitedBy],
    ['firing', null, 'firing', null],
    'all stay visible as firing alerts; only the target is inhibited',
  );
  assert.deepEqual(slow.inhibitedBy, {
    id: db.id,
    rule: 'db_slow',
    labels: { route: '/db' },
    by: 'db first',
  });
});
