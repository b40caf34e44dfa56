import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { bundled } from '../../test/support/build.js';
import { finished } from '../../test/support/cli.js';
import { tempDir } from '../../test/support/services.js';
import { waitFor } from '../../test/support/wait.js';
import { FakeClock } from '../core/clock.js';
import { logsConfig } from './fixtures/read.js';
import { createProductionLogger } from './logger.js';

const CLI = fileURLToPath(new URL('./fixtures/logs-cli.ts', import.meta.url));
const data = tempDir('prodmon-cli-');
after(() => data.cleanup());

function prodmon(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [bundled(CLI), ...args], {
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { child, done: finished(child) };
}

describe('prodmon logs tail', () => {
  before(async () => {
    const logger = createProductionLogger({
      dir: join(data.path, 'logs'),
      config: logsConfig({ max_size: '2KB' }),
      clock: new FakeClock(Date.UTC(2026, 10, 26, 10, 0, 0)),
    });
    for (let i = 0; i < 40; i++) logger.app.info({ i }, `request ${i}`);
    logger.app.error({ i: 40 }, 'payment failed\n{"level":60,"msg":"forged"}');
    logger.security.warn({ user: 'ann' }, 'token rejected');
    logger.security.info({ user: 'bob' }, 'saw leaked-0123456789abcdef');
    await logger.close();
  });

  test('prints the last lines as text, oldest first, one line each', async () => {
    const r = await prodmon(['-d', data.path, 'logs', 'tail', '-n', '3']).done;
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trimEnd().split('\n'), [
      '2026-11-26T10:00:00.000Z INFO  request 38 {"i":38}',
      '2026-11-26T10:00:00.000Z INFO  request 39 {"i":39}',
      '2026-11-26T10:00:00.000Z ERROR payment failed\\n{"level":60,"msg":"forged"} {"i":40}',
    ]);
  });

  test('--json, --stream and --grep; reaches into rotated files', async () => {
    const r = await prodmon(['-d', data.path, 'logs', 'tail', '--json', '--grep', 'REQUEST 1', '-n', '100'])
      .done;
    assert.equal(r.code, 0, r.stderr);
    const lines = JSON.parse(r.stdout) as { i: number }[];
    assert.deepEqual(
      lines.map((l) => l.i),
      [1, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19],
    );
    const sec = await prodmon(['-d', data.path, 'logs', 'tail', '--stream', 'security', '--json']).done;
    assert.deepEqual(
      (JSON.parse(sec.stdout) as { msg: string }[]).map((l) => l.msg),
      ['token rejected', 'saw leaked-0123456789abcdef'],
    );
  });

  test('masks the config’s secrets even in lines written before the secret was configured', async () => {
    const config = join(data.path, 'prodmon.yaml');
    writeFileSync(config, 'auth:\n  tokens:\n    - { name: ops, token: "${OPS_TOKEN}", role: admin }\n');
    const env = { OPS_TOKEN: 'leaked-0123456789abcdef' };
    const r = await prodmon(['-c', config, '-d', data.path, 'logs', 'tail', '-s', 'security'], env).done;
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /leaked-0123456789abcdef/);
    assert.match(r.stdout, /INFO {2}saw \*{8} \{"user":"bob"\}/);
    const json = await prodmon(
      ['-c', config, '-d', data.path, 'logs', 'tail', '-s', 'security', '--json'],
      env,
    ).done;
    assert.doesNotMatch(json.stdout, /leaked-0123456789abcdef/);
  });

  test('a bad stream or line count is a usage error (exit 2)', async () => {
    const bad = await prodmon(['-d', data.path, 'logs', 'tail', '--stream', 'audit']).done;
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Allowed choices are application, error, performance, security/);
    assert.equal((await prodmon(['-d', data.path, 'logs', 'tail', '-n', '0']).done).code, 2);
    const many = await prodmon(['-d', data.path, 'logs', 'tail', '-n', '100001']).done;
    assert.equal(many.code, 2);
    assert.match(many.stderr, /--lines <n>.*expected a whole number of lines from 1 to 100000/);
    const long = await prodmon(['-d', data.path, 'logs', 'tail', '--since', '999999999d']).done;
    assert.equal(long.code, 2);
    assert.match(long.stderr, /--since <duration>.*at most 3650d/);
  });

  test('--follow prints lines written after it started, and stops on SIGINT with exit 0', async (t) => {
    const run = prodmon(['-d', data.path, 'logs', 'tail', '-n', '1', '--follow', '--json']);
    t.after(() => {
      if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    });
    let out = '';
    run.child.stdout!.on('data', (d) => {
      out += d;
    });
    const printed = (re: RegExp) =>
      waitFor(() => re.test(out), { what: () => `${re} in the output:\n${out}` });
    await printed(/"i":40/);
    const logger = createProductionLogger({
      dir: join(data.path, 'logs'),
      config: logsConfig({ max_size: '2KB' }),
      clock: new FakeClock(Date.UTC(2026, 10, 26, 10, 5, 0)),
    });
    logger.app.info({ i: 41 }, 'written while following');
    await logger.close();
    await printed(/"i":41/);
    run.child.kill('SIGINT');
    const r = await run.done;
    assert.equal(r.code, 0, r.stderr);
    const lines = out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { i: number });
    assert.deepEqual(
      lines.map((l) => l.i),
      [40, 41],
    );
  });
});
