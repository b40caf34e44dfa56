/**
 * Operations as a user runs them, through the real binary: `start --daemon`, `status`, `stop` (also with
 * nothing running and with a stale pid file), `cleanup --dry-run` and `cleanup` (the archive holds every
 * deleted record, read back from the .ndjson.gz files), and `report --format html` opened in Chromium.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { ARCHIVE_DATASETS } from '../../src/domain/archive.js';
import { listArchives, readArchive } from '../../src/jobs/index.js';
import { fileStamp } from '../../src/logging/index.js';
import { METRIC } from '../../src/metrics/names.js';
import { canonicalLabels } from '../../src/metrics/rollup.js';
import { encodeSketch, newSketch, sketchAdd } from '../../src/metrics/sketch.js';
import { openStore, type Store } from '../../src/store/index.js';
import { runCli } from '../support/cli.js';
import { recordKey, seedRetention } from '../support/ops-seed.js';
import { tempDir } from '../support/services.js';

const dirs: { cleanup: () => void }[] = [];
const pids: number[] = [];
after(() => {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  for (const d of dirs) d.cleanup();
});
function dir(): string {
  const d = tempDir();
  dirs.push(d);
  return d.path;
}
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function dataStore(cwd: string): Promise<Store> {
  const store = await openStore({ driver: 'sqlite', path: join(cwd, '.prodmon', 'prodmon.db') });
  await store.migrate(Date.now());
  return store;
}

async function counts(store: Store): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const ds of ARCHIVE_DATASETS) out[ds] = await store.archive.count(ds, Date.now() + 86_400_000);
  return out;
}

describe('prodmon start --daemon, status, stop', () => {
  test('start --daemon returns once /health/ answers; status shows it running; stop ends it and removes the pid file', async () => {
    const cwd = dir();
    const started = await runCli(['start', '--daemon', '--port', '0'], { cwd, timeoutMs: 60_000 });
    assert.equal(started.code, 0, started.stderr);
    const [, pidText] = /started in the background \(pid (\d+)\)/.exec(started.stdout) ?? [];
    const [, url] = /listening on (http:\/\/127\.0\.0\.1:\d+) \(health: healthy\)/.exec(started.stdout) ?? [];
    assert.ok(pidText && url, started.stdout);
    const pid = Number(pidText);
    pids.push(pid);
    const pidFile = join(cwd, '.prodmon', 'prodmon.pid');
    assert.equal(readFileSync(pidFile, 'utf8').trim(), String(pid));
    assert.equal((await fetch(`${url}/health/`)).status, 200, 'it answers after start returned');

    const again = await runCli(['start', '--daemon', '--port', '0'], { cwd });
    assert.equal(again.code, 1);
    assert.match(again.stderr, new RegExp(`prodmon is already running from .* \\(pid ${pid}, ${url}\\)`));

    const status = await runCli(['status', '--json'], { cwd });
    assert.equal(status.code, 0, status.stderr);
    const s = JSON.parse(status.stdout);
    assert.deepEqual(
      [s.daemon.running, s.daemon.pid, s.daemon.url, s.status, s.statusFrom],
      [true, pid, url, 'healthy', 'daemon'],
    );
    assert.equal(s.leader?.valid, true, 'the daemon leads its own store');
    assert.ok(s.instances.some((i: { pid: number; leader: boolean }) => i.pid === pid && i.leader));
    assert.deepEqual(
      s.jobs.map((j: { job: string }) => j.job),
      ['cleanup', 'health', 'daily_summary', 'archive', 'compact'],
    );
    const text = await runCli(['status'], { cwd });
    assert.match(
      text.stdout,
      new RegExp(`monitor: +running as a daemon, pid ${pid}, ${url.replace(/\./g, '\\.')}`),
    );
    assert.doesNotMatch(text.stdout, /\x1b\[/, 'no colours off a terminal');

    const stopped = await runCli(['stop'], { cwd, timeoutMs: 60_000 });
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(stopped.stdout, new RegExp(`prodmon \\(pid ${pid}\\) stopped gracefully in \\d+\\.\\d s`));
    assert.equal(alive(pid), false);
    assert.equal(existsSync(pidFile), false);
    const after = JSON.parse((await runCli(['status', '--json'], { cwd })).stdout);
    assert.equal(after.daemon.running, false);
    assert.match(readFileSync(join(cwd, '.prodmon', 'logs', 'application.log'), 'utf8'), /prodmon started/);
  });

  test('stop with nothing running says so and exits 1', async () => {
    const cwd = dir();
    const r = await runCli(['stop'], { cwd });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^prodmon is not running from .*\.prodmon \(no pid file at .*prodmon\.pid\)\n$/);
    const j = await runCli(['stop', '--json'], { cwd });
    assert.equal(j.code, 1);
    assert.equal(JSON.parse(j.stdout).result, 'not-running');
  });

  test('a stale pid file is detected: status reports it, stop removes it (exit 1), start --daemon replaces it', async () => {
    const cwd = dir();
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    assert.equal(alive(gone), false);
    mkdirSync(join(cwd, '.prodmon'), { recursive: true });
    const pidFile = join(cwd, '.prodmon', 'prodmon.pid');
    writeFileSync(pidFile, `${gone}\n`);
    const status = JSON.parse((await runCli(['status', '--json'], { cwd })).stdout);
    assert.deepEqual([status.daemon.running, status.daemon.stale], [false, `pid ${gone} is not running`]);
    const r = await runCli(['stop'], { cwd });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `prodmon is not running: removed a stale pid file (pid ${gone} is not running)\n`);
    assert.equal(existsSync(pidFile), false);

    writeFileSync(pidFile, `${process.pid}\n`); // a live process that is not prodmon (a reused pid)
    const started = await runCli(['start', '--daemon', '--port', '0'], { cwd, timeoutMs: 60_000 });
    assert.equal(started.code, 0, started.stderr);
    assert.match(
      started.stderr,
      new RegExp(`removed a stale pid file \\(pid ${process.pid} is another program\\)`),
    );
    const pid = Number(/pid (\d+)/.exec(started.stdout)?.[1]);
    pids.push(pid);
    assert.equal(readFileSync(pidFile, 'utf8').trim(), String(pid));
    assert.equal((await runCli(['stop'], { cwd, timeoutMs: 60_000 })).code, 0);
  });
});

describe('prodmon cleanup', () => {
  test('--dry-run shows what would go and changes nothing', async () => {
    const cwd = dir();
    const store = await dataStore(cwd);
    const seeded = await seedRetention(store, Date.now());
    const before = await counts(store);
    await store.close();
    const logs = join(cwd, '.prodmon', 'logs');
    mkdirSync(logs, { recursive: true });
    const oldLog = `performance.${fileStamp(Date.now() - 40 * 86_400_000)}.1.log.gz`;
    writeFileSync(join(logs, oldLog), 'x');
    const r = await runCli(['cleanup', '--dry-run', '--json'], { cwd });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.dryRun, true);
    for (const [ds, keys] of Object.entries(seeded.old)) {
      assert.equal(report.datasets.find((d: { dataset: string }) => d.dataset === ds).found, keys.length, ds);
    }
    assert.equal(report.totals.deleted, 0);
    assert.deepEqual(report.logs.files, [join(logs, oldLog)]);
    const text = await runCli(['cleanup', '--dry-run'], { cwd });
    assert.match(text.stdout, /cleanup \(dry run\): nothing was changed/);
    assert.match(text.stdout, /1 would be deleted/);
    const check = await dataStore(cwd);
    assert.deepEqual(await counts(check), before);
    assert.equal((await check.jobs.recent({ job: 'cleanup' })).length, 0, 'a dry run records no run');
    await check.close();
    assert.deepEqual(listArchives(join(cwd, '.prodmon', 'archive')), []);
    assert.ok(existsSync(join(logs, oldLog)));
  });

  test('archives before deleting: the archive holds every deleted record', async () => {
    const cwd = dir();
    const store = await dataStore(cwd);
    const seeded = await seedRetention(store, Date.now());
    // What the records look like in the store before cleanup, to compare with the archive.
    const beforeChecks = await store.checks.history({ limit: 100 });
    const beforeAlerts = await Promise.all(seeded.old.alerts!.map((id) => store.alerts.get(id)));
    await store.close();
    const r = await runCli(['cleanup', '--json'], { cwd });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    const archiveDir = join(cwd, '.prodmon', 'archive');
    assert.equal(report.archiveDir, archiveDir);
    for (const ds of Object.keys(seeded.old)) {
      const records: Record<string, unknown>[] = [];
      for (const f of listArchives(archiveDir, ds)) for await (const rec of readArchive(f)) records.push(rec);
      const deleted = report.datasets.find((d: { dataset: string }) => d.dataset === ds).deleted;
      assert.equal(deleted, seeded.old[ds]!.length, `${ds}: deleted`);
      assert.deepEqual(
        records.map((x) => recordKey(ds, x)).sort(),
        [...seeded.old[ds]!].sort(),
        `${ds}: archived = deleted`,
      );
      if (ds === 'check_results') {
        for (const rec of records) {
          const was = beforeChecks.find((c) => c.id === rec.id)!;
          assert.deepEqual(
            [rec.name, rec.status, rec.checkedAt, rec.details, rec.error, rec.responseTimeMs],
            [was.name, was.status, was.checkedAt, was.details, was.error, was.responseTimeMs],
          );
        }
      }
      if (ds === 'alerts') {
        for (const rec of records) {
          const was = beforeAlerts.find((a) => a?.id === rec.id)!;
          assert.deepEqual(
            [rec.message, rec.resolvedAt, rec.labels],
            [was.message, was.resolvedAt, was.labels],
          );
          assert.equal((rec.events as unknown[]).length, 2, 'with its events');
        }
      }
      if (ds === 'rollups_minute') {
        assert.deepEqual(
          records.map((x) => [x.count, x.sum, x.sketch]).sort(),
          seeded.oldRollups.map((x) => [x.count, x.sum, x.sketch!.toString('base64')]).sort(),
        );
      }
    }
    const check = await dataStore(cwd);
    const left = await counts(check);
    assert.equal(left.check_results, 1, 'the recent check result stays');
    assert.equal(left.alerts, 1, 'the recent resolved alert stays (the open one is never archived)');
    assert.equal((await check.alerts.listOpen()).length, 1);
    const [run] = await check.jobs.recent({ job: 'cleanup' });
    assert.equal(run?.outcome, 'ok');
    assert.equal((run!.detail.counts as { deleted: number }).deleted, report.totals.deleted);
    await check.close();
    const status = JSON.parse((await runCli(['status', '--json'], { cwd })).stdout);
    assert.equal(status.jobs.find((j: { job: string }) => j.job === 'cleanup').last.outcome, 'ok');
  });
});

describe('prodmon report', () => {
  test('--format html writes one self-contained file that opens in Chromium without errors; text and json too', async () => {
    const cwd = dir();
    const store = await dataStore(cwd);
    const now = Date.now();
    const rows = [];
    for (let m = 1; m <= 120; m++) {
      const bucket = Math.floor((now - m * 60_000) / 60_000) * 60_000;
      const sk = newSketch();
      sketchAdd(sk, m < 60 ? 120 : 80, 20);
      rows.push({
        metric: METRIC.httpRequest,
        labels: canonicalLabels({ method: 'GET', route: '/products/:id' }),
        instance: 'shop-1',
        resolution: 60_000,
        bucket,
        count: 20,
        sum: 20 * (m < 60 ? 120 : 80),
        min: 10,
        max: 300,
        errors: m % 10 === 0 ? 1 : 0,
        sketch: encodeSketch(sk),
      });
      rows.push({
        ...rows.at(-1)!,
        metric: METRIC.cpu,
        labels: canonicalLabels({ scope: 'host' }),
        count: 6,
        sum: 6 * 35,
        errors: 0,
        sketch: null,
      });
    }
    await store.rollups.upsert(rows);
    await store.close();
    const file = join(cwd, 'report.html');
    // A fixed end on a minute boundary: the seeded minutes never straddle the period's edges.
    const until = new Date(Math.floor(now / 60_000) * 60_000).toISOString();
    const period = ['--since', '1h', '--until', until];
    const r = await runCli(['report', ...period, '--format', 'html', '--output', file], { cwd });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /report written to .*report\.html/);
    const html = readFileSync(file, 'utf8');
    assert.doesNotMatch(html, /<(script|link|img|iframe)\b/i, 'nothing to load');

    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless=new',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('request', (req) => requests.push(req.url()));
      await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
      assert.deepEqual(errors, []);
      assert.deepEqual(requests, [pathToFileURL(file).href], 'the file loads nothing else');
      assert.equal(await page.locator('h1').textContent(), 'Performance report');
      assert.ok((await page.locator('svg path').count()) >= 3, 'charts have lines');
      const box = await page.locator('figure svg').first().boundingBox();
      assert.ok(box && box.width > 200 && box.height > 50, 'charts are drawn at a visible size');
      assert.match((await page.locator('table').first().textContent()) ?? '', /GET \/products\/:id/);
    } finally {
      await browser.close();
    }

    const text = await runCli(['report', ...period], { cwd });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /requests\s+1,200\s+1,200\s+\+0\.0%/);
    const json = JSON.parse((await runCli(['report', ...period, '--json'], { cwd })).stdout);
    assert.equal(json.current.overall.count, 1200);
    assert.equal(json.previous.overall.count, 1200);
    const bad = await runCli(['report', '--since', 'yesterday-ish'], { cwd });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--since: expected a duration such as "1h", "24h", "7d" or a date/);
    const ancient = await runCli(['report', '--since', '999999999d'], { cwd });
    assert.equal(ancient.code, 2);
    assert.match(ancient.stderr, /--since: expected .* \(1970 to 9999\), got "999999999d"/);
    const long = await runCli(['report', '--since', '400d'], { cwd });
    assert.equal(long.code, 2);
    assert.match(long.stderr, /--since: a report covers at most 366d/);
  });
});
