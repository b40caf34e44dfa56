import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { tempDir } from '../../test/support/services.js';
import { waitFor } from '../../test/support/wait.js';
import { createApp } from '../app.js';

const dirs: { cleanup: () => void }[] = [];
after(() => {
  for (const d of dirs) d.cleanup();
});

describe('jobs in the running monitor', () => {
  test('the monitor leads its own store, lists its jobs, and a failing job raises a system alert until it succeeds', async () => {
    const d = tempDir();
    dirs.push(d);
    const blocker = join(d.path, 'not-a-dir');
    writeFileSync(blocker, '');
    const m = createApp(
      {
        data_dir: d.path,
        logs: { stdout: false },
        health: {
          builtin_checks: false,
          refresh_interval: '1s',
          checks: [{ name: 'self', kind: 'self' }],
        },
        alerting: { evaluation_interval: '1s', health_checks: { for: '0s' } },
        // The archive directory sits under a file: archiving (and so the cleanup) fails.
        archive: { dir: join(blocker, 'archive') },
      },
      { env: {}, fileLogs: false },
    );
    await m.start();
    try {
      assert.equal(m.leadership.isLeader(), true);
      assert.deepEqual(
        m.scheduler.list().map((j) => [j.job, j.schedule]),
        [
          ['cleanup', '0 3 * * *'],
          ['archive', '0 4 * * 0'],
          ['health', '*/15 * * * *'],
          ['daily_summary', '0 8 * * *'],
          ['compact', '5 * * * *'],
        ],
      );
      const now = Date.now();
      await m.store.checks.insert([
        {
          name: 'old',
          kind: 'tcp',
          status: 'healthy',
          responseTimeMs: 1,
          details: {},
          error: null,
          critical: true,
          checkedAt: now - 40 * 86_400_000,
        },
      ]);
      const failed = await m.scheduler.runNow('cleanup');
      assert.equal(failed.outcome, 'failed');
      assert.match(failed.error ?? '', /ENOTDIR/);
      const [run] = await m.store.jobs.recent({ job: 'cleanup' });
      assert.deepEqual([run?.outcome, run?.instance], ['failed', m.config.instanceId]);

      let all = '';
      await waitFor(
        async () => {
          all = JSON.stringify(
            (await m.store.alerts.list({})).items.map((a) => [a.rule, a.status, a.message]),
          );
          return (await m.store.alerts.listOpen()).find(
            (a) => a.type === 'system' && a.status === 'firing' && /job cleanup/.test(a.message),
          );
        },
        {
          timeout: 15_000,
          interval: 200,
          what: () =>
            `a system alert naming the failed job: ${all} ${JSON.stringify(m.health.report().checks.map((c) => [c.name, c.status, c.error, c.details]))}`,
        },
      );

      m.config.paths.archive = join(d.path, 'archive'); // fixed: the next run succeeds
      const ok = await m.scheduler.runNow('cleanup');
      assert.equal(ok.outcome, 'ok');
      assert.equal(ok.result?.counts.deleted, 1);
      const health = await m.health.run();
      assert.equal(health.checks.find((c) => c.kind === 'self')?.status, 'healthy', 'the problem is cleared');
    } finally {
      await m.stop({ drainDelayMs: 0 });
    }
  });
});
