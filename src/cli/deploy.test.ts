/**
 * `prodmon deploy mark|list` as a pipeline runs it: on the store of a data directory (no server), and
 * through a started monitor's HTTP API (`--url`/`--token`, or PRODMON_URL/PRODMON_TOKEN). Bad input
 * exits 2 naming the option, before anything is stored or sent.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../../test/support/cli.js';
import { tempDir } from '../../test/support/services.js';
import { type App, createApp } from '../app.js';
import { FakeClock } from '../core/clock.js';
import type { Deployment } from '../domain/deployment.js';
import { openStore } from '../store/index.js';
import { VERSION } from '../version.js';

describe('prodmon deploy, on the local store', () => {
  const dir = tempDir();
  const data = join(dir.path, '.prodmon');
  after(() => dir.cleanup());
  const cli = (...args: string[]) => runCli(['deploy', ...args], { cwd: dir.path, env: { PRODMON_URL: '' } });

  test('bad input exits 2 naming the option, and creates nothing', async () => {
    const cases: [string[], RegExp][] = [
      [['mark'], /--version is required \(the version deployed, e.g\. v1\.4\.2\)/],
      [['mark', '--version'], /--version needs a value/],
      [['mark', '--version', ''], /--version must not be empty/],
      [['mark', '--version', 'v'.repeat(129)], /--version is longer than 128 characters/],
      [['mark', '--version', 'v1', '--instance', 'web 1'], /--instance must be 1-200 characters/],
      [['mark', '--version', 'v1', '--at', '2999-01-01T00:00:00Z'], /--at is more than 5m in the future/],
      [['mark', '--version', 'v1', '--by', ''], /--by must not be empty/],
      [['list', '--limit', '0'], /"limit" must be an integer from 1 to 1000/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
    }
    assert.equal(existsSync(data), false, 'no data directory was made');
  });

  test('mark records a marker with its audit row and security log line; list shows it', async () => {
    const before = Date.now();
    const marked = await cli(
      'mark',
      '--version',
      'v1.4.2',
      '--note',
      'canary passed',
      '--by',
      'ana',
      '--json',
    );
    assert.equal(marked.code, 0, marked.stderr);
    const d = JSON.parse(marked.stdout).deployment as Deployment;
    assert.deepEqual([d.version, d.instance, d.note, d.by], ['v1.4.2', null, 'canary passed', 'ana']);
    // Recorded at the time of the command: between its start and its end.
    assert.ok(d.at >= before && d.at <= Date.now(), `at ${d.at}, the command ran from ${before}`);
    const text = await cli(
      'mark',
      '--version',
      'v1.4.3',
      '--instance',
      'web-1',
      '--at',
      new Date(d.at + 1000).toISOString(),
    );
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^recorded deploy v1\.4\.3 on web-1 at \S+ \S+Z by cli:\S+: dp_\w+\n$/);

    const list = await cli('list');
    assert.equal(list.code, 0, list.stderr);
    const lines = list.stdout.split('\n');
    const row = (v: string) => lines.findIndex((l) => l.includes(v));
    assert.ok(row('v1.4.3') > 0 && row('v1.4.3') < row('v1.4.2'), `newest first:\n${list.stdout}`);
    assert.match(lines[row('v1.4.2')]!, /v1\.4\.2.*all.*ana.*canary passed/);
    const json = await cli('list', '--json', '--since', '1h', '--instance', 'web-1');
    assert.deepEqual(
      (JSON.parse(json.stdout).deployments as Deployment[]).map((x) => x.version),
      ['v1.4.3'],
    );

    const store = await openStore({ driver: 'sqlite', path: join(data, 'prodmon.db') });
    try {
      const [audit] = await store.audit.list({ target: d.id });
      assert.deepEqual([audit?.action, audit?.actor], ['deploy.mark', 'ana']);
    } finally {
      await store.close();
    }
    const log = readFileSync(join(data, 'logs', 'security.log'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.event === 'deploy.mark');
    assert.deepEqual(
      log.map((l) => [l.version, l.actor]),
      [
        ['v1.4.2', 'ana'],
        ['v1.4.3', log[1]?.actor],
      ],
    );
    assert.match(String(log[1]?.actor), /^cli:/);
  });

  test("--version alone is still prodmon's version", async () => {
    const r = await runCli(['--version'], { cwd: dir.path });
    assert.deepEqual([r.code, r.stdout], [0, `${VERSION}\n`]);
  });
});

describe('prodmon deploy --url, through a running monitor', () => {
  const DEPLOY = 'deploy-token-0123456789abcdef';
  const READ = 'read-token-0123456789abcdef';
  // The monitor's clock is behind this machine's: what the CLI finds fine the server may refuse.
  const T0 = Date.UTC(2026, 2, 2, 10, 0, 0);
  const dir = tempDir();
  const cwd = tempDir();
  let m: App;
  let url = '';

  before(async () => {
    m = createApp(
      {
        data_dir: dir.path,
        logs: { stdout: false },
        health: { builtin_checks: false },
        auth: {
          tokens: [
            { name: 'pipeline', token: DEPLOY, role: 'deploy' },
            { name: 'viewer', token: READ, role: 'read' },
          ],
        },
      },
      { env: {}, fileLogs: false, clock: new FakeClock(T0) },
    );
    await m.start();
    url = await m.listen('127.0.0.1', 0);
  });
  after(async () => {
    await m?.stop({ drainDelayMs: 0 });
    dir.cleanup();
    cwd.cleanup();
  });
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    runCli(['deploy', ...args], { cwd: cwd.path, env: { PRODMON_URL: '', PRODMON_TOKEN: '', ...env } });

  test('mark with --url and --token, or PRODMON_URL and PRODMON_TOKEN; list with a read token', async () => {
    const a = await cli([
      'mark',
      '--version',
      'v2.0.0',
      '--instance',
      'web-1',
      '--url',
      url,
      '--token',
      DEPLOY,
      '--json',
    ]);
    assert.equal(a.code, 0, a.stderr);
    const d = JSON.parse(a.stdout).deployment as Deployment;
    assert.deepEqual([d.version, d.instance, d.by, d.at], ['v2.0.0', 'web-1', 'pipeline', T0]);
    const b = await cli(['mark', '--version', 'v2.0.1', '--note', 'hotfix'], {
      PRODMON_URL: url,
      PRODMON_TOKEN: DEPLOY,
    });
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /^recorded deploy v2\.0\.1 at 2026-03-02 10:00:00Z by pipeline: dp_\w+\n$/);
    assert.deepEqual((await m.store.deployments.list({ limit: 10 })).map((x) => [x.version, x.by]).sort(), [
      ['v2.0.0', 'pipeline'],
      ['v2.0.1', 'pipeline'],
    ]);
    assert.equal(existsSync(join(cwd.path, '.prodmon')), false, 'nothing local is touched');

    const list = await cli(['list', '--json', '--instance', 'web-1', '--url', `${url}/`, '--token', READ]);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(
      (JSON.parse(list.stdout).deployments as Deployment[]).map((x) => x.version),
      ['v2.0.0'],
    );
  });

  test("refusals: the server's answer, the exit code, the token never printed", async () => {
    const forbidden = await cli(['list', '--url', url, '--token', DEPLOY]);
    assert.equal(forbidden.code, 1);
    assert.match(forbidden.stderr, /answered 403: token "pipeline" has role "deploy"; this needs "read"/);
    const wrong = 'wrong-token-0123456789abcdef';
    const bad = await cli(['mark', '--version', 'v9', '--url', url, '--token', wrong]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /answered 401/);
    assert.ok(!bad.stderr.includes(wrong), 'the token is not echoed');
    // Within 5 minutes of this machine's clock, far ahead of the monitor's: its 400 exits 2.
    const ahead = await cli([
      'mark',
      '--version',
      'v9',
      '--at',
      new Date().toISOString(),
      '--url',
      url,
      '--token',
      DEPLOY,
    ]);
    assert.equal(ahead.code, 2, ahead.stderr);
    assert.match(ahead.stderr, /answered 400: "at" is more than 5m in the future/);
    const usage: [string[], NodeJS.ProcessEnv, RegExp][] = [
      [['mark', '--version', 'v9', '--url', url], {}, /--token \(or PRODMON_TOKEN\) is required with --url/],
      [
        ['mark', '--version', 'v9', '--by', 'ana'],
        { PRODMON_URL: url, PRODMON_TOKEN: DEPLOY },
        /--by: a marker recorded over --url/,
      ],
      [
        ['mark', '--version', 'v9', '--url', 'ftp://example.com', '--token', DEPLOY],
        {},
        /--url must be an http\(s\) address/,
      ],
      [['mark', '--version', 'v9', '--token', DEPLOY], {}, /--token needs --url/],
      [['mark', '--version', '', '--url', url, '--token', DEPLOY], {}, /--version must not be empty/],
      [
        ['list', '--limit', '5000', '--url', url, '--token', READ],
        {},
        /"limit" must be an integer from 1 to 1000/,
      ],
    ];
    for (const [args, env, message] of usage) {
      const r = await cli(args, env);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    const down = await cli(['list', '--url', 'http://127.0.0.1:1', '--token', READ]);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /cannot reach prodmon at http:\/\/127\.0\.0\.1:1/);
    assert.deepEqual(
      (await m.store.deployments.list({ limit: 10 })).map((x) => x.version).filter((v) => v === 'v9'),
      [],
      'nothing refused was stored',
    );
  });
});
