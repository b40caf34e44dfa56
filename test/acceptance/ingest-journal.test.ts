/**
 * A hub killed with SIGKILL loses no acknowledged push: the rows of open minutes are held in memory
 * until their minute settles, and journaled before the push is answered (src/metrics/open-minutes.ts);
 * the next start writes them to the store. A torn record at the end of the journal (the process died
 * while writing it) is dropped with a log line, never applied in part.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createApp } from '../../src/app.js';
import { FakeClock } from '../../src/core/clock.js';
import { METRIC } from '../../src/metrics/names.js';
import { JOURNAL_DIR, SETTLE_CHECK_MS, SETTLE_MS } from '../../src/metrics/open-minutes.js';
import { canonicalLabels, MINUTE_MS } from '../../src/metrics/rollup.js';
import type { WireRow } from '../../src/metrics/wire.js';
import { openStore } from '../../src/store/index.js';
import { bundled } from '../support/build.js';
import { bucketOf } from '../support/metrics.js';
import { tempDir } from '../support/services.js';
import { waitFor } from '../support/wait.js';

const PUSH = 'push-token-0123456789abcdef';
const CHILD = fileURLToPath(new URL('../support/hub-child.ts', import.meta.url));

/** A hub in a process of its own; resolves once it listens, with its base URL and what it printed. */
async function startHub(config: object): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(process.execPath, [bundled(CHILD), JSON.stringify(config), '--file-logs'], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  let out = '';
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the hub exited with ${code}: ${out}`)));
  });
  return { child, base: `http://127.0.0.1:${port}` };
}

/** Version `v` of the row of `route` (v values so far). */
function wire(route: string, bucket: number, v: number): WireRow {
  const b = bucketOf(Array.from({ length: v }, (_, i) => 10 + ((i * 13) % 80)));
  return {
    metric: METRIC.httpRequest,
    labels: { method: 'GET', route, status_class: '2xx' },
    resolution: MINUTE_MS,
    bucket,
    count: b.count,
    sum: b.sum,
    min: b.min,
    max: b.max,
    errors: 0,
    sketch: b.sketch.toString('base64'),
  };
}

describe('pushes acknowledged before a SIGKILL are all stored after the restart', () => {
  const dir = tempDir();
  const children: ChildProcess[] = [];
  after(async () => {
    for (const c of children) {
      if (c.exitCode !== null || c.signalCode !== null) continue;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await exited;
    }
    dir.cleanup();
  });

  test('held rows come back from the journal; a torn last record is dropped with a log line', async () => {
    const config = {
      data_dir: dir.path,
      instance: 'hub',
      logs: { stdout: false },
      health: { builtin_checks: false },
      auth: { tokens: [{ name: 'agents', token: PUSH, role: 'push' }] },
    };
    const hub = await startHub(config);
    children.push(hub.child);
    const now = Date.now();
    // The next minute: it settles 90 s from now at the earliest, so the hub holds it until then.
    const open = now - (now % MINUTE_MS) + MINUTE_MS;
    // A minute long settled: written to the store at once, as before.
    const old = open - 10 * MINUTE_MS;
    const routes = Array.from({ length: 40 }, (_, i) => `/api/r${i}`);
    const expected = new Map<string, number>();
    const send = async (instance: string, rows: WireRow[]) => {
      const res = await fetch(`${hub.base}/production/ingest`, {
        method: 'POST',
        headers: { authorization: `Bearer ${PUSH}`, 'content-type': 'application/json' },
        body: JSON.stringify({ instance, rows }),
      });
      assert.equal(res.status, 200, await res.text());
      for (const r of rows) expected.set(`${instance} ${canonicalLabels(r.labels)} ${r.bucket}`, r.count);
    };
    for (let v = 1; v <= 3; v++) {
      for (const instance of ['app-0', 'app-1']) {
        // Each push re-sends the minute as it grew; the third only half of the routes.
        await send(
          instance,
          (v === 3 ? routes.slice(0, 20) : routes).map((r) => wire(r, open, v)),
        );
      }
    }
    await send(
      'app-2',
      routes.slice(0, 5).map((r) => wire(r, old, 4)),
    );

    hub.child.kill('SIGKILL');
    await new Promise((r) => hub.child.once('exit', r));

    const dbPath = join(dir.path, 'prodmon.db');
    const readStored = async () => {
      const store = await openStore({ driver: 'sqlite', path: dbPath });
      try {
        const rows = await store.rollups.query({
          metrics: [METRIC.httpRequest],
          resolution: MINUTE_MS,
          since: old,
          until: open + 1,
        });
        return new Map(rows.map((r) => [`${r.instance} ${r.labels} ${r.bucket}`, r.count]));
      } finally {
        await store.close();
      }
    };
    const before = await readStored();
    assert.equal(before.size, 5, 'only the settled minute was in the store when the hub died');

    // The process died in the middle of a record: its length says more than the file holds.
    const journal = join(dir.path, JOURNAL_DIR);
    const last = readdirSync(journal).sort().at(-1)!;
    const torn = Buffer.alloc(8 + 300);
    torn.writeUInt32LE(5000, 0);
    appendFileSync(join(journal, last), torn);

    const again = await startHub(config);
    children.push(again.child);
    const afterRestart = await readStored();
    assert.deepEqual(afterRestart, expected, 'every acknowledged row, at its last acknowledged version');
    assert.equal(afterRestart.size, 2 * 40 + 5);
    assert.deepEqual(readdirSync(journal), [], 'the replayed segments are gone');

    const exited = new Promise<[number | null, string | null]>((r) =>
      again.child.once('exit', (code, signal) => r([code, signal])),
    );
    again.child.kill('SIGTERM');
    assert.deepEqual(await exited, [0, null], 'the restarted hub stopped cleanly on SIGTERM');
    const files = readdirSync(join(dir.path, 'logs'));
    const logs = files
      .filter((f) => f.startsWith('app'))
      .map((f) => readFileSync(join(dir.path, 'logs', f), 'utf8'))
      .join('');
    const context = `log files ${files.join(', ')}; application lines:\n${logs}`;
    assert.match(
      logs,
      /journal: dropped a torn record at the end of .*\.journal \(308 bytes at offset \d+\)/,
      context,
    );
    assert.match(logs, /journal: 85 pushed rows from before the last stop written to the store/, context);
  });
});

describe('a pushed breach is alerted before its minute settles (from the rows held in memory)', () => {
  const dir = tempDir();
  after(() => dir.cleanup());

  test('the alert fires while the store has none of the minute; the minute is written once it settles', async () => {
    const t0 = Date.UTC(2026, 2, 1, 12, 0, 20);
    const minute = t0 - (t0 % MINUTE_MS);
    const clock = new FakeClock(t0);
    const m = createApp(
      {
        data_dir: dir.path,
        instance: 'hub',
        logs: { stdout: false },
        health: { builtin_checks: false },
        auth: { tokens: [{ name: 'agents', token: PUSH, role: 'push' }] },
      },
      { env: {}, clock, fileLogs: false },
    );
    await m.start();
    const raw = await openStore({ driver: 'sqlite', path: join(dir.path, 'prodmon.db') });
    try {
      const slow = (instance: string) => {
        const b = bucketOf(Array.from({ length: 20 }, () => 2500));
        const row: WireRow = {
          metric: METRIC.httpRequest,
          labels: { method: 'GET', route: '/slow', status_class: '2xx' },
          resolution: MINUTE_MS,
          bucket: minute,
          count: b.count,
          sum: b.sum,
          min: b.min,
          max: b.max,
          errors: 0,
          sketch: b.sketch.toString('base64'),
        };
        return m.http.inject({
          method: 'POST',
          url: '/production/ingest',
          headers: { authorization: `Bearer ${PUSH}` },
          payload: { instance, rows: [row, wire('/fast', minute, 5)] },
        });
      };
      for (const instance of ['app-0', 'app-1']) assert.equal((await slow(instance)).statusCode, 200);
      const firing = () =>
        m.alerting.openAlerts().find((a) => a.rule === 'api_response_time' && a.labels.route === '/slow');
      await waitFor(
        async () => {
          // Past the data window (alerting.coalesce_window, stretched by the evaluations' cost).
          await clock.advance(250);
          return firing();
        },
        { what: 'api_response_time firing for /slow' },
      );
      assert.equal(firing()!.severity, 'critical');
      assert.ok(clock.now() < minute + MINUTE_MS + SETTLE_MS, 'before the minute settled');
      const inStore = () =>
        raw.rollups.query({
          metrics: [METRIC.httpRequest],
          resolution: MINUTE_MS,
          since: minute,
          until: minute + 1,
        });
      assert.equal((await inStore()).length, 0, 'the store has none of the minute yet');
      assert.equal(
        (await m.store.rollups.query({ resolution: MINUTE_MS, since: minute, until: minute + 1 })).length,
        4,
      );

      await clock.advance(minute + MINUTE_MS + SETTLE_MS + SETTLE_CHECK_MS - clock.now());
      await waitFor(async () => (await inStore()).length === 4, { what: 'the settled minute in the store' });
    } finally {
      await raw.close();
      await m.stop({ drainDelayMs: 0 });
    }
  });
});
