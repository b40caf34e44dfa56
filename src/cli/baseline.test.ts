/**
 * `prodmon baseline ...` as a pipeline runs it: on the store of a data directory, and against a running
 * prodmon with --url/--token (PRODMON_URL/PRODMON_TOKEN); the exit codes 0, 1, 2 and 3.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../../test/support/cli.js';
import {
  type FakeRequest,
  flushTo,
  logNormal,
  memoryRecorder,
  recordMinutes,
  seeded,
} from '../../test/support/gate-windows.js';
import { tempDir } from '../../test/support/services.js';
import { findAll, parseXml } from '../../test/support/xml.js';
import { type App, createApp } from '../app.js';
import { openStore, type Store } from '../store/index.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 2, 3, 8, 0);
const at = (m: number) => new Date(T0 + m * MIN).toISOString();
const ADMIN = 'admin-token-0123456789abcdef';
const READ = 'read-token-0123456789abcdef';

function traffic(seed: number, slow = 1) {
  const random = seeded(seed);
  return (): FakeRequest[] => [
    ...Array.from({ length: 40 }, () => ({
      method: 'GET',
      route: '/api/items',
      ms: logNormal(random, 25, 0.3) * slow,
    })),
    ...Array.from({ length: 30 }, () => ({
      method: 'POST',
      route: '/api/orders',
      ms: logNormal(random, 80, 0.3),
    })),
  ];
}

/** 08:00-08:30 steady, 08:30-08:40 GET /api/items 60 % slower, 08:40-08:50 steady. */
async function seed(store: Store): Promise<void> {
  const { recorder } = memoryRecorder('web-1');
  recordMinutes(recorder, T0, 30, traffic(1));
  recordMinutes(recorder, T0 + 30 * MIN, 10, traffic(2, 1.6));
  recordMinutes(recorder, T0 + 40 * MIN, 10, traffic(3));
  await flushTo(recorder, store);
  recorder.close();
}

describe('prodmon baseline on the local store', () => {
  const dir = tempDir();
  before(async () => {
    mkdirSync(join(dir.path, '.prodmon'), { recursive: true });
    const store = await openStore({ driver: 'sqlite', path: join(dir.path, '.prodmon', 'prodmon.db') });
    await store.migrate(Date.now());
    await seed(store);
    await store.close();
  });
  after(() => dir.cleanup());
  const cli = (...args: string[]) =>
    runCli(['baseline', ...args], { cwd: dir.path, env: { PRODMON_URL: '', PRODMON_TOKEN: '' } });

  test('save, list, show; a second save needs --force', async () => {
    const saved = await cli('save', 'before-4.2', '--from', at(0), '--to', at(30), '--by', 'ana');
    assert.equal(saved.code, 0, saved.stderr);
    assert.equal(
      saved.stdout,
      'saved baseline "before-4.2": 2026-03-03 08:00Z to 2026-03-03 08:30Z (30 min, all instances, all routes): 2100 requests, 0 failed, 2 routes\n',
    );
    const again = await cli('save', 'before-4.2', '--since', '30m');
    assert.equal(again.code, 2);
    assert.match(again.stderr, /a baseline named "before-4.2" exists; replace it with --force/);
    const list = await cli('list', '--json');
    assert.deepEqual(
      JSON.parse(list.stdout).baselines.map((b: { name: string; createdBy: string; requests: number }) => [
        b.name,
        b.createdBy,
        b.requests,
      ]),
      [['before-4.2', 'ana', 2100]],
    );
    assert.match(
      (await cli('list')).stdout,
      /before-4\.2 .* 30 min .* all instances, all routes .* 2100 .* ana/,
    );
    const show = await cli('show', 'before-4.2');
    assert.equal(show.code, 0, show.stderr);
    assert.match(
      show.stdout,
      /^ {2}GET \/api\/items +1200 req {2}0 % failed {2}p50 2\d(\.\d+)? ms {2}p95 [\d.]+ ms {2}p99 [\d.]+ ms {2}30 min$/m,
    );
  });

  test('compare: exit 0 with no change, 1 naming the slowed route (text, JSON, JUnit), 3 with too little data, 2 for a bad flag', async () => {
    const ok = await cli('compare', 'before-4.2', '--until', at(50));
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(
      ok.stdout,
      /current: 2026-03-03 08:40Z to 2026-03-03 08:50Z \(10 min, all instances, all routes\)/,
    );
    assert.match(ok.stdout, /no regression \(exit 0\)\n$/);

    const junit = join(dir.path, 'gate.xml');
    const bad = await cli('compare', 'before-4.2', '--until', at(40), '--junit', junit);
    assert.equal(bad.code, 1, bad.stdout + bad.stderr);
    assert.match(
      bad.stdout,
      /regressions:\n {2}GET \/api\/items: p95 \+\d+(\.\d+)? % \([\d.]+ → [\d.]+ ms, \+[\d.]+ ms\) over the \+10 % allowed; Mann-Whitney p = /,
    );
    assert.match(bad.stdout, /REGRESSION: GET \/api\/items \(exit 1\)\n$/);
    const doc = parseXml(readFileSync(junit, 'utf8'));
    const failed = findAll(doc, 'failure').map((f) => f.attrs.message);
    assert.equal(failed.length, 1);
    assert.match(failed[0]!, /^GET \/api\/items: p95 \+/);
    assert.equal(findAll(doc, 'testcase').length, 6, 'overall and two routes, p95 and error rate each');

    // Three minutes hold 210 requests; 300 are asked for.
    const short = await cli(
      'compare',
      'before-4.2',
      '--until',
      at(50),
      '--since',
      '3m',
      '--min-requests',
      '300',
    );
    assert.equal(short.code, 3, short.stdout + short.stderr);
    assert.match(
      short.stdout,
      /missing:\n {2}overall: 210 requests in the window, 300 needed \(210 expected at the baseline's rate\)\n/,
    );
    assert.match(short.stdout, /INCONCLUSIVE: too little data \(exit 3\)/);

    // Flags are checked before anything is read (every flag's message: request.test.ts).
    const flag = await cli('compare', 'before-4.2', '--max-p95', '10', '--json');
    assert.equal(flag.code, 2);
    assert.match(
      flag.stderr,
      /--max-p95 must be an increase from "\+0.1%" to "\+1000%" \(or "off"\), got "10"/,
    );
  });

  test('delete', async () => {
    const del = await cli('delete', 'before-4.2');
    assert.equal(del.code, 0, del.stderr);
    assert.equal(del.stdout, 'deleted baseline "before-4.2"\n');
    const again = await cli('delete', 'before-4.2');
    assert.equal(again.code, 2);
    assert.match(again.stderr, /no baseline named "before-4.2"/);
  });
});

describe('prodmon baseline against a running prodmon (--url, --token)', () => {
  const dir = tempDir();
  let m: App;
  let url: string;
  before(async () => {
    m = createApp(
      {
        data_dir: dir.path,
        logs: { stdout: false },
        health: { builtin_checks: false },
        auth: {
          tokens: [
            { name: 'deployer', token: ADMIN, role: 'admin' },
            { name: 'pipeline', token: READ, role: 'read' },
          ],
        },
      },
      { env: {}, fileLogs: false },
    );
    await m.start();
    url = await m.listen('127.0.0.1', 0);
    await seed(m.store);
  });
  after(async () => {
    await m.stop({ drainDelayMs: 0 });
    dir.cleanup();
  });
  // Run from an empty directory: nothing is read from a local store.
  const cli = (env: Record<string, string>, ...args: string[]) =>
    runCli(['baseline', ...args], { cwd: dir.path, env });

  test('save with an admin token, compare with a read token from the environment; the exit code is the server verdict', async () => {
    const saved = await cli(
      {},
      'save',
      'main',
      '--from',
      at(0),
      '--to',
      at(30),
      '--url',
      url,
      '--token',
      ADMIN,
      '--json',
    );
    assert.equal(saved.code, 0, saved.stderr);
    assert.deepEqual(
      [JSON.parse(saved.stdout).baseline.name, JSON.parse(saved.stdout).baseline.createdBy],
      ['main', 'deployer'],
    );
    const env = { PRODMON_URL: url, PRODMON_TOKEN: READ };
    const bad = await cli(env, 'compare', 'main', '--until', at(40));
    assert.equal(bad.code, 1, bad.stdout + bad.stderr);
    assert.match(bad.stdout, /REGRESSION: GET \/api\/items \(exit 1\)/);
    const denied = await cli(env, 'save', 'other', '--since', '30m');
    assert.equal(denied.code, 2);
    assert.match(denied.stderr, /answered 403: token "pipeline" has role "read"; this needs "admin"/);
    const wrong = await cli({ PRODMON_URL: url, PRODMON_TOKEN: 'not-the-token-at-all' }, 'list');
    assert.equal(wrong.code, 2);
    assert.doesNotMatch(wrong.stderr, /not-the-token-at-all/);
    assert.match(wrong.stderr, /answered 401/);
    assert.equal((await cli({}, 'delete', 'main', '--url', url, '--token', ADMIN)).code, 0);
  });
});
