/**
 * `prodmon status` and `stop` beside a monitor started in the foreground, and with `${VAR}`s unset that
 * they do not need: the real binary in child processes, on SQLite in a temporary data directory.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createApp } from '../../src/app.js';
import { type CliResult, finished, runCli, spawnCli, waitForOutput } from '../support/cli.js';
import { tempDir } from '../support/services.js';
import { waitFor } from '../support/wait.js';

const dirs: { cleanup: () => void }[] = [];
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) d.cleanup();
});
function dir(): string {
  const d = tempDir();
  dirs.push(d);
  return d.path;
}

const LISTENING = /listening on (http:\/\/127\.0\.0\.1:\d+)/;

/** `prodmon start --port 0` in the foreground; resolves once it listens. */
async function startForeground(cwd: string, env: NodeJS.ProcessEnv = {}) {
  const child = spawnCli(['start', '--port', '0'], { cwd, env });
  children.push(child);
  const result = finished(child);
  const [, url] = await waitForOutput(child, LISTENING, 30_000);
  return { child, result, url: url! };
}

interface StatusJson {
  status: string;
  statusFrom: string;
  daemon: { running: boolean; mode: string | null; pid: number | null; url: string | null };
  leader: { valid: boolean } | null;
  instances: { id: string; pid: number; leader: boolean; alive: boolean }[];
}

/** `status --json`, retried until the monitor has written its first heartbeat and lease. */
async function statusOnceLeading(cwd: string, env: NodeJS.ProcessEnv = {}): Promise<StatusJson> {
  let last: CliResult | null = null;
  return waitFor(
    async () => {
      last = await runCli(['status', '--json'], { cwd, env });
      if (last.code === 2) return undefined;
      const s = JSON.parse(last.stdout) as StatusJson;
      return s.leader?.valid && s.instances.some((x) => x.leader) ? s : undefined;
    },
    {
      timeout: 60_000,
      interval: 100,
      what: () => `status to show a leader; last: ${last?.stdout}${last?.stderr}`,
    },
  );
}

describe('prodmon status and stop', () => {
  test('status of a foreground prodmon start: running, its pid and URL, live health, never "not running"', async () => {
    const cwd = dir();
    const { child, result, url } = await startForeground(cwd);
    const s = await statusOnceLeading(cwd);
    assert.deepEqual(
      [s.daemon.running, s.daemon.mode, s.daemon.pid, s.daemon.url, s.statusFrom],
      [true, 'foreground', child.pid, url, 'daemon'],
    );
    assert.ok(
      s.instances.some((i) => i.pid === child.pid && i.leader),
      JSON.stringify(s.instances),
    );
    const text = await runCli(['status'], { cwd });
    assert.match(
      text.stdout,
      new RegExp(
        `monitor: +running in the foreground \\(prodmon start\\), pid ${child.pid}, ${url.replace(/\./g, '\\.')}`,
      ),
    );
    assert.doesNotMatch(text.stdout, /not running/);

    // A second start from the same data directory refuses instead of sharing its files.
    const second = await runCli(['start', '--port', '0'], { cwd });
    assert.equal(second.code, 1);
    assert.match(
      second.stderr,
      new RegExp(`prodmon is already running from .* \\(pid ${child.pid}, ${url}\\)`),
    );

    // stop ends a foreground start the same way as a daemon: SIGTERM, a graceful stop, the pid file removed.
    const stopped = await runCli(['stop'], { cwd, timeoutMs: 60_000 });
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(stopped.stdout, new RegExp(`prodmon \\(pid ${child.pid}\\) stopped gracefully`));
    assert.equal((await result).code, 0);
    assert.equal(existsSync(join(cwd, '.prodmon', 'prodmon.pid')), false);
    const gone = JSON.parse((await runCli(['status', '--json'], { cwd })).stdout) as StatusJson;
    assert.deepEqual([gone.daemon.running, gone.instances.length], [false, 0]);
  });

  test('status of a monitor embedded in an app (no pid file) shows it running; a row whose process exited is gone', async () => {
    const cwd = dir();
    const monitor = createApp(
      { data_dir: join(cwd, '.prodmon'), logs: { stdout: false }, health: { builtin_checks: false } },
      { env: {}, fileLogs: false },
    );
    await monitor.start();
    try {
      const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
      await monitor.store.instances.heartbeat(
        { id: 'crashed', host: hostname(), pid: gone, version: '0.1.0', startedAt: Date.now() },
        Date.now(),
      );
      const s = await statusOnceLeading(cwd);
      assert.deepEqual([s.daemon.running, s.daemon.mode, s.daemon.pid], [true, 'other', process.pid]);
      assert.deepEqual(s.instances.map((i) => [i.id === 'crashed' ? 'crashed' : 'monitor', i.alive]).sort(), [
        ['crashed', false],
        ['monitor', true],
      ]);
      const text = await runCli(['status'], { cwd });
      assert.match(
        text.stdout,
        new RegExp(`monitor: +running, pid ${process.pid} on this host, without a pid file here`),
      );
      assert.match(
        text.stdout,
        new RegExp(`crashed \\(pid ${gone}, v0\\.1\\.0, gone: pid ${gone} has exited`),
      );
      assert.doesNotMatch(text.stdout, /not running/);
    } finally {
      await monitor.stop();
    }
  });

  test('stop and status work with a ${VAR} unset that they do not need; one they need is a clear error', async () => {
    const cwd = dir();
    writeFileSync(
      join(cwd, 'prodmon.yaml'),
      [
        'auth:',
        '  tokens: [{ name: ops, token: "${STATUS_TEST_OPS_TOKEN}", role: admin }]',
        'notifications:',
        '  channels: [{ name: hook, kind: webhook, url: "${STATUS_TEST_HOOK_URL}" }]',
        'server: { prefix: "${STATUS_TEST_PREFIX:-/ops}" }',
        'logs: { stdout: false }',
        '',
      ].join('\n'),
    );
    const secrets = {
      STATUS_TEST_OPS_TOKEN: 'status-test-token-0123456789',
      STATUS_TEST_HOOK_URL: 'http://127.0.0.1:9/hook',
    };
    const { child, result } = await startForeground(cwd, secrets);
    // Neither variable is set for these two commands.
    const s = await statusOnceLeading(cwd);
    assert.deepEqual([s.daemon.running, s.daemon.pid, s.statusFrom], [true, child.pid, 'daemon']);
    const text = await runCli(['status'], { cwd });
    assert.notEqual(text.code, 2, text.stderr);
    assert.doesNotMatch(text.stderr, /not set/);
    const bare = await runCli(['stop', '--timeout', '30'], { cwd });
    assert.deepEqual(
      [bare.code, bare.stderr],
      [2, 'prodmon: --timeout: 30 has no unit; write "30s" (or "30ms")\n'],
    );
    const stopped = await runCli(['stop', '--timeout', '30s'], { cwd, timeoutMs: 60_000 });
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.equal((await result).code, 0);

    // A variable in a field they read is still required, and named: the data directory (both), the store (status).
    const need = (name: string, yaml: string) => {
      writeFileSync(join(cwd, `${name}.yaml`), yaml);
      return join(cwd, `${name}.yaml`);
    };
    const unset = (file: string, field: string, v: string) =>
      `${file}: ${field}: environment variable ${v} is not set (write \${${v}:-default} for a default)\n`;
    const dataDir = need(
      'dd',
      'data_dir: "${STATUS_TEST_DATA_DIR}"\nauth: { tokens: [{ name: a, token: "${STATUS_TEST_OPS_TOKEN}" }] }\n',
    );
    for (const cmd of ['status', 'stop']) {
      const r = await runCli([cmd, '--config', dataDir], { cwd });
      assert.deepEqual([r.code, r.stderr], [2, unset(dataDir, 'data_dir', 'STATUS_TEST_DATA_DIR')], cmd);
    }
    const pg = need('pg', 'store: { driver: postgres, url: "${STATUS_TEST_PG_URL}" }\n');
    const r = await runCli(['status', '--config', pg], { cwd });
    assert.deepEqual([r.code, r.stderr], [2, unset(pg, 'store.url', 'STATUS_TEST_PG_URL')]);
  });
});
