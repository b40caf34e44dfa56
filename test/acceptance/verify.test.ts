/**
 * `prodmon verify` as a pipeline runs it: the real CLI in a child process against a real started
 * prodmon — a service with prodmon embedded (test/support/gate.ts: its check, its failures and its
 * reachability switched by the test) reached with `--url` and a token, and a `prodmon start` found
 * without `--url` from its data directory. Short windows in real time, polled every 200 ms.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { finished, killIfRunning, runCli, spawnCli, waitForOutput } from '../support/cli.js';
import { type GateService, gateService, PUSH_TOKEN, READ_TOKEN } from '../support/gate.js';
import { tempDir } from '../support/services.js';

/** No URL or token from the environment the tests run in. */
const CLEAN = { PRODMON_URL: '', PRODMON_TOKEN: '' };
const FAST = ['--interval', '200ms'];
const WATCHING = /watching the health and critical alerts for/;

const services: GateService[] = [];
const children: ReturnType<typeof spawnCli>[] = [];
after(async () => {
  for (const c of children) killIfRunning(c);
  await Promise.all(services.map((s) => s.close()));
});
async function service(o: Parameters<typeof gateService>[0] = {}): Promise<GateService> {
  const s = await gateService(o);
  services.push(s);
  return s;
}
/** `prodmon verify ...args` running in the background, with its result to come. */
function verify(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string) {
  const child = spawnCli(['verify', ...args], { env: { ...CLEAN, ...env }, cwd });
  children.push(child);
  return { child, result: finished(child) };
}

interface Verdict {
  result: string;
  exitCode: number;
  reason: string;
  windowStart: string | null;
  windowEnd: string | null;
  polls: number;
  failure: { kind: string; alerts: { rule: string; alreadyFiring: boolean }[] } | null;
}

describe('prodmon verify', () => {
  test('a healthy service over a short window: exit 0, the window watched to its end (PRODMON_URL, PRODMON_TOKEN)', async () => {
    const svc = await service();
    const r = await runCli(['verify', '--for', '3s', ...FAST, '--json'], {
      env: { PRODMON_URL: svc.url, PRODMON_TOKEN: READ_TOKEN },
      timeoutMs: 90_000,
    });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const v = JSON.parse(r.stdout) as Verdict;
    assert.equal(v.result, 'passed');
    // prodmon's own clock: the window really lasted --for, from the first healthy answer to the last poll.
    assert.ok(
      Date.parse(v.windowEnd!) - Date.parse(v.windowStart!) >= 3000,
      `${v.windowStart} ${v.windowEnd}`,
    );
    // The healthy answer and the last poll at least; how many between depends on the machine's load.
    assert.ok(v.polls >= 2, `${v.polls} polls`);
    assert.match(
      r.stderr,
      new RegExp(`^prodmon verify: ${svc.url} \\(from PRODMON_URL; token from PRODMON_TOKEN\\)`),
    );
    assert.match(r.stderr, /healthy after \S+; watching the health and critical alerts for 3s/);
  });

  test('a critical alert firing inside the window fails it, naming the alert; then one already firing when the window starts', async () => {
    const svc = await service();
    const { child, result } = verify(['--url', svc.url, '--token', READ_TOKEN, '--for', '2m', ...FAST]);
    await waitForOutput(child, WATCHING, 60_000);
    await svc.fail(40); // 40 failed requests in error_rate's 5 min window: 8 per minute, critical from 5
    const r = await result;
    assert.equal(r.code, 1, r.stderr + r.stdout);
    assert.match(
      r.stdout,
      /^FAILED: critical alert "error_rate" \(al_\w+\) fired at \d{4}-\d\d-\d\dT[\d:.]+Z: .*failed requests per minute/,
    );

    // Still firing: the next deploy's gate fails at the start of its window, whoever caused the alert.
    assert.ok((await svc.activeAlerts()).some((a) => a.rule === 'error_rate' && a.status === 'firing'));
    const again = await runCli(
      ['verify', '--url', svc.url, '--token', READ_TOKEN, '--for', '1m', ...FAST, '--json'],
      {
        env: CLEAN,
        timeoutMs: 90_000,
      },
    );
    assert.equal(again.code, 1, again.stderr + again.stdout);
    const v = JSON.parse(again.stdout) as Verdict;
    assert.deepEqual(
      v.failure?.alerts.map((a) => [a.rule, a.alreadyFiring]),
      [['error_rate', true]],
    );
    assert.match(
      v.reason,
      /critical alert "error_rate" .* was already firing when the window started \(since /,
    );
  });

  test('health falling back inside the window fails it, naming the check and its error; --timeout bounds the wait for healthy', async () => {
    const svc = await service();
    const watch = verify(['--url', svc.url, '--token', READ_TOKEN, '--for', '2m', ...FAST]);
    await waitForOutput(watch.child, WATCHING, 60_000);
    await svc.setCheck('database connection lost');
    const r = await watch.result;
    assert.equal(r.code, 1, r.stderr + r.stdout);
    assert.match(
      r.stdout,
      /^FAILED: health unhealthy: check "app" unhealthy: database connection lost at \S+Z\n$/,
    );

    // Unhealthy and staying so: given up after --timeout.
    const late = await runCli(
      ['verify', '--url', svc.url, '--token', READ_TOKEN, '--timeout', '2s', ...FAST],
      {
        env: CLEAN,
        timeoutMs: 90_000,
      },
    );
    assert.equal(late.code, 1, late.stderr + late.stdout);
    assert.equal(
      late.stdout,
      'FAILED: not healthy within 2s (--timeout): health unhealthy: check "app" unhealthy: database connection lost\n',
    );
    assert.match(late.stderr, /not yet: health unhealthy: check "app" unhealthy: database connection lost/);

    // Healthy within --timeout: the window starts then, and passes.
    const waiting = verify([
      '--url',
      svc.url,
      '--token',
      READ_TOKEN,
      '--timeout',
      '2m',
      '--for',
      '1s',
      ...FAST,
    ]);
    await waitForOutput(waiting.child, /not yet: health unhealthy/, 60_000);
    await svc.setCheck(null);
    const ok = await waiting.result;
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
    assert.match(ok.stdout, /^PASSED: .* was healthy for 1s/);
  });

  test('prodmon unreachable past --timeout: exit 1 with its own message; back within it: the gate goes on', async () => {
    const svc = await service();
    svc.down = true;
    const r = await runCli(['verify', '--url', svc.url, '--token', READ_TOKEN, '--timeout', '2s', ...FAST], {
      env: CLEAN,
      timeoutMs: 90_000,
    });
    assert.equal(r.code, 1, r.stderr + r.stdout);
    assert.match(
      r.stdout,
      new RegExp(
        `^FAILED: cannot reach prodmon at ${svc.url} \\(from --url\\) while waiting for it to be healthy: .+; no answer for \\d+m?s, given up after 2s \\(--timeout\\)\\. The deployment could not be verified: counted as a failure\\n$`,
      ),
    );
    assert.match(r.stderr, /cannot reach prodmon at .*; retrying every 200ms for up to 2s \(--timeout\)/);

    const back = verify(['--url', svc.url, '--token', READ_TOKEN, '--timeout', '2m', '--for', '1s', ...FAST]);
    await waitForOutput(back.child, /cannot reach prodmon/, 60_000);
    svc.down = false;
    const ok = await back.result;
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
    assert.match(ok.stderr, /prodmon answers again, after \S+ without an answer/);
  });

  test('a token prodmon refuses is a configuration error (exit 2), nothing on stdout', async () => {
    const svc = await service();
    const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
      runCli(['verify', '--url', svc.url, ...args], { env: { ...CLEAN, ...env }, timeoutMs: 90_000 });
    const [none, wrong, push] = await Promise.all([
      run([]),
      run([], { PRODMON_TOKEN: 'not-a-token-of-this-prodmon' }),
      run(['--token', PUSH_TOKEN]),
    ]);
    for (const r of [none, wrong, push]) {
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, '');
    }
    const how = '; pass a token with the read role: --token, or PRODMON_TOKEN\n';
    assert.ok(
      none.stderr.endsWith(
        `prodmon: prodmon at ${svc.url} needs a token (401: a valid bearer token is required (Authorization: Bearer <token>))${how}`,
      ),
      none.stderr,
    );
    assert.ok(
      wrong.stderr.endsWith(
        `prodmon: prodmon at ${svc.url} did not accept the token from PRODMON_TOKEN (401: a valid bearer token is required (Authorization: Bearer <token>))${how}`,
      ),
      wrong.stderr,
    );
    assert.doesNotMatch(wrong.stderr, /not-a-token-of-this-prodmon/);
    assert.ok(
      push.stderr.endsWith(
        `prodmon: prodmon at ${svc.url} refused the token from --token (403: token "agent" has role "push"; this needs "read")${how}`,
      ),
      push.stderr,
    );
  });

  test('bad options exit 2 naming the option', async () => {
    const [noUnit, level, url] = await Promise.all([
      runCli(['verify', '--url', 'http://127.0.0.1:9', '--for', '30'], { env: CLEAN, timeoutMs: 90_000 }),
      runCli(['verify', '--url', 'http://127.0.0.1:9', '--fail-on', 'never'], {
        env: CLEAN,
        timeoutMs: 90_000,
      }),
      runCli(['verify', '--url', '127.0.0.1:9464'], { env: CLEAN, timeoutMs: 90_000 }),
    ]);
    assert.deepEqual([noUnit.code, level.code, url.code], [2, 2, 2]);
    assert.match(noUnit.stderr, /^prodmon: --for: 30 has no unit; write "30s" \(or "30ms"\)$/m);
    assert.match(level.stderr, /option '--fail-on <level>' argument 'never' is invalid/);
    assert.match(url.stderr, /^prodmon: --url: expected prodmon's base URL such as/m);
  });
});

describe('prodmon verify without --url', () => {
  const dir = tempDir();
  let start: ReturnType<typeof spawnCli>;
  let exited: ReturnType<typeof finished>;
  let url = '';
  before(async () => {
    writeFileSync(
      join(dir.path, 'prodmon.yaml'),
      [
        'logs: { stdout: false }',
        'health: { builtin_checks: false }',
        'alerting:',
        '  thresholds:',
        ...[
          'api_response_time',
          'database_query_time',
          'memory_usage',
          'cpu_usage',
          'error_rate',
          'disk_usage',
        ].map((t) => `    ${t}: { enabled: false }`),
        '',
      ].join('\n'),
    );
    start = spawnCli(['start', '--port', '0'], { cwd: dir.path });
    exited = finished(start);
    [, url] = (await waitForOutput(start, /listening on (http:\/\/127\.0\.0\.1:\d+)/, 60_000)) as unknown as [
      string,
      string,
    ];
  });
  after(async () => {
    killIfRunning(start);
    start?.kill('SIGTERM');
    await exited;
    dir.cleanup();
  });

  test('finds the running prodmon start of the data directory and its first-run token', async () => {
    const r = await runCli(['verify', '--for', '2s', ...FAST], {
      cwd: dir.path,
      env: CLEAN,
      timeoutMs: 90_000,
    });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(
      r.stderr,
      new RegExp(
        `^prodmon verify: ${url} \\(from the prodmon running from ${dir.path}/\\.prodmon \\(pid ${start.pid}\\); token from the first-run token \\(${dir.path}/\\.prodmon/first-run-token\\)\\)`,
      ),
    );
    assert.match(r.stdout, new RegExp(`^PASSED: ${url} was healthy for 2s`));
  });
});
